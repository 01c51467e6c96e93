"""The bounce list: addresses the mail server refused permanently, skipped by later sends."""

from collections.abc import Iterable

from sqlalchemy import select

from placeevents.extensions import db
from placeevents.mail.models import Bounce


def bounced_among(emails: Iterable[str]) -> set[str]:
    """Which of these (normalised) addresses are on the bounce list."""
    wanted = {e.strip().lower() for e in emails}
    if not wanted:
        return set()
    return set(db.session.scalars(select(Bounce.email).where(Bounce.email.in_(wanted))))


def record_bounce(*, email: str, reason: str) -> Bounce:
    """Put an address on the bounce list (or refresh its reason)."""
    email = email.strip().lower()
    bounce = db.session.scalar(select(Bounce).where(Bounce.email == email))
    if bounce is None:
        bounce = Bounce(email=email, reason=reason)
        db.session.add(bounce)
    else:
        bounce.reason = reason
    db.session.flush()
    return bounce
