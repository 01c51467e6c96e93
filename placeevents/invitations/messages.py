"""Writing to the people invited to an event: reminders to answer, messages to an audience,
and the reminder before the event."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from placeevents.audit.services import record
from placeevents.clock import utcnow
from placeevents.events.models import Event, EventStatus
from placeevents.extensions import db
from placeevents.invitations import mail
from placeevents.invitations.errors import InvitationError
from placeevents.invitations.models import (
    EventMailing,
    Invitation,
    MailingKind,
    Rsvp,
    RsvpAnswer,
)
from placeevents.invitations.responses import with_event
from placeevents.invitations.sending import new_batch_key, stand_in
from placeevents.mail.bounces import bounced_among
from placeevents.mail.outbox import enqueue
from placeevents.newsletter.links import extras_of, list_mail_extras_for

if TYPE_CHECKING:
    from placeevents.auth.models import Organiser


REMIND_AGAIN_AFTER = timedelta(days=1)


# The largest reminder lead time an event can have; the job looks no further ahead.
MAX_REMINDER_LEAD = timedelta(days=14)


def message_closed_reason(*, event: Event) -> str:
    """Why the people invited can't be written to now, in words; "" when they can."""
    if event.status == EventStatus.CANCELLED:
        return (
            "This event has been cancelled; everyone with a place was told so when it was "
            "cancelled."
        )
    if event.status == EventStatus.DRAFT:
        return "This event is a draft, so nobody has been invited to it yet."
    if utcnow() >= event.ends_at:
        return "This event is over. To send people what came of it, share the session notes."
    return ""


def remind_non_responders(
    *, event: Event, invitation_ids: Iterable[int], organiser: "Organiser"
) -> EventMailing:
    """Remind the chosen people who have not answered; nobody more than once a day."""
    wanted = set(invitation_ids)
    now = utcnow()
    candidates = db.session.scalars(
        select(Invitation)
        .where(Invitation.event_id == event.id, Invitation.id.in_(wanted))
        .options(*with_event())
    ).all()
    unanswered = [i for i in candidates if i.rsvp is None]
    bounced = bounced_among(i.email for i in unanswered)
    extras = list_mail_extras_for(i.email for i in unanswered)
    mailing = EventMailing(
        event=event,
        kind=MailingKind.REMINDER,
        batch_key=new_batch_key(MailingKind.REMINDER, event),
        audience="people who have not answered",
        created_by_id=organiser.id,
    )
    db.session.add(mailing)
    table = Invitation.__table__
    for invitation in unanswered:
        if invitation.email in bounced:
            mailing.skipped_bounced += 1
            continue
        # Claimed with a conditional update, so a double click cannot remind twice.
        claimed = db.session.execute(
            table.update()
            .where(
                table.c.id == invitation.id,
                sa.or_(
                    table.c.last_reminded_at.is_(None),
                    table.c.last_reminded_at <= now - REMIND_AGAIN_AFTER,
                ),
            )
            .values(last_reminded_at=now)
        ).rowcount
        if not claimed:
            mailing.skipped_recent += 1
            continue
        enqueue(
            mail.build_answer_reminder(invitation, extras=extras_of(extras, invitation.email)),
            kind="answer_reminder",
            batch_key=mailing.batch_key,
            bulk=True,
        )
        mailing.recipients += 1
    db.session.flush()
    record(
        action="invitations.reminded",
        target=f"event:{event.id}",
        detail=f"{mailing.recipients} reminded; {mailing.skipped_recent} reminded in the last day",
        organiser=organiser,
    )
    return mailing


AUDIENCES = {
    "confirmed": ("the confirmed", (RsvpAnswer.YES,)),
    "waitlisted": ("the waiting list", (RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED)),
    "everyone": ("everyone invited", None),
}


@dataclass
class MessagePlan:
    """Whom a message to an audience reaches, and how many bounced addresses it skips."""

    label: str
    recipients: list[Invitation]
    skipped_bounced: int = 0


def plan_message(*, event: Event, audience: str) -> MessagePlan:
    """The people a message to the chosen audience would reach (nothing is stored)."""
    reason = message_closed_reason(event=event)
    if reason:
        raise InvitationError(reason)
    if audience not in AUDIENCES:
        raise InvitationError("Choose whom to write to.")
    label, answers = AUDIENCES[audience]
    query = select(Invitation).where(Invitation.event_id == event.id).options(*with_event())
    if answers is not None:
        query = query.join(Rsvp).where(Rsvp.answer.in_(answers))
    invitations = db.session.scalars(query.order_by(Invitation.id)).all()
    bounced = bounced_among(i.email for i in invitations)
    return MessagePlan(
        label=label,
        recipients=[i for i in invitations if i.email not in bounced],
        skipped_bounced=sum(1 for i in invitations if i.email in bounced),
    )


@dataclass(frozen=True)
class MessagePreview:
    """How many people a message would reach, and what the first of them would get."""

    plan: MessagePlan
    sample: Invitation | None
    message: EmailMessage


def preview_message(*, event: Event, audience: str, subject: str, body: str) -> MessagePreview:
    """The message as the first recipient would get it, and how many would (nothing is stored)."""
    plan = plan_message(event=event, audience=audience)
    sample = plan.recipients[0] if plan.recipients else None
    message = mail.build_attendee_message(stand_in(event, sample), subject=subject, body=body)
    return MessagePreview(plan=plan, sample=sample, message=message)


def send_test_message(
    *, event: Event, organiser: "Organiser", subject: str, body: str
) -> EmailMessage:
    """Send a message to attendees, as written, to the organiser themselves."""
    message = mail.build_attendee_message_test(
        event, subject=subject, body=body, to_email=organiser.email, to_name=organiser.name
    )
    enqueue(message, kind="attendee_message_test")
    return message


def message_attendees(
    *, event: Event, audience: str, subject: str, body: str, organiser: "Organiser"
) -> EventMailing:
    """Write to the confirmed, the waiting list, or everyone invited to an event."""
    plan = plan_message(event=event, audience=audience)
    mailing = EventMailing(
        event=event,
        kind=MailingKind.MESSAGE,
        batch_key=new_batch_key(MailingKind.MESSAGE, event),
        audience=plan.label,
        subject=subject,
        body=body,
        created_by_id=organiser.id,
        skipped_bounced=plan.skipped_bounced,
    )
    db.session.add(mailing)
    extras = list_mail_extras_for(i.email for i in plan.recipients)
    for invitation in plan.recipients:
        message = mail.build_attendee_message(
            invitation, subject=subject, body=body, extras=extras_of(extras, invitation.email)
        )
        enqueue(
            message, kind="attendee_message", batch_key=mailing.batch_key, bulk=True
        )
        mailing.recipients += 1
    db.session.flush()
    record(
        action="invitations.message",
        target=f"event:{event.id}",
        detail=f"to {plan.label}: {mailing.recipients} sent; “{subject[:100]}”",
        organiser=organiser,
    )
    return mailing


def send_event_reminders() -> int:
    """Remind confirmed attendees of events starting within their lead time, once each."""
    now = utcnow()
    events = db.session.scalars(
        select(Event)
        .where(
            Event.status == EventStatus.PUBLISHED,
            Event.reminder_sent_at.is_(None),
            Event.starts_at > now,
            Event.starts_at <= now + MAX_REMINDER_LEAD,
        )
        .options(joinedload(Event.enquiry))
    ).all()
    sent = 0
    table = Invitation.__table__
    for event in events:
        if now < event.starts_at - timedelta(hours=event.reminder_lead_hours):
            continue
        invitations = db.session.scalars(
            select(Invitation)
            .join(Rsvp)
            .where(
                Invitation.event_id == event.id,
                Rsvp.answer == RsvpAnswer.YES,
                Invitation.event_reminder_sent_at.is_(None),
            )
            .options(selectinload(Invitation.rsvp))
            .order_by(Invitation.id)
        ).all()
        bounced = bounced_among(i.email for i in invitations)
        extras = list_mail_extras_for(i.email for i in invitations)
        for invitation in invitations:
            if invitation.email in bounced:
                continue
            # Each person is claimed with a conditional update, so two workers send once.
            claimed = db.session.execute(
                table.update()
                .where(table.c.id == invitation.id, table.c.event_reminder_sent_at.is_(None))
                .values(event_reminder_sent_at=now)
            ).rowcount
            if claimed:
                message = mail.build_event_reminder(
                    invitation, extras=extras_of(extras, invitation.email)
                )
                enqueue(message, kind="event_reminder", bulk=True)
                sent += 1
        event.reminder_sent_at = now
        db.session.flush()
    return sent
