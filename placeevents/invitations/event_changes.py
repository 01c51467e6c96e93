"""Telling the people invited that their event changed or was cancelled: calendar updates
and cancellations for the confirmed, the organiser's message for everyone else."""

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from placeevents.addresses import normalise_email
from placeevents.audit.services import record
from placeevents.calendar import ics
from placeevents.calendar.services import organizer
from placeevents.clock import utcnow
from placeevents.events.models import Event, EventStatus
from placeevents.extensions import db
from placeevents.invitations import mail as invitation_mail
from placeevents.invitations.attendance import claim_calendar_sequence
from placeevents.invitations.calendar_parts import place_of
from placeevents.invitations.links import rsvp_url
from placeevents.invitations.models import Invitation, Rsvp, RsvpAnswer
from placeevents.mail.bounces import bounced_among
from placeevents.mail.outbox import address, build_message, enqueue, render_email
from placeevents.newsletter.links import extras_of, list_mail_extras_for
from placeevents.urls import base_url, external_url


def confirmed_invitations(event: Event) -> list[Invitation]:
    """Everyone with a confirmed place (answer yes) at the event, with their RSVPs, in one query."""
    return list(
        db.session.scalars(
            select(Invitation)
            .join(Rsvp, Rsvp.invitation_id == Invitation.id)
            .where(Invitation.event_id == event.id, Rsvp.answer == RsvpAnswer.YES)
            .options(joinedload(Invitation.rsvp))
            .order_by(Invitation.id)
        ).unique()
    )


def update_batch_key(event: Event) -> str:
    """The batch key of the updates mailed for the event's current SEQUENCE (for progress)."""
    return f"calendar-update:{event.id}:{event.sequence}"


def cancellation_batch_key(event: Event) -> str:
    """The outbox batch key of an event's cancellation mail (calendar parts and plain mail)."""
    return f"event-cancelled-{event.id}"


def _mail_everyone_confirmed(
    event: Event, *, template: str, method: str, kind: str, batch_key: str, note: str
) -> int:
    recipients = confirmed_invitations(event)
    bounced = bounced_among(i.email for i in recipients)
    extras = list_mail_extras_for(i.email for i in recipients)
    now = utcnow()
    build = ics.imip_request if method == "REQUEST" else ics.imip_cancel
    sender = organizer(event) if recipients else None
    queued = 0
    for invitation in recipients:
        if normalise_email(invitation.email) in bounced:
            continue
        place = place_of(invitation)
        headers, footer_links = extras_of(extras, invitation.email)
        part = build(
            event,
            organizer=sender,
            place=place,
            sequence=claim_calendar_sequence(invitation),
            dtstamp=now,
            base_url=base_url(),
            note=note,
        )
        mail = render_email(
            template,
            event=event,
            invitation=invitation,
            place=place,
            where="Online" if place.online else ics.location(event),
            event_url=ics.event_url(event, base_url()),
            rsvp_url=rsvp_url(invitation),
            note=note,
            footer_links=footer_links,
        )
        message = build_message(
            to=address(invitation.email, invitation.name),
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            headers=headers,
            calendar=part,
            calendar_method=method,
        )
        enqueue(message, kind=kind, batch_key=batch_key)
        queued += 1
    return queued


def queue_event_update(event: Event, *, change_summary: str) -> int:
    """Mail every confirmed attendee the updated event (same UID, higher SEQUENCE); how many."""
    if event.status != EventStatus.PUBLISHED:
        return 0
    count = _mail_everyone_confirmed(
        event,
        template="calendar_update",
        method="REQUEST",
        kind="calendar_update",
        batch_key=update_batch_key(event),
        note=change_summary.strip(),
    )
    record(
        action="calendar.update_queued",
        target=f"event:{event.id}",
        detail=f"{count} calendar updates (SEQUENCE {event.sequence}): {change_summary}"[:500],
    )
    return count


def queue_event_cancellation(event: Event, *, message: str, batch_key: str | None = None) -> int:
    """Mail every confirmed attendee a METHOD:CANCEL for the event; how many were queued.

    `batch_key` lets the cancellation join the bulk send telling everyone else.
    """
    count = _mail_everyone_confirmed(
        event,
        template="calendar_cancellation",
        method="CANCEL",
        kind="calendar_cancellation",
        batch_key=batch_key or cancellation_batch_key(event),
        note=message.strip(),
    )
    record(
        action="calendar.cancellation_queued",
        target=f"event:{event.id}",
        detail=f"{count} calendar cancellations",
    )
    return count


# Those who may still come without a confirmed place: told of a change plainly, no calendar part.
STILL_CONCERNED = (RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED, RsvpAnswer.MAYBE)


def queue_change_notices(event: Event, *, change_summary: str) -> int:
    """Mail a short notice of the change to the waitlisted, the maybes and those who have not
    answered (the confirmed get a calendar update instead); how many were queued."""
    if event.status != EventStatus.PUBLISHED:
        return 0
    recipients = list(
        db.session.scalars(
            select(Invitation)
            .outerjoin(Rsvp, Rsvp.invitation_id == Invitation.id)
            .where(
                Invitation.event_id == event.id,
                sa.or_(Rsvp.id.is_(None), Rsvp.answer.in_(STILL_CONCERNED)),
            )
            .options(joinedload(Invitation.rsvp))
            .order_by(Invitation.id)
        ).unique()
    )
    bounced = bounced_among(i.email for i in recipients)
    extras = list_mail_extras_for(i.email for i in recipients)
    queued = 0
    for invitation in recipients:
        if normalise_email(invitation.email) in bounced:
            continue
        notice = invitation_mail.build_change_notice(
            invitation,
            note=change_summary.strip(),
            extras=extras_of(extras, invitation.email),
        )
        enqueue(notice, kind="event_changed", batch_key=update_batch_key(event), bulk=True)
        queued += 1
    if queued:
        record(
            action="event.change_notices_queued",
            target=f"event:{event.id}",
            detail=f"{queued} change notices: {change_summary}"[:500],
        )
    return queued


def people_affected(event: Event) -> list[tuple[str, str]]:
    """(email, name) of everyone invited to or registered for the event, whatever they answered."""
    rows = db.session.execute(
        select(Invitation.email, Invitation.name)
        .where(Invitation.event_id == event.id)
        .order_by(Invitation.email)
    ).all()
    # A name is a display name in a mail header: line breaks and tabs become spaces.
    return [(email, " ".join(name.split())) for email, name in rows]


def invited_count(event: Event) -> int:
    """How many people are on the event's list."""
    return db.session.scalar(
        select(func.count()).select_from(Invitation).where(Invitation.event_id == event.id)
    ) or 0


def announce_cancellation(*, event: Event, message: str) -> int:
    """Mail the organiser's message about a cancelled event to everyone invited or registered:
    the confirmed with a calendar cancellation, everyone else plainly; how many, in one batch."""
    confirmed = {i.email for i in confirmed_invitations(event)}
    people = [(email, name) for email, name in people_affected(event) if email not in confirmed]
    bounced = bounced_among(email for email, _ in people)
    event_url = external_url("events.show", slug=event.slug)
    extras = list_mail_extras_for(email for email, _ in people)
    batch_key = cancellation_batch_key(event)
    sent = 0
    for email, name in people:
        if normalise_email(email) in bounced:
            continue
        headers, footer_links = extras_of(extras, email)
        rendered = render_email(
            "event_cancelled",
            event=event,
            person=name,
            message=message,
            event_url=event_url,
            footer_links=footer_links,
        )
        mail = build_message(
            to=address(email, name),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            headers=headers,
        )
        enqueue(mail, kind="event_cancelled", batch_key=batch_key)
        sent += 1
    return sent + queue_event_cancellation(event, message=message, batch_key=batch_key)
