"""Browsers an organiser has signed in from before, marked with a signed, long-lived cookie.

The mark is no login: it only lets its browser past the account-wide limit on failed logins,
so strangers guessing an organiser's password cannot lock them out of the browser they use.
"""

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from placeevents.addresses import normalise_email
from placeevents.auth.models import Organiser
from placeevents.extensions import db

COOKIE_NAME = "known_browser"
COOKIE_PATH = "/login"
MAX_AGE_SECONDS = 365 * 24 * 3600
_SALT = "known-browser"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def remember_browser(response: Response, organiser: Organiser) -> None:
    """Mark the browser that just signed in as one this organiser uses (for a year)."""
    response.set_cookie(
        COOKIE_NAME,
        _serializer().dumps(organiser.id),
        max_age=MAX_AGE_SECONDS,
        path=COOKIE_PATH,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",
    )


def is_known_browser(email: str) -> bool:
    """Whether this request comes from a browser that has signed in to the account `email`."""
    mark = request.cookies.get(COOKIE_NAME)
    if not mark:
        return False
    try:
        organiser_id = _serializer().loads(mark, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        return False
    if not isinstance(organiser_id, int):
        return False
    organiser = db.session.get(Organiser, organiser_id)
    return organiser is not None and organiser.email == normalise_email(email)
