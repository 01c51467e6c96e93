"""Pages of the calendar domain: public (bp) and organiser pages under /manage/ (manage_bp)."""

from flask import Blueprint

bp = Blueprint("calendar", __name__)
manage_bp = Blueprint("calendar", __name__, url_prefix="/calendar")
