"""Organiser accounts: creation, password checks and session rotation."""

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from placeevents.addresses import normalise_email
from placeevents.auth.models import Organiser, new_session_token
from placeevents.clock import utcnow
from placeevents.extensions import db


class OrganiserError(ValueError):
    """An organiser account cannot be created or changed as asked."""


MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def create_organiser(*, email: str, name: str, password: str) -> Organiser:
    """Add an organiser who can sign in with this email and password."""
    email = normalise_email(email)
    if "@" not in email:
        raise OrganiserError("Enter an email address.")
    if not name.strip():
        raise OrganiserError("Enter a name.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise OrganiserError(f"Use a password of at least {MIN_PASSWORD_LENGTH} characters.")
    if db.session.scalar(select(Organiser.id).where(Organiser.email == email)):
        raise OrganiserError(f"An organiser with the email {email} already exists.")
    organiser = Organiser(email=email, name=name.strip(), password_hash=hash_password(password))
    db.session.add(organiser)
    db.session.flush()
    return organiser


def authenticate(*, email: str, password: str) -> Organiser | None:
    """The organiser for these credentials, or None (the same for unknown and wrong)."""
    organiser = db.session.scalar(
        select(Organiser).where(func.lower(Organiser.email) == normalise_email(email))
    )
    if organiser is None or not organiser.active:
        # Spend the same time as a real check so response times do not reveal accounts.
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(organiser.password_hash, password):
        return None
    organiser.last_login_at = utcnow()
    return organiser


_DUMMY: dict[str, str] = {}


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY:
        _DUMMY[method] = generate_password_hash("not-a-password", method=method)
    return _DUMMY[method]


def end_sessions(organiser: Organiser) -> None:
    """Invalidate every login cookie issued to this organiser."""
    organiser.session_token = new_session_token()


def load_organiser(user_id: str) -> Organiser | None:
    """Flask-Login's loader: the id and the session token must both match."""
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit() or not token:
        return None
    organiser = db.session.get(Organiser, int(raw_id))
    if organiser is None or organiser.session_token != token or not organiser.active:
        return None
    return organiser
