"""ASGI entry point (production: gunicorn -k uvicorn_worker.UvicornWorker bitethemenu.asgi).

Under ASGI the API's paid calls, which await their job, hold no thread while they wait."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bitethemenu.settings")
application = get_asgi_application()
