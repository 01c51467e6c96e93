"""Finding enquiries and their public events."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from placeevents.clock import utcnow
from placeevents.enquiries.models import Enquiry, EnquiryStatus
from placeevents.events.models import Event, EventStatus
from placeevents.extensions import db


def current_enquiry() -> Enquiry | None:
    """The enquiry the home page presents: the newest current one."""
    return db.session.scalar(
        select(Enquiry)
        .where(Enquiry.status == EnquiryStatus.CURRENT)
        .options(selectinload(Enquiry.questions))
        .order_by(Enquiry.created_at.desc(), Enquiry.id.desc())
        .limit(1)
    )


def archived_enquiries() -> list[Enquiry]:
    """Earlier enquiries, newest first."""
    return list(
        db.session.scalars(
            select(Enquiry)
            .where(Enquiry.status == EnquiryStatus.ARCHIVED)
            .order_by(Enquiry.created_at.desc())
        )
    )


def public_events(enquiry: Enquiry) -> tuple[list[Event], list[Event]]:
    """An enquiry's published and cancelled events, split into (upcoming, past)."""
    events = db.session.scalars(
        select(Event)
        .where(
            Event.enquiry_id == enquiry.id,
            Event.status.in_([EventStatus.PUBLISHED, EventStatus.CANCELLED]),
        )
        .options(selectinload(Event.enquiry))
        .order_by(Event.starts_at)
    ).all()
    now = utcnow()
    upcoming = [e for e in events if e.ends_at >= now]
    past = sorted((e for e in events if e.ends_at < now), key=lambda e: e.starts_at, reverse=True)
    return upcoming, past
