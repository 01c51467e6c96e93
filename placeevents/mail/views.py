"""Pages of the mail domain: public (bp) and organiser pages under /manage/ (manage_bp)."""

from flask import Blueprint

bp = Blueprint("mail", __name__)
manage_bp = Blueprint("mail", __name__, url_prefix="/mail")
