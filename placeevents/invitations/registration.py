"""Registration: "Request a place" on an open event, answered at once on the page.

One form takes a name, an address, how a hybrid event's guest takes part and the event's
questions. In one transaction the address is invited (source REQUEST) and answers yes through
attendance, and the mail an invitee gets for that yes (their RSVP link and the calendar
invitation, or the waiting list's mail) is queued with it. No mail round trip comes first.
What the round trip protected is kept another way:

- An address already invited to the event changes nothing: it is mailed its own link again,
  and the page says only that the details were sent. It says the same for an address erased at
  the person's request or on the bounce list, and for a filled honeypot, where nothing is
  written or sent.
- The REQUEST_PLACE limits (placeevents.limits) and the honeypot stop floods.
- The round trip proved the address reads its mail before a place was held. Now the first mail
  proves it just after: when the mail server refuses a registration's confirmation, the place
  goes to the next in line (_release_refused). Only a registration's own first mail does this:
  it is the one that stands in for the round trip. An invited address was chosen by an
  organiser, and a later mail (a promotion, a reminder) goes to an address that has received
  ours before; their refusals only put the address on the bounce list, as for anyone.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from placeevents.addresses import normalise_email
from placeevents.audit.services import record
from placeevents.clock import utcnow
from placeevents.enquiries import timezones
from placeevents.events.models import Event, EventAccess, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations import attendance, mail
from placeevents.invitations.errors import InvitationError, ModeNeeded
from placeevents.invitations.models import (
    AttendanceMode,
    Invitation,
    InvitationSource,
    Rsvp,
    RsvpAnswer,
)
from placeevents.mail.bounces import bounced_among
from placeevents.mail.outbox import enqueue
from placeevents.mail.refusals import RefusedMessage, on_refused
from placeevents.newsletter.services import is_suppressed

# The outbox kind of a registration's first mail, whose batch key names the invitation.
REGISTRATION_MAIL = "registration"
_BATCH_PREFIX = "registration-"

JOIN_WAITLIST = "Join the waiting list"
REQUEST_A_PLACE = "Request a place"


class RegistrationClosed(InvitationError):
    """Places can't be requested for this event (by invitation, cancelled, started, past the
    deadline); `title` heads the page that says so."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title


@dataclass(frozen=True)
class Offer:
    """What the form says before it is sent: why it is closed, or whether the room is full and
    what its button reads."""

    closed: RegistrationClosed | None = None
    full: str = ""
    button: str = REQUEST_A_PLACE


def _closed(event: Event) -> RegistrationClosed | None:
    if event.access != EventAccess.OPEN:
        cancelled = ", and it has been cancelled" if event.status == EventStatus.CANCELLED else ""
        return RegistrationClosed(
            "Places by invitation", f"This event is by invitation only{cancelled}."
        )
    if event.status == EventStatus.CANCELLED:
        return RegistrationClosed("Requests are closed", "This event has been cancelled.")
    if event.status != EventStatus.PUBLISHED:
        return RegistrationClosed("Requests are closed", "This event is not open yet.")
    now = utcnow()
    if now >= event.starts_at:
        return RegistrationClosed(
            "Requests are closed",
            "This event has already started, so places can no longer be requested.",
        )
    if event.rsvp_deadline is not None and now > event.rsvp_deadline:
        deadline = timezones.format_datetime(event.rsvp_deadline, event.enquiry.timezone)
        return RegistrationClosed(
            "Requests are closed",
            f"Answers closed on {deadline}, so places can no longer be requested.",
        )
    return None


def offer_for(*, event: Event) -> Offer:
    """What the registration form of this event says now."""
    closed = _closed(event)
    if closed is not None:
        return Offer(closed=closed)
    room_full, online_full = event.room_full, event.online_full
    if event.format == EventFormat.HYBRID:
        if room_full and online_full:
            return Offer(
                full="In-person and online places are full: you'll join the waiting list "
                "for the way you choose.",
                button=JOIN_WAITLIST,
            )
        if room_full:
            return Offer(
                full="In-person places are full: in person, you'll join the waiting list; "
                "online, your place is confirmed straight away."
            )
        if online_full:
            return Offer(
                full="Online places are full: online, you'll join the online waiting list; "
                "in person, your place is confirmed straight away."
            )
        return Offer()
    if online_full:
        return Offer(
            full="Online places are full: you'll join the online waiting list.",
            button=JOIN_WAITLIST,
        )
    if room_full:
        return Offer(
            full="In-person places are full: you'll join the waiting list.", button=JOIN_WAITLIST
        )
    return Offer()


@dataclass(frozen=True)
class Registration:
    """What the page may say: the new registration's answer, where they go and their place in
    line, or (no answer) only that the details went to the address."""

    rsvp: Rsvp | None = None
    position: int | None = None
    where: str = ""


def register(
    *,
    event: Event,
    name: str,
    email: str,
    mode: AttendanceMode | None = None,
    access_needs: str = "",
    dietary_needs: str = "",
    question: str = "",
) -> Registration:
    """Register someone for an open event: invited and answered yes in this transaction, the
    confirmation queued. An address already invited is mailed its own link, and nothing else
    changes; an erased or bounced address gets nothing. Raises RegistrationClosed, ModeNeeded."""
    closed = _closed(event)
    if closed is not None:
        raise closed
    # Checked before the address is looked up, so the answer does not depend on who it is.
    if event.format == EventFormat.HYBRID and mode is None:
        raise ModeNeeded("Choose whether you will come in person or join online.")
    email = normalise_email(email)
    if is_suppressed(email) or email in bounced_among([email]):
        return Registration()
    invitation = invite_requester(event, email, " ".join(name.split())[:200])
    if invitation is None:
        return Registration()
    answered = attendance.answer_invitation(
        invitation=invitation,
        answer=attendance.Answer(
            answer=RsvpAnswer.YES,
            mode=mode,
            access_needs=access_needs,
            dietary_needs=dietary_needs,
            question=question,
        ),
        mail_kind=REGISTRATION_MAIL,
        batch_key=f"{_BATCH_PREFIX}{invitation.id}",
    )
    rsvp = answered.rsvp
    waiting = rsvp.answer == RsvpAnswer.WAITLISTED
    return Registration(
        rsvp=rsvp,
        position=attendance.waitlist_position(rsvp) if waiting else None,
        # Where this person goes: a hybrid event's "…, or online" is not for them to choose now.
        where="Online"
        if rsvp.mode == AttendanceMode.ONLINE
        else mail.place_words(event) or "In person",
    )


def invite_requester(event: Event, email: str, name: str) -> Invitation | None:
    """A new invitation of a normalised address that asked for a place, or None once its own
    link has gone to an address already invited."""
    existing = _invitation_of(event, email)
    if existing is None:
        invitation = Invitation(
            event=event, email=email, name=name, source=InvitationSource.REQUEST, sent_at=utcnow()
        )
        try:
            with db.session.begin_nested():
                db.session.add(invitation)
            return invitation
        except IntegrityError:
            # The same address registered twice at once: the other request made the invitation.
            existing = _invitation_of(event, email)
            assert existing is not None
    enqueue(mail.build_request_place(existing), kind="request_place")
    return None


def _invitation_of(event: Event, email: str) -> Invitation | None:
    return db.session.scalar(
        select(Invitation).where(Invitation.event_id == event.id, Invitation.email == email)
    )


@on_refused(REGISTRATION_MAIL)
def _release_refused(message: RefusedMessage) -> None:
    """The mail server refused a registration's confirmation: the place goes to the next in
    line, and the organisers see the answer become no and why in the audit log."""
    key = message.batch_key or ""
    # One invitation's number, or several joined by commas (one summary for several events).
    numbers = key.removeprefix(_BATCH_PREFIX).split(",")
    if not key.startswith(_BATCH_PREFIX) or not all(n.isdigit() for n in numbers):
        return
    for number in numbers:
        _release(int(number), message.reason)


def registration_batch_key(invitations: list[Invitation]) -> str | None:
    """The batch key of a registration's first mail, naming the invitations it stands for
    (None if they are too many to name: that mail then releases nothing when refused)."""
    key = _BATCH_PREFIX + ",".join(str(invitation.id) for invitation in invitations)
    return key if len(key) <= 80 else None


def _release(number: int, reason: str) -> None:
    invitation = db.session.get(Invitation, number)
    if invitation is None:
        return  # removed or erased since
    if attendance.release_unreachable(invitation=invitation):
        record(
            action="registration.released",
            target=f"event:{invitation.event_id}",
            detail=f"{invitation.email}: the confirmation mail was refused ({reason})",
        )
