"""Erasing a person from the mailing list's tables; only a hashed suppression stays."""

from dataclasses import dataclass

from sqlalchemy import Delete, delete, select

from placeevents.extensions import db
from placeevents.mail.erasure import like_pattern
from placeevents.newsletter.models import (
    DoNotInvite,
    ImportBatch,
    ImportStatus,
    StandingInvitation,
    Subscriber,
    Suppression,
)
from placeevents.newsletter.services import suppression_hash


@dataclass(frozen=True)
class SubscriberErased:
    """What the mailing list removed for an address, and the names it knew them by."""

    subscribers: int
    do_not_invite: int
    import_previews: int
    names: set[str]


def _delete(statement: Delete) -> int:
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount or 0


def erase_subscriber(*, email: str) -> SubscriberErased:
    """Delete the address's subscription, refusals and import previews; suppress it for good."""
    names = set(db.session.scalars(select(Subscriber.name).where(Subscriber.email == email)))
    ids = select(Subscriber.id).where(Subscriber.email == email)
    _delete(delete(StandingInvitation).where(StandingInvitation.subscriber_id.in_(ids)))
    subscribers = _delete(delete(Subscriber).where(Subscriber.email == email))
    refusals = _delete(delete(DoNotInvite).where(DoNotInvite.email == email))
    previews = _delete(
        delete(ImportBatch).where(
            ImportBatch.status == ImportStatus.PREVIEW,
            ImportBatch.content.ilike(like_pattern(email), escape="\\"),
        )
    )
    digest = suppression_hash(email)
    if db.session.scalar(select(Suppression.id).where(Suppression.email_hash == digest)) is None:
        db.session.add(Suppression(email_hash=digest, reason="erased"))
    db.session.flush()
    return SubscriberErased(subscribers, refusals, previews, names)
