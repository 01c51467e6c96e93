"""The bounce list: addresses the mail server refused permanently, skipped by later sends."""

from collections.abc import Iterable

from sqlalchemy import Select, select

from placeevents.addresses import normalise_email
from placeevents.extensions import db
from placeevents.mail.models import Bounce


def bounced_among(emails: Iterable[str]) -> set[str]:
    """Which of these (normalised) addresses are on the bounce list."""
    wanted = {normalise_email(e) for e in emails}
    if not wanted:
        return set()
    return set(db.session.scalars(select(Bounce.email).where(Bounce.email.in_(wanted))))


def bounced_addresses() -> Select[tuple[str]]:
    """Every address on the bounce list, as a subquery other domains leave out in SQL."""
    return select(Bounce.email)


def record_bounce(*, email: str, reason: str) -> Bounce:
    """Put an address on the bounce list (or refresh its reason)."""
    email = normalise_email(email)
    bounce = db.session.scalar(select(Bounce).where(Bounce.email == email))
    if bounce is None:
        bounce = Bounce(email=email, reason=reason)
        db.session.add(bounce)
    else:
        bounce.reason = reason
    db.session.flush()
    return bounce


def list_bounces() -> list[Bounce]:
    """Every address on the bounce list, newest first."""
    return list(db.session.scalars(select(Bounce).order_by(Bounce.created_at.desc(), Bounce.id)))


def remove_bounce(*, bounce_id: int) -> Bounce | None:
    """Take an address off the bounce list (it was mistyped and fixed, or the server recovered)."""
    bounce = db.session.get(Bounce, bounce_id)
    if bounce is not None:
        db.session.delete(bounce)
        db.session.flush()
    return bounce
