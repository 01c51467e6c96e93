"""Sign-in sessions as rows: started at sign-in, seen on each request, ended one by one.

A session ends after PLACEEVENTS_SESSION_IDLE_HOURS without a request, and in any case
PLACEEVENTS_SESSION_MAX_DAYS after it began.
"""

from datetime import datetime, timedelta

from flask import current_app, request
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from placeevents.auth.models import Organiser, OrganiserSession
from placeevents.clock import utcnow
from placeevents.db import bookkeeping_write
from placeevents.extensions import db

# When a session was last seen is written at most this often, not on every request.
SEEN_EVERY = timedelta(minutes=1)


def idle_limit() -> timedelta:
    return timedelta(hours=current_app.config["PLACEEVENTS_SESSION_IDLE_HOURS"])


def max_age() -> timedelta:
    return timedelta(days=current_app.config["PLACEEVENTS_SESSION_MAX_DAYS"])


def is_live(row: OrganiserSession, now: datetime) -> bool:
    """Whether the session is still within its idle and absolute limits."""
    return now - row.last_seen_at < idle_limit() and now - row.created_at < max_age()


def start_session(*, organiser: Organiser) -> OrganiserSession:
    """A new session for this browser; the organiser's expired ones are cleared away."""
    now = utcnow()
    for old in list(organiser.sessions):
        if not is_live(old, now):
            db.session.delete(old)
    row = OrganiserSession(
        organiser=organiser,
        created_at=now,
        last_seen_at=now,
        user_agent=(request.user_agent.string or "")[:300],
        client_address=(request.remote_addr or "")[:64],
    )
    db.session.add(row)
    db.session.flush()
    organiser.session_key = row.key
    return row


def live_sessions(*, organiser: Organiser) -> list[OrganiserSession]:
    """The organiser's sessions that have not expired, most recently seen first."""
    now = utcnow()
    rows = db.session.scalars(
        select(OrganiserSession)
        .where(OrganiserSession.organiser_id == organiser.id)
        .order_by(OrganiserSession.last_seen_at.desc(), OrganiserSession.id.desc())
    )
    return [row for row in rows if is_live(row, now)]


def end_session(*, organiser: Organiser, session_id: int) -> bool:
    """End one of the organiser's sessions; False if there was no such session."""
    ended = db.session.execute(
        delete(OrganiserSession).where(
            OrganiserSession.id == session_id, OrganiserSession.organiser_id == organiser.id
        )
    )
    db.session.expire(organiser, ["sessions"])
    return bool(ended.rowcount)


def end_sessions(*, organiser: Organiser, keep: str = "") -> int:
    """End every session of the organiser but the one with the key `keep`; returns how many."""
    query = delete(OrganiserSession).where(OrganiserSession.organiser_id == organiser.id)
    if keep:
        query = query.where(OrganiserSession.key != keep)
    ended = db.session.execute(query)
    db.session.expire(organiser, ["sessions"])
    return ended.rowcount


def end_current_session(*, organiser: Organiser) -> None:
    """End the session this request runs in (signing out)."""
    db.session.execute(
        delete(OrganiserSession).where(OrganiserSession.key == organiser.session_key)
    )
    db.session.expire(organiser, ["sessions"])


def load_organiser(user_id: str) -> Organiser | None:
    """Flask-Login's loader: the session row must exist, be live, and its organiser active."""
    raw_id, _, key = user_id.partition(":")
    if not raw_id.isdigit() or not key:
        return None
    row = db.session.scalar(
        select(OrganiserSession)
        .where(OrganiserSession.key == key)
        .options(joinedload(OrganiserSession.organiser))
    )
    now = utcnow()
    if row is None or row.organiser_id != int(raw_id) or not is_live(row, now):
        return None
    organiser = row.organiser
    if not organiser.active:
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        _record_seen(row.id, now)
        organiser = db.session.get(Organiser, int(raw_id))
        if organiser is None:
            return None
    organiser.session_key = key
    return organiser


def _record_seen(session_id: int, now: datetime) -> None:
    # Bookkeeping, not a change a visitor makes: allowed on a GET, in a transaction of its own.
    # The loader runs before any view (see views.load_session_early), so nothing is pending.
    db.session.commit()
    with bookkeeping_write():
        db.session.execute(
            update(OrganiserSession)
            .where(OrganiserSession.id == session_id)
            .values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
