"""ASGI entry point: HTTP through Django, websockets through Channels (served by Daphne)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marcus_site.settings")

from django.core.asgi import get_asgi_application

# Loads the settings and the app registry; must run before any consumer is imported.
django_asgi_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from marcus_site.routing import websocket_application  # noqa: E402
from marcus_site.startup import require_production_secret_key  # noqa: E402

require_production_secret_key()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_application,
        "websocket": websocket_application,
    }
)
