"""Organiser pages of the exports domain, under /manage/."""

from flask import Blueprint

manage_bp = Blueprint("exports", __name__, url_prefix="/exports")
