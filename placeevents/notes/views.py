"""Pages of the notes domain: public (bp) and organiser pages under /manage/ (manage_bp)."""

from flask import Blueprint

bp = Blueprint("notes", __name__)
manage_bp = Blueprint("notes", __name__, url_prefix="/notes")
