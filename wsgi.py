"""The WSGI entry point: gunicorn wsgi:app (PLACEEVENTS_ENV defaults to production here)."""

import os

from placeevents import create_app

app = create_app({"PLACEEVENTS_ENV": os.environ.get("PLACEEVENTS_ENV", "production")})
