"""The websocket origin rule of api.md.

A browser always sends ``Origin``; it must name an allowed host (``ALLOWED_HOSTS``) or a trusted
origin (``CSRF_TRUSTED_ORIGINS``). Marcus and scripts are not browsers and send none: they are
let through, and the consumer then requires a valid key. Channels' ``AllowedHostsOriginValidator``
would refuse them, so this is its counterpart.
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


def origin_allowed(origin: str) -> bool:
    """Whether a browser's ``Origin`` header value may open a websocket."""
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    host, _port = split_domain_port(parts.netloc)
    return bool(host) and validate_host(host, settings.ALLOWED_HOSTS)


class OriginValidator:
    """ASGI middleware that denies a websocket whose ``Origin`` is not allowed."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            origin = None
            for name, value in scope.get("headers", []):
                if name == b"origin":
                    origin = value.decode("latin1")
                    break
            if origin is not None and not origin_allowed(origin):
                denier = WebsocketDenier()
                return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
