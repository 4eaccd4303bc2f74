"""``Authorization: Bearer <key>`` for Django REST framework, the fast write endpoints and the
websocket (``?token=``)."""

from rest_framework import authentication, exceptions

from api_keys.cache import cached_key, forget_key, remember_key
from api_keys.models import ApiKey, ApiKeyUser, hash_key
from api_keys.selectors import api_key_find
from api_keys.services import api_key_mark_used

MAX_KEY_LENGTH = 200
KEYWORD = "Bearer"
CHALLENGE = f'{KEYWORD} realm="api"'


class KeyRejected(Exception):
    """A key was presented but cannot be used; the message says why."""


class NoKey(Exception):
    """No ``Authorization: Bearer`` header at all."""


def bearer_key(header_value: str) -> str:
    """The key of an ``Authorization`` header; ``NoKey`` when it is not a Bearer header."""
    parts = header_value.split()
    if not parts or parts[0].lower() != KEYWORD.lower():
        raise NoKey
    if len(parts) != 2:
        raise KeyRejected("Invalid Authorization header: expected 'Bearer <key>'.")
    return parts[1]


def api_key_check(raw_key: str) -> ApiKey:
    """The active key matching ``raw_key``; raises ``KeyRejected`` with the reason otherwise."""
    if not raw_key or len(raw_key) > MAX_KEY_LENGTH or not raw_key.isascii():
        raise KeyRejected("Invalid API key.")
    hashed = hash_key(raw_key)
    cached = cached_key(hashed)
    if cached is not None:
        return cached
    api_key = api_key_find(raw_key=raw_key)
    if api_key is None:
        raise KeyRejected("Invalid API key.")
    if not api_key.is_active:
        forget_key(hashed)
        raise KeyRejected("This API key has been revoked.")
    api_key_mark_used(api_key=api_key)
    remember_key(api_key)
    return api_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = KEYWORD

    def authenticate(self, request):
        try:
            api_key = api_key_check(bearer_key(str(request.META.get("HTTP_AUTHORIZATION", ""))))
        except NoKey:
            return None
        except KeyRejected as rejection:
            raise exceptions.AuthenticationFailed(str(rejection)) from None
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when credentials are missing or wrong.
        return CHALLENGE
