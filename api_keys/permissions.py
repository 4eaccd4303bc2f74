"""Who may do what under /api/ (api.md, Authentication)."""

from rest_framework import permissions

from api_keys.models import ApiKey
from marcus_site.conf import marcus_setting


def has_api_key(request) -> bool:
    return isinstance(request.auth, ApiKey)


class ApiAccess(permissions.BasePermission):
    """Writes need an API key; reads need a key or a logged-in session, unless public."""

    message = "Writes need an API key: send 'Authorization: Bearer <key>'."

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            if marcus_setting("PUBLIC_READ"):
                return True
            self.message = "Reads need an API key ('Authorization: Bearer <key>') or a login."
            return bool(request.user and request.user.is_authenticated)
        return has_api_key(request)


class AdminApiKey(permissions.BasePermission):
    """Only an admin key (``create_api_key --admin``)."""

    message = "This needs an admin API key (manage.py create_api_key NAME --admin)."

    def has_permission(self, request, view) -> bool:
        return has_api_key(request) and request.auth.is_admin


class Public(permissions.BasePermission):
    """Open to anyone: endpoints protected by other means (validation, size, rate limit)."""

    def has_permission(self, request, view) -> bool:
        return True
