"""ASGI entry point: HTTP through Django, websockets through Channels (served by Daphne)."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marcus_site.settings")

import django

# What get_asgi_application() does first: load settings and apps, before any consumer import.
django.setup(set_prefix=False)

from marcus_site.startup import require_production_secret_key  # noqa: E402

require_production_secret_key()

from marcus_site.routing import build_application  # noqa: E402

application = build_application()

# Everything loaded so far lives as long as the process: keep it out of the garbage
# collector's full passes, whose pauses otherwise land on the live feed's latency.
gc.collect()
gc.freeze()
