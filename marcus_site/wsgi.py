"""WSGI entry point, for tools that speak WSGI; the server itself runs under Daphne (ASGI)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marcus_site.settings")

application = get_wsgi_application()
