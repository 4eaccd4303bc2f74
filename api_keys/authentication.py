"""``Authorization: Bearer <key>`` for Django REST framework (and the websocket, by token)."""

from rest_framework import authentication, exceptions

from api_keys.models import ApiKey, ApiKeyUser
from api_keys.selectors import api_key_find
from api_keys.services import api_key_mark_used

MAX_KEY_LENGTH = 200


class KeyRejected(Exception):
    """A key was presented but cannot be used; the message says why."""


def api_key_check(raw_key: str) -> ApiKey:
    """The active key matching ``raw_key``; raises ``KeyRejected`` with the reason otherwise."""
    if not raw_key or len(raw_key) > MAX_KEY_LENGTH or not raw_key.isascii():
        raise KeyRejected("Invalid API key.")
    api_key = api_key_find(raw_key=raw_key)
    if api_key is None:
        raise KeyRejected("Invalid API key.")
    if not api_key.is_active:
        raise KeyRejected("This API key has been revoked.")
    api_key_mark_used(api_key=api_key)
    return api_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = str(request.META.get("HTTP_AUTHORIZATION", "")).split()
        if not header or header[0].lower() != self.keyword.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: expected 'Bearer <key>'."
            )
        raw_key = header[1]
        try:
            api_key = api_key_check(raw_key)
        except KeyRejected as rejection:
            raise exceptions.AuthenticationFailed(str(rejection)) from None
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when credentials are missing or wrong.
        return f'{self.keyword} realm="api"'
