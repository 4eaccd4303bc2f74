"""The ASGI application: Django for HTTP, the apps' websocket routes behind the origin check."""

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter

from marcus_site.asgi_handler import SingleHopASGIHandler
from marcus_site.fast_endpoints import FastRouter
from marcus_site.websocket_origin import OriginValidator


def websocket_urlpatterns() -> list:
    from cato_api.routing import websocket_urlpatterns as cato

    return cato


def fast_endpoints() -> list:
    from backend.ingest import TELEMETRY_BATCH_INGEST
    from cato_api.ingest import SYSTEM_EVENTS_INGEST
    from research.ingest import RESEARCH_INGEST

    return [RESEARCH_INGEST, SYSTEM_EVENTS_INGEST, TELEMETRY_BATCH_INGEST]


def build_application() -> ProtocolTypeRouter:
    """Needs the app registry loaded (django.setup()), since it imports the consumers."""
    return ProtocolTypeRouter(
        {
            "http": FastRouter(SingleHopASGIHandler(), fast_endpoints()),
            "websocket": OriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns()))),
        }
    )
