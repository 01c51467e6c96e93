"""Pages of the invitations domain: public (bp) and organiser pages under /manage/ (manage_bp)."""

from flask import Blueprint

bp = Blueprint("invitations", __name__)
manage_bp = Blueprint("invitations", __name__, url_prefix="/invitations")
