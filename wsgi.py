"""The WSGI entry point: gunicorn wsgi:app (PLACEEVENTS_ENV defaults to production)."""

from placeevents import create_app

app = create_app()
