"""Places: taking and releasing in-person places exactly, the waiting list and its
promotion, and the calendar SEQUENCE mailed to each person."""

from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import case, select, update
from sqlalchemy.orm.attributes import set_committed_value

from placeevents.clock import utcnow
from placeevents.events.models import Event, EventStatus
from placeevents.extensions import db
from placeevents.invitations import mail
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer
from placeevents.mail.outbox import enqueue

if TYPE_CHECKING:
    pass


# A place freed this close to the start is offered, not given, so nobody is booked unawares.
OFFER_WINDOW = timedelta(hours=48)


OFFER_TIME = timedelta(hours=12)


def who(invitation: Invitation) -> str:
    return f"{invitation.name} <{invitation.email}>" if invitation.name else invitation.email


def lock(invitation: Invitation) -> Invitation:
    # Two answers from the same person at once are taken one after the other (PostgreSQL).
    db.session.execute(
        select(Invitation.id).where(Invitation.id == invitation.id).with_for_update()
    )
    db.session.refresh(invitation, ["rsvp"])
    return invitation


def take_place(event_id: int) -> bool:
    """Take one in-person place if one is left: exact under concurrency (one conditional UPDATE)."""
    table = Event.__table__
    result = db.session.execute(
        table.update()
        .where(
            table.c.id == event_id,
            sa.or_(table.c.capacity.is_(None), table.c.places_taken < table.c.capacity),
        )
        .values(places_taken=table.c.places_taken + 1)
    )
    return result.rowcount == 1


def force_place(event_id: int) -> None:
    table = Event.__table__
    db.session.execute(
        table.update()
        .where(table.c.id == event_id)
        .values(places_taken=table.c.places_taken + 1)
    )


def release_place(event_id: int) -> None:
    table = Event.__table__
    db.session.execute(
        table.update()
        .where(table.c.id == event_id, table.c.places_taken > 0)
        .values(places_taken=table.c.places_taken - 1)
    )


def holds_place(rsvp: Rsvp | None) -> bool:
    """Whether this answer holds one of the event's in-person places."""
    return (
        rsvp is not None
        and rsvp.answer in (RsvpAnswer.YES, RsvpAnswer.OFFERED)
        and rsvp.mode == AttendanceMode.IN_PERSON
    )


def someone_waiting(event: Event) -> bool:
    """Whether anyone is on the event's waiting list."""
    return bool(
        db.session.scalar(
            select(
                sa.exists().where(
                    Rsvp.invitation_id == Invitation.id,
                    Invitation.event_id == event.id,
                    Rsvp.answer == RsvpAnswer.WAITLISTED,
                )
            )
        )
    )


def refresh_places(event: Event) -> None:
    db.session.flush()
    db.session.expire(event, ["places_taken"])


def waitlist_position(rsvp: Rsvp) -> int:
    """1 for the first in line on the event's waiting list, and so on."""
    invitation = rsvp.invitation
    ahead = db.session.scalar(
        select(sa.func.count())
        .select_from(Rsvp)
        .join(Invitation)
        .where(
            Invitation.event_id == invitation.event_id,
            Rsvp.answer == RsvpAnswer.WAITLISTED,
            sa.or_(
                Rsvp.waitlisted_at < rsvp.waitlisted_at,
                sa.and_(Rsvp.waitlisted_at == rsvp.waitlisted_at, Rsvp.id < rsvp.id),
            ),
        )
    )
    return (ahead or 0) + 1


def mark_reminded_if_due(invitation: Invitation, now: datetime) -> None:
    # A confirmation sent inside the reminder window already is the reminder.
    event = invitation.event
    if now >= event.starts_at - timedelta(hours=event.reminder_lead_hours):
        invitation.event_reminder_sent_at = now


def claim_calendar_sequence(invitation: Invitation) -> int:
    """Raise the person's SEQUENCE above every one mailed to them, atomically, and return it."""
    rsvp = invitation.rsvp
    assert rsvp is not None
    raised = Rsvp.calendar_sequence + 1
    floor = invitation.event.sequence
    # One UPDATE computes from the stored value, so concurrent mails to a person never share one.
    sequence = db.session.execute(
        update(Rsvp)
        .where(Rsvp.id == rsvp.id)
        .values(calendar_sequence=case((raised > floor, raised), else_=floor))
        .returning(Rsvp.calendar_sequence),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    set_committed_value(rsvp, "calendar_sequence", sequence)
    return sequence


def confirmation(invitation: Invitation, *, promoted: bool = False) -> EmailMessage:
    return mail.build_rsvp_confirmation(
        invitation, promoted=promoted, sequence=claim_calendar_sequence(invitation)
    )


def promote_waitlist(event: Event) -> list[Invitation]:
    """Give free in-person places to the first in line, telling each by mail.

    Within 48 hours of the start a place is offered, to accept within 12 hours. Called
    whenever places free up: an answer changes, someone is removed or erased, capacity rises.
    """
    promoted: list[Invitation] = []
    if event.status != EventStatus.PUBLISHED or utcnow() >= event.starts_at:
        return promoted
    now = utcnow()
    while take_place(event.id):
        first = db.session.scalar(
            select(Rsvp)
            .join(Invitation)
            .where(
                Invitation.event_id == event.id,
                Rsvp.answer == RsvpAnswer.WAITLISTED,
                Rsvp.mode == AttendanceMode.IN_PERSON,
            )
            .order_by(Rsvp.waitlisted_at, Rsvp.id)
            .limit(1)
            .with_for_update(skip_locked=True, of=Rsvp)
        )
        if first is None:
            release_place(event.id)
            break
        invitation = first.invitation
        offered = event.starts_at - now <= OFFER_WINDOW
        if offered:
            first.answer = RsvpAnswer.OFFERED
            first.offer_expires_at = min(now + OFFER_TIME, event.starts_at)
        else:
            first.answer = RsvpAnswer.YES
            first.waitlisted_at = None
            mark_reminded_if_due(invitation, now)
        db.session.flush()
        message = (
            mail.build_waitlist_offer(invitation)
            if offered
            else confirmation(invitation, promoted=True)
        )
        enqueue(message, kind="waitlist_promotion")
        promoted.append(invitation)
    refresh_places(event)
    return promoted


def capacity_changed(*, event: Event) -> list[Invitation]:
    """After an organiser changes the event's places: give any new ones to the waiting list."""
    return promote_waitlist(event)
