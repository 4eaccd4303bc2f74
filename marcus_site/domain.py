"""Errors that services raise; the API layer turns each into its status (marcus_site.errors)."""


class DomainError(Exception):
    """Base class: ``str(error)`` is the message shown to the client."""


class NotFound(DomainError):
    """An id that is not stored (404)."""


class Conflict(DomainError):
    """The action does not fit the current state (409)."""


class Invalid(DomainError):
    """Input that passed the schema but breaks a rule that needs the database (400).

    ``field`` names the offending field when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class Unavailable(DomainError):
    """A dependency (Redis, say) is down (503)."""
