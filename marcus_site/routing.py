"""Websocket routes of every app, behind the origin check of api.md."""

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter

from marcus_site.websocket_origin import OriginValidator

websocket_urlpatterns: list = []

websocket_application = OriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
