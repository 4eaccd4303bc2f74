"""Checks that make the server refuse to start in an unsafe configuration."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def require_production_secret_key() -> None:
    """With DEBUG off, serving requires a SECRET_KEY from the environment."""
    if not settings.DEBUG and not settings.SECRET_KEY_FROM_ENVIRONMENT:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off the server needs a secret key from the "
            "environment: export SECRET_KEY=<a long random string> (scripts/run makes one for "
            "local use), or set DEBUG=true for development."
        )
