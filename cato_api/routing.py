from django.urls import path

from cato_api.consumers import LiveFeedConsumer

websocket_urlpatterns = [
    path("ws/cato/events/", LiveFeedConsumer.as_asgi()),
]
