"""Several explorations at once: a person answers their other invitations of an enquiry from
one RSVP page, or registers for several open events of an enquiry in one form.

Each answer goes through attendance like any other (places, waiting list, promotions), with
its own mail held back: the person gets one summary of what was recorded, plus one calendar
invitation mail per event where they have a place (a calendar imports only the first event of
an invitation carrying several), and a calendar cancellation for an entry their answer ends.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, or_, select
from sqlalchemy.orm import joinedload

from placeevents.addresses import normalise_email
from placeevents.clock import utcnow
from placeevents.enquiries.models import Enquiry
from placeevents.events.models import Event, EventAccess, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations import attendance, mail, registration
from placeevents.invitations.errors import InvitationError, ModeNeeded
from placeevents.invitations.links import rsvp_url
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer
from placeevents.invitations.responses import InvitationValues, plain_execute
from placeevents.mail.bounces import bounced_among
from placeevents.mail.outbox import enqueue
from placeevents.newsletter.services import is_suppressed

SUMMARY_MAIL = "answers_summary"


class NotYourEvent(InvitationError):
    """An event chosen that the form did not offer: unknown, of another enquiry, or not one
    of the person's invitations."""


class EventClosed(InvitationError):
    """One of the events chosen no longer takes answers or registrations; says which and why."""


@dataclass(frozen=True)
class Choice:
    """One event's answer in a form for several: yes, no or maybe, and a hybrid event's mode."""

    answer: RsvpAnswer
    mode: AttendanceMode | None = None


@dataclass(frozen=True)
class Outcome:
    """What was recorded for one event."""

    invitation: Invitation
    answer: RsvpAnswer
    position: int | None = None

    @property
    def has_place(self) -> bool:
        return self.answer == RsvpAnswer.YES

    @property
    def words(self) -> str:
        """The outcome in words, as the summary mail and page say it."""
        rsvp = self.invitation.rsvp
        if self.answer == RsvpAnswer.YES and rsvp is not None and rsvp.mode is not None:
            return f"A place: you're coming {rsvp.mode.label}"
        if self.answer == RsvpAnswer.WAITLISTED:
            return f"Waiting list: number {self.position} in line"
        if self.answer == RsvpAnswer.MAYBE:
            return "Maybe (a maybe holds no place)"
        return "No, you're not coming"


# --- a person's other invitations, answered from one RSVP page


def _others_where() -> tuple[Any, ...]:
    # The person's (same address) other invitations of the enquiry, published, yet to start.
    return (
        Invitation.email == bindparam("email"),
        Invitation.id != bindparam("id"),
        Event.enquiry_id == bindparam("enquiry_id"),
        Event.status == EventStatus.PUBLISHED,
        Event.starts_at > bindparam("now"),
    )


@cache
def _others_of() -> Select[tuple[Invitation]]:
    # Built once on first use (every RSVP page view asks it), once every model is mapped.
    return (
        select(Invitation)
        .join(Event, Invitation.event_id == Event.id)
        .where(*_others_where())
        .options(joinedload(Invitation.event), joinedload(Invitation.rsvp))
        .order_by(Event.starts_at, Event.id)
    )


def other_invitations(*, invitation: Invitation) -> list[Invitation]:
    """The person's other upcoming invitations in the same enquiry whose answers are open,
    soonest first."""
    found = db.session.scalars(
        _others_of(),
        {
            "email": invitation.email,
            "id": invitation.id,
            "enquiry_id": invitation.event.enquiry_id,
            "now": utcnow(),
        },
    ).all()
    return [other for other in found if attendance.can_change_answer(other)]


@cache
def _other_rows_of() -> Select[Any]:
    # As _others_of, with the answers' deadline asked in SQL too (attendance.can_change_answer):
    # only the columns the RSVP page shows, read as plain rows, no entities.
    return (
        select(
            Invitation.id,
            Event.title,
            Event.starts_at,
            Event.ends_at,
            Event.format,
            Event.capacity,
            Event.places_taken,
            Rsvp.answer,
            Rsvp.mode,
        )
        .join(Event, Invitation.event_id == Event.id)
        .outerjoin(Rsvp, Rsvp.invitation_id == Invitation.id)
        .where(
            *_others_where(),
            or_(Event.rsvp_deadline.is_(None), Event.rsvp_deadline >= bindparam("now")),
        )
        .order_by(Event.starts_at, Event.id)
    )


def other_invitation_rows(
    *, invitation: Invitation | InvitationValues, connection: Connection | None = None
) -> Sequence[Row[Any]]:
    """What the RSVP page shows of other_invitations, as plain rows: the invitation's id, its
    event's title, starts_at, ends_at, format, capacity and places_taken, and its answer and
    mode (None if unanswered). Read on `connection` (by default the session's)."""
    return plain_execute(
        _other_rows_of(),
        {
            "email": invitation.email,
            "id": invitation.id,
            "enquiry_id": invitation.event.enquiry_id,
            "now": utcnow(),
        },
        connection,
    )


def answer_others(*, invitation: Invitation, choices: Mapping[int, Choice]) -> list[Outcome]:
    """Record the person's answers to their other invitations (keyed by invitation id), mail
    one summary and each place's calendar invitation. Raises NotYourEvent or ModeNeeded before
    anything is written, or attendance's InvitationError (the view rolls every answer back)."""
    others = {other.id: other for other in other_invitations(invitation=invitation)}
    for invitation_id in choices:
        if invitation_id not in others:
            raise NotYourEvent(
                "One of the events you answered is not one of your invitations here, or its "
                "answers have closed. Reload the page to see your invitations as they are now."
            )
    if not choices:
        raise InvitationError("Choose an answer for at least one event.")
    chosen = [(others[i], choices[i]) for i in others if i in choices]
    for other, choice in chosen:
        _check_mode(other.event, choice)
    answered = []
    for other, choice in chosen:
        rsvp = other.rsvp
        keep = (
            {"access_needs": rsvp.access_needs, "dietary_needs": rsvp.dietary_needs,
             "question": rsvp.question}
            if rsvp is not None
            else {}
        )  # fmt: skip
        answered.append(_answer(other, choice, **keep))
    _tell(invitation.email, invitation.name, answered, kind="rsvp")
    return [outcome for outcome, _ in answered]


# --- registration for several open events


def open_events(*, enquiry: Enquiry) -> list[Event]:
    """The enquiry's events that take registrations now, soonest first."""
    events = db.session.scalars(
        select(Event)
        .where(
            Event.enquiry_id == enquiry.id,
            Event.access == EventAccess.OPEN,
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > utcnow(),
        )
        .options(joinedload(Event.enquiry))
        .order_by(Event.starts_at, Event.id)
    ).all()
    return [event for event in events if registration.offer_for(event=event).closed is None]


def open_among(events: Sequence[Event]) -> list[Event]:
    """Of an enquiry's events loaded already (each with its enquiry), those open_events finds:
    what a page listing them offers without asking the database again."""
    now = utcnow()
    chosen = sorted(
        (
            event
            for event in events
            if event.access == EventAccess.OPEN
            and event.status == EventStatus.PUBLISHED
            and event.starts_at > now
        ),
        key=lambda event: (event.starts_at, event.id),
    )
    return [event for event in chosen if registration.offer_for(event=event).closed is None]


@dataclass(frozen=True)
class Registered:
    """What the page may say: the outcomes, or (none) only that the details went out."""

    outcomes: list[Outcome]
    email: str = ""


def register_several(
    *,
    enquiry: Enquiry,
    name: str,
    email: str,
    choices: Mapping[int, AttendanceMode | None],
    access_needs: str = "",
    dietary_needs: str = "",
    question: str = "",
) -> Registered:
    """Register someone for several open events of the enquiry (event id → hybrid mode): each
    invited and answered yes, one summary and the calendar invitations queued. An address
    already invited to one of them is mailed its links, and nothing else changes; an erased or
    bounced address gets nothing. Raises NotYourEvent, EventClosed, ModeNeeded."""
    if not choices:
        raise InvitationError("Choose at least one event.")
    events = db.session.scalars(
        select(Event).where(Event.id.in_(list(choices))).order_by(Event.starts_at, Event.id)
    ).all()
    if len(events) != len(choices) or any(e.enquiry_id != enquiry.id for e in events):
        raise NotYourEvent("One of the events chosen is not an event of this enquiry.")
    # Every rule is checked before the address is looked up: the answer is the same for anyone.
    for event in events:
        closed = registration.offer_for(event=event).closed
        if closed is not None:
            raise EventClosed(f"{event.title}: {closed}")
        _check_mode(event, Choice(RsvpAnswer.YES, choices[event.id]))
    email = normalise_email(email)
    if is_suppressed(email) or email in bounced_among([email]):
        return Registered([])
    known = _known(email, events)
    if known:
        for invitation in known:
            enqueue(mail.build_request_place(invitation), kind="request_place")
        return Registered([])
    name = " ".join(name.split())[:200]
    answered = []
    for event in events:
        invitation = registration.invite_requester(event, email, name)
        if invitation is None:
            continue  # the same address registered at this moment: its link has been sent
        answered.append(
            _answer(
                invitation,
                Choice(RsvpAnswer.YES, choices[event.id]),
                access_needs=access_needs,
                dietary_needs=dietary_needs,
                question=question,
            )
        )
    _tell(email, name, answered, kind=registration.REGISTRATION_MAIL, registered=True)
    return Registered([outcome for outcome, _ in answered], email=email)


def _known(email: str, events: Sequence[Event]) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation).where(
                Invitation.email == email, Invitation.event_id.in_([e.id for e in events])
            )
        )
    )


# --- shared


def _check_mode(event: Event, choice: Choice) -> None:
    if event.format == EventFormat.HYBRID and choice.answer == RsvpAnswer.YES:
        if choice.mode is None:
            raise ModeNeeded(f"{event.title}: choose whether you will come in person or online.")


def _answer(invitation: Invitation, choice: Choice, **needs: str) -> tuple[Outcome, bool]:
    """Answer through attendance with no mail of its own; the outcome, and whether the
    person's calendar changes (a new or changed place, or a place given up)."""
    # Read before answering: attendance changes the same Rsvp in place.
    had_entry = invitation.rsvp is not None and invitation.rsvp.answer == RsvpAnswer.YES
    answered = attendance.answer_invitation(
        invitation=invitation,
        answer=attendance.Answer(answer=choice.answer, mode=choice.mode, **needs),
        notify=False,
    )
    rsvp = answered.rsvp
    position = attendance.waitlist_position(rsvp) if rsvp.answer == RsvpAnswer.WAITLISTED else None
    gave_up = had_entry and rsvp.answer in (RsvpAnswer.MAYBE, RsvpAnswer.NO)
    changed = not answered.details_only and (rsvp.answer == RsvpAnswer.YES or gave_up)
    return Outcome(invitation, rsvp.answer, position), changed


def _tell(email: str, name: str, answered: list[tuple[Outcome, bool]], *, kind: str,
          registered: bool = False) -> None:  # fmt: skip
    """One summary of every answer, then each calendar change in a mail of its own."""
    if not answered:
        return
    items = [
        {
            "invitation": outcome.invitation,
            "rsvp_url": rsvp_url(outcome.invitation),
            "outcome": outcome.words,
            "has_place": outcome.has_place,
            "where": mail.where_for(outcome.invitation),
        }
        for outcome, _ in answered
    ]
    batch_key = (
        registration.registration_batch_key([outcome.invitation for outcome, _ in answered])
        if registered
        else None
    )
    enqueue(
        mail.build_answers_summary(email, name, items, registered=registered),
        kind=kind,
        batch_key=batch_key,
    )
    for outcome, changed in answered:
        if not changed:
            continue
        invitation = outcome.invitation
        sequence = attendance.claim_calendar_sequence(invitation)
        if outcome.has_place:
            message = mail.build_rsvp_confirmation(invitation, sequence=sequence)
        else:
            message = mail.build_rsvp_answer(invitation, cancel_sequence=sequence)
        enqueue(message, kind="rsvp")
