"""Standing invitations: subscribers who asked to be invited to every exploration of an enquiry.

This module keeps the choices; newsletter.services offers the use cases (the preferences page,
the page linked from the welcome mail, the RSVP page's button) and the invitations domain reads
who to invite (see services.standing_subscribers) and does the inviting.
"""

from collections.abc import Collection
from functools import cache

from sqlalchemy import ColumnElement, Select, bindparam, delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from placeevents.enquiries.models import Enquiry, EnquiryStatus
from placeevents.extensions import db
from placeevents.newsletter.models import StandingInvitation, Subscriber, SubscriberStatus


def offered_enquiries() -> list[Enquiry]:
    """The enquiries a subscriber may ask to be invited to throughout: the current ones."""
    return list(
        db.session.scalars(
            select(Enquiry)
            .where(Enquiry.status == EnquiryStatus.CURRENT)
            .order_by(Enquiry.created_at, Enquiry.id)
        )
    )


def offered_enquiry(enquiry_id: int) -> Enquiry | None:
    """The current enquiry with this id, or None."""
    enquiry = db.session.get(Enquiry, enquiry_id)
    return enquiry if enquiry is not None and enquiry.status == EnquiryStatus.CURRENT else None


def chosen_enquiry_ids(subscriber: Subscriber) -> set[int]:
    """The enquiries this subscriber asked to be invited to throughout."""
    return set(
        db.session.scalars(
            select(StandingInvitation.enquiry_id).where(
                StandingInvitation.subscriber_id == subscriber.id
            )
        )
    )


@cache
def _confirmed_and_chosen() -> Select[tuple[SubscriberStatus, bool]]:
    # Built once on first use: every RSVP page view asks it.
    chosen = (
        select(StandingInvitation.id)
        .where(
            StandingInvitation.subscriber_id == Subscriber.id,
            StandingInvitation.enquiry_id == bindparam("enquiry_id"),
        )
        .exists()
    )
    return select(Subscriber.status, chosen).where(Subscriber.email == bindparam("email"))


def confirmed_and_chosen(email: str, enquiry_id: int) -> tuple[bool, bool] | None:
    """For a normalised address: whether its subscriber is confirmed and has asked for this
    enquiry throughout, in one query; None if no subscriber has it."""
    params = {"email": email, "enquiry_id": enquiry_id}
    row = db.session.execute(_confirmed_and_chosen(), params).first()
    return None if row is None else (row[0] == SubscriberStatus.CONFIRMED, bool(row[1]))


def confirmed_and_chosen_columns(
    email: ColumnElement[str], enquiry_id: ColumnElement[int]
) -> tuple[ColumnElement[SubscriberStatus | None], ColumnElement[bool]]:
    """What confirmed_and_chosen reads, as two columns of another statement (the RSVP page
    reads them with the invitation): the status of the (normalised) address's subscriber, or
    NULL, and whether it asked for the enquiry throughout; see confirmed_and_chosen_from."""
    status = select(Subscriber.status).where(Subscriber.email == email).scalar_subquery()
    chosen = (
        select(StandingInvitation.id)
        .join(Subscriber, Subscriber.id == StandingInvitation.subscriber_id)
        .where(Subscriber.email == email, StandingInvitation.enquiry_id == enquiry_id)
        .exists()
    )
    return status, chosen


def confirmed_and_chosen_from(
    status: SubscriberStatus | None, chosen: bool
) -> tuple[bool, bool] | None:
    """confirmed_and_chosen's answer from the values of confirmed_and_chosen_columns."""
    return None if status is None else (status == SubscriberStatus.CONFIRMED, bool(chosen))


def add(subscriber: Subscriber, enquiry_id: int) -> bool:
    """Record the choice (idempotent, even when asked twice at once); False if already there."""
    found = db.session.scalar(
        select(StandingInvitation.id).where(
            StandingInvitation.subscriber_id == subscriber.id,
            StandingInvitation.enquiry_id == enquiry_id,
        )
    )
    if found is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(StandingInvitation(subscriber_id=subscriber.id, enquiry_id=enquiry_id))
    except IntegrityError:
        return False  # the same person pressed twice at once
    return True


def replace(subscriber: Subscriber, chosen: Collection[int]) -> None:
    """Make the subscriber's choices among the offered enquiries exactly `chosen`."""
    offered = {e.id for e in offered_enquiries()}
    current = chosen_enquiry_ids(subscriber)
    dropped = (current & offered) - set(chosen)
    if dropped:
        db.session.execute(
            delete(StandingInvitation)
            .where(
                StandingInvitation.subscriber_id == subscriber.id,
                StandingInvitation.enquiry_id.in_(dropped),
            )
            .execution_options(synchronize_session=False)
        )
    for enquiry_id in sorted((set(chosen) & offered) - current):
        add(subscriber, enquiry_id)


def remove_all(subscriber: Subscriber) -> int:
    """Forget every choice of this subscriber (they unsubscribed); how many there were."""
    result = db.session.execute(
        delete(StandingInvitation)
        .where(StandingInvitation.subscriber_id == subscriber.id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _confirmed_standing(enquiry_id: int) -> Select[tuple[Subscriber]]:
    return (
        select(Subscriber)
        .join(StandingInvitation, StandingInvitation.subscriber_id == Subscriber.id)
        .where(
            StandingInvitation.enquiry_id == enquiry_id,
            Subscriber.status == SubscriberStatus.CONFIRMED,
        )
    )


def candidates(
    *, enquiry_id: int, in_person: bool, online: bool, handled: Select[tuple[int]] | None = None
) -> list[Subscriber]:
    """Confirmed subscribers standing for the enquiry whose interests match the format, less
    the subscriber ids `handled` selects (exclusions such as bounces are the caller's), oldest
    first."""
    wanted = []
    if in_person:
        wanted.append(Subscriber.wants_in_person.is_(True))
    if online:
        wanted.append(Subscriber.wants_online.is_(True))
    if not wanted:
        return []
    query = _confirmed_standing(enquiry_id).where(or_(*wanted)).order_by(Subscriber.id)
    if handled is not None:
        query = query.where(Subscriber.id.not_in(handled))
    return list(db.session.scalars(query))


def count(*, enquiry_id: int) -> int:
    """How many confirmed subscribers stand invited to every exploration of the enquiry."""
    query = select(func.count()).select_from(_confirmed_standing(enquiry_id).subquery())
    return db.session.scalar(query) or 0


def enquiries_with_standing() -> set[int]:
    """The enquiries at least one confirmed subscriber stands invited to."""
    return set(
        db.session.scalars(
            select(StandingInvitation.enquiry_id)
            .join(Subscriber, StandingInvitation.subscriber_id == Subscriber.id)
            .where(Subscriber.status == SubscriberStatus.CONFIRMED)
            .distinct()
        )
    )
