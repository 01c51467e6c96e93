"""Pages of the newsletter domain: public (bp) and organiser pages under /manage/ (manage_bp)."""

from flask import Blueprint

bp = Blueprint("newsletter", __name__)
manage_bp = Blueprint("newsletter", __name__, url_prefix="/newsletter")
