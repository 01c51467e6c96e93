"""Organiser pages of the audit domain, under /manage/."""

from flask import Blueprint

manage_bp = Blueprint("audit", __name__, url_prefix="/audit")
