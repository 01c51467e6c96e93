"""Calendar files for events and enquiries, and the iMIP mails that keep attendees' copies right.

Every mail to a person carries a SEQUENCE above every one mailed to them before
(``max(event.sequence, rsvp.calendar_sequence + 1)``), recorded on their RSVP, so a calendar
never takes a newer message for an older one: not even a yes after a cancellation.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy import case, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from placeevents.audit.services import record
from placeevents.calendar import ics
from placeevents.clock import utcnow
from placeevents.enquiries.models import Enquiry
from placeevents.events.models import Event, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer
from placeevents.mail.bounces import bounced_among
from placeevents.mail.outbox import address, build_message, default_sender, enqueue, render_email
from placeevents.markdown import markdown_to_text
from placeevents.newsletter.links import extras_of, list_mail_extras_for

PUBLIC_STATUSES = (EventStatus.PUBLISHED, EventStatus.CANCELLED)


class CalendarError(Exception):
    """A calendar request that cannot be met; the message is fit to show."""


class CalendarNotFound(CalendarError):
    """No public calendar at this address."""


class NotConfirmed(CalendarError):
    """Only a confirmed attendee has a personal calendar entry."""


@dataclass(frozen=True)
class CalendarFile:
    """An .ics body with what a response needs: filename, validator and last change."""

    body: bytes
    filename: str
    last_modified: datetime
    events: int

    @property
    def etag(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:32]


def _base_url() -> str:
    return current_app.config["PLACEEVENTS_BASE_URL"]


def organizer() -> ics.Person:
    """The ORGANIZER of every iMIP message: the From address, so replies reach the same box."""
    sender = default_sender()
    return ics.Person(email=sender.addr_spec, name=sender.display_name)


def _last_change(*moments: datetime) -> datetime:
    # HTTP dates have whole seconds; a fraction would make every If-Modified-Since look stale.
    return max(moments).astimezone(UTC).replace(microsecond=0)


# --- files


def public_event_calendar(*, slug: str) -> CalendarFile:
    """The .ics download of a public (published or cancelled) event."""
    event = db.session.scalar(select(Event).where(Event.slug == slug))
    if event is None or event.status not in PUBLIC_STATUSES:
        raise CalendarNotFound("There is no such event.")
    return CalendarFile(
        body=ics.event_ics(event, base_url=_base_url()),
        filename=f"{event.slug}.ics",
        last_modified=_last_change(event.updated_at),
        events=1,
    )


def _enquiry_calendar(enquiry: Enquiry) -> CalendarFile:
    every_event = db.session.scalars(
        select(Event).where(Event.enquiry_id == enquiry.id).order_by(Event.starts_at, Event.id)
    ).all()
    public = [e for e in every_event if e.status in PUBLIC_STATUSES]
    # Drafts count towards the last change so an event withdrawn from the feed moves it on.
    return CalendarFile(
        body=ics.enquiry_feed_ics(enquiry, public, base_url=_base_url()),
        filename=f"{enquiry.slug}.ics",
        last_modified=_last_change(enquiry.updated_at, *(e.updated_at for e in every_event)),
        events=len(public),
    )


def enquiry_feed(*, slug: str) -> CalendarFile:
    """The subscribable calendar of an enquiry: its published and cancelled events."""
    enquiry = db.session.scalar(select(Enquiry).where(Enquiry.slug == slug))
    if enquiry is None:
        raise CalendarNotFound("There is no such enquiry.")
    return _enquiry_calendar(enquiry)


def enquiry_export(*, enquiry_id: int) -> CalendarFile:
    """The whole enquiry as one file, for organisers (the same content as the feed)."""
    enquiry = db.session.get(Enquiry, enquiry_id)
    if enquiry is None:
        raise CalendarNotFound("There is no such enquiry.")
    return _enquiry_calendar(enquiry)


# --- links


def feed_url(enquiry: Enquiry) -> str:
    """The feed's https (or http) address, built on PLACEEVENTS_BASE_URL."""
    return f"{_base_url()}/enquiries/{enquiry.slug}/calendar.ics"


def webcal_url(enquiry: Enquiry) -> str:
    """The feed's webcal:// address, which opens the calendar app's subscribe dialogue."""
    return "webcal://" + feed_url(enquiry).split("://", 1)[1]


def _public_details(event: Event) -> str:
    page = ics.event_url(event, _base_url())
    # Calendar apps show this text as it is: the Markdown is written out as plain text.
    description = markdown_to_text(event.description)
    return f"{description}\n\n{page}" if description else page


def google_calendar_url(event: Event) -> str:
    """A link that opens Google Calendar's new-event page filled in with this event."""
    dates = f"{ics.utc_stamp(event.starts_at)}/{ics.utc_stamp(event.ends_at)}"
    query = {
        "action": "TEMPLATE",
        "text": ics.one_line(event.title),
        "dates": dates,
        "details": _public_details(event),
        "location": ics.location(event),
        "ctz": event.enquiry.timezone,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def outlook_calendar_url(event: Event, *, host: str = "outlook.office.com") -> str:
    """A link that opens Outlook on the web's new-event form (Microsoft 365 or outlook.com)."""
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": ics.one_line(event.title),
        "startdt": event.starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "enddt": event.ends_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "body": _public_details(event),
        "location": ics.location(event),
    }
    return f"https://{host}/calendar/0/deeplink/compose?" + urlencode(query)


# --- attendees


def _confirmed_rsvp(invitation: Invitation) -> Rsvp:
    rsvp = invitation.rsvp
    if rsvp is None or rsvp.answer != RsvpAnswer.YES:
        raise NotConfirmed("Only people with a confirmed place have this event in their calendar.")
    return rsvp


def takes_part_online(invitation: Invitation) -> bool:
    """Whether this person joins online: every attendee of an online event, or by choice."""
    event = invitation.event
    if event.format == EventFormat.ONLINE:
        return True
    mode = invitation.rsvp.mode if invitation.rsvp is not None else None
    return event.format == EventFormat.HYBRID and mode == AttendanceMode.ONLINE


def _place(invitation: Invitation) -> ics.Place:
    online = takes_part_online(invitation)
    return ics.Place(
        attendee=ics.Person(email=invitation.email, name=invitation.name),
        online=online,
        join_url=invitation.event.join_url if online else "",
    )


def _claim_sequence(invitation: Invitation) -> int:
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


def calendar_was_sent(invitation: Invitation) -> bool:
    """Whether this person has ever been mailed a calendar entry for the event."""
    return invitation.rsvp is not None and invitation.rsvp.calendar_sequence > 0


def personal_ics_for(invitation: Invitation) -> bytes:
    """A confirmed attendee's own .ics (with the join link when they take part online)."""
    rsvp = _confirmed_rsvp(invitation)
    event = invitation.event
    place = _place(invitation)
    return ics.personal_ics(
        event,
        attendee_email=place.attendee.email,
        attendee_name=place.attendee.name,
        online=place.online,
        join_url=place.join_url,
        base_url=_base_url(),
        organizer=organizer(),
        sequence=max(event.sequence, rsvp.calendar_sequence),
    )


def calendar_part_for_confirmation(invitation: Invitation) -> bytes:
    """The METHOD:REQUEST part for a yes confirmation mail; records the SEQUENCE it carries."""
    _confirmed_rsvp(invitation)
    sequence = _claim_sequence(invitation)
    part = ics.imip_request(
        invitation.event,
        organizer=organizer(),
        place=_place(invitation),
        sequence=sequence,
        dtstamp=utcnow(),
        base_url=_base_url(),
    )
    return part


def _declined_note(answer: RsvpAnswer) -> str:
    if answer == RsvpAnswer.MAYBE:
        return (
            "You changed your answer to maybe, which holds no place, so your place is released "
            "and this event is removed from your calendar."
        )
    return "You told us you can't come, so this event is removed from your calendar."


def cancel_part_for_declined(invitation: Invitation) -> bytes:
    """The METHOD:CANCEL part for someone who changed their answer to no; records its SEQUENCE."""
    if invitation.rsvp is None:
        raise NotConfirmed("This person has not answered, so there is nothing to cancel.")
    sequence = _claim_sequence(invitation)
    part = ics.imip_cancel(
        invitation.event,
        organizer=organizer(),
        place=_place(invitation),
        sequence=sequence,
        dtstamp=utcnow(),
        base_url=_base_url(),
        declined=True,
        note=_declined_note(invitation.rsvp.answer),
    )
    return part


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
    """The batch key of the cancellations mailed for the event."""
    return f"calendar-cancel:{event.id}"


def _mail_everyone_confirmed(
    event: Event, *, template: str, method: str, kind: str, batch_key: str, note: str
) -> int:
    # Imported here: the invitations mail module builds on this one.
    from placeevents.invitations.mail import rsvp_url

    recipients = confirmed_invitations(event)
    bounced = bounced_among(i.email for i in recipients)
    extras = list_mail_extras_for(i.email for i in recipients)
    now = utcnow()
    build = ics.imip_request if method == "REQUEST" else ics.imip_cancel
    queued = 0
    for invitation in recipients:
        if invitation.email.strip().lower() in bounced:
            continue
        place = _place(invitation)
        headers, footer_links = extras_of(extras, invitation.email)
        part = build(
            event,
            organizer=organizer(),
            place=place,
            sequence=_claim_sequence(invitation),
            dtstamp=now,
            base_url=_base_url(),
            note=note,
        )
        mail = render_email(
            template,
            event=event,
            invitation=invitation,
            place=place,
            where="Online" if place.online else ics.location(event),
            event_url=ics.event_url(event, _base_url()),
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
