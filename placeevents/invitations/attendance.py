"""Attendance: the only code that writes answers (`Rsvp`) and an event's `places_taken`.

Every change of who is coming goes through here: answers from the RSVP page or set by an
organiser, the waiting list and its offers, check-in on the day and its undo, closing check-in,
the erasure of a person and the deletion of personal answers after the retention period.
`places_taken` always equals the in-person answers that hold a place (yes or offered), and is
moved by conditional UPDATEs so capacity is exact under concurrency. A place changing hands
never moves the event's calendar version (`Event.calendar_changed_at`, `Event.sequence`).

| from            | event                                 | to                                   |
|-----------------|---------------------------------------|--------------------------------------|
| (none)/any      | yes, a place is free (or online)      | yes                                  |
| (none)/any      | yes, in person, full                  | waitlisted (at the back of the line) |
| (none)/any      | yes by an organiser, full, overbook   | yes, overbooked (audit log)          |
| waitlisted      | a place frees, event > 48 h away      | yes (confirmation mailed)            |
| waitlisted      | a place frees, event <= 48 h away     | offered (12 h to accept)             |
| offered         | accepted in time                      | yes                                  |
| offered         | offer lapses                          | no (place passed on)                 |
| yes/offered/... | maybe, no, removed, erased            | maybe/no/(gone); place passed on     |
| any/(none)      | checked in, place free or online      | yes, attended                        |
| any/(none)      | checked in, full, overbook            | yes, attended, overbooked (audit)    |
| attended        | check-in undone                       | the answer before check-in           |
| yes             | check-in closed, not checked in       | yes, did not come                    |
"""

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import case, delete, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from placeevents.audit.services import record
from placeevents.clock import utcnow
from placeevents.events.models import Event, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations import mail
from placeevents.invitations.calendar_parts import calendar_was_sent
from placeevents.invitations.errors import AnswersClosed, InvitationError, ModeNeeded
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer
from placeevents.mail.outbox import enqueue

if TYPE_CHECKING:
    from placeevents.auth.models import Organiser

# A place freed this close to the start is offered, not given, so nobody is booked unawares.
OFFER_WINDOW = timedelta(hours=48)
OFFER_TIME = timedelta(hours=12)
# `answer_before_check_in` of someone who had not answered before they were checked in.
NO_ANSWER = ""


class CheckInError(InvitationError):
    """A check-in that cannot be made as asked; the message is for the organiser."""


class PlaceNeeded(CheckInError):
    """Every in-person place is taken: checking this person in would overbook the event."""


# --- what is known of whether someone came


class Presence(enum.StrEnum):
    """Whether a person came, as far as the app knows."""

    EXPECTED = "expected"
    CAME = "came"
    DID_NOT_COME = "did_not_come"
    UNKNOWN = "unknown"
    NOT_COMING = "not_coming"

    @property
    def label(self) -> str:
        return {
            "expected": "Coming",
            "came": "Came",
            "did_not_come": "Did not come",
            "unknown": "Said yes (not checked in)",
            "not_coming": "",
        }[self.value]


def presence(event: Event, answer: RsvpAnswer | None, attended: bool) -> Presence:
    """Came, did not come, expected or unknown: a yes without a check-in is absent only once
    the organisers have closed check-in, so one stray check-in never marks everyone absent."""
    if attended:
        return Presence.CAME
    if answer != RsvpAnswer.YES or event.status == EventStatus.CANCELLED:
        return Presence.NOT_COMING
    if event.check_in_closed_at is not None:
        return Presence.DID_NOT_COME
    if event.has_ended:
        return Presence.UNKNOWN
    return Presence.EXPECTED


# --- places


def _who(invitation: Invitation) -> str:
    return f"{invitation.name} <{invitation.email}>" if invitation.name else invitation.email


def _lock(invitation: Invitation) -> Invitation:
    # Two answers from the same person at once are taken one after the other (PostgreSQL).
    db.session.execute(
        select(Invitation.id).where(Invitation.id == invitation.id).with_for_update()
    )
    db.session.refresh(invitation, ["rsvp"])
    return invitation


def _take_place(event_id: int) -> bool:
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


def _force_place(event_id: int) -> None:
    table = Event.__table__
    db.session.execute(
        table.update()
        .where(table.c.id == event_id)
        .values(places_taken=table.c.places_taken + 1)
    )


def _release_place(event_id: int) -> None:
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


def _refresh_places(event: Event) -> None:
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


def _mark_reminded_if_due(invitation: Invitation, now: datetime) -> None:
    # A confirmation sent inside the reminder window already is the reminder.
    event = invitation.event
    if now >= event.starts_at - timedelta(hours=event.reminder_lead_hours):
        invitation.event_reminder_sent_at = now


def promote_waitlist(event: Event) -> list[Invitation]:
    """Give free in-person places to the first in line, telling each by mail.

    Within 48 hours of the start a place is offered, to accept within 12 hours. Called
    whenever places free up: an answer changes, someone is removed or erased, capacity rises.
    """
    promoted: list[Invitation] = []
    if event.status != EventStatus.PUBLISHED or utcnow() >= event.starts_at:
        return promoted
    now = utcnow()
    while _take_place(event.id):
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
            _release_place(event.id)
            break
        invitation = first.invitation
        offered = event.starts_at - now <= OFFER_WINDOW
        if offered:
            first.answer = RsvpAnswer.OFFERED
            first.offer_expires_at = min(now + OFFER_TIME, event.starts_at)
        else:
            first.answer = RsvpAnswer.YES
            first.waitlisted_at = None
            _mark_reminded_if_due(invitation, now)
        db.session.flush()
        message = (
            mail.build_waitlist_offer(invitation)
            if offered
            else _confirmation(invitation, promoted=True)
        )
        enqueue(message, kind="waitlist_promotion")
        promoted.append(invitation)
    _refresh_places(event)
    return promoted


def capacity_changed(*, event: Event) -> list[Invitation]:
    """After an organiser changes the event's places: give any new ones to the waiting list."""
    return promote_waitlist(event)


# --- answering


@dataclass(frozen=True)
class Answer:
    """What someone answered on their RSVP page (or an organiser on their behalf)."""

    answer: RsvpAnswer
    mode: AttendanceMode | None = None
    wants_notes: bool = False
    access_needs: str = ""
    dietary_needs: str = ""
    question: str = ""


def _resolve_mode(event: Event, mode: AttendanceMode | None) -> AttendanceMode:
    if event.format == EventFormat.IN_PERSON:
        return AttendanceMode.IN_PERSON
    if event.format == EventFormat.ONLINE:
        return AttendanceMode.ONLINE
    if mode is None:
        raise ModeNeeded("Choose whether you will come in person or join online.")
    return mode


def can_change_answer(invitation: Invitation) -> bool:
    """Whether the invitee may still change their answer freely (before deadline and start)."""
    event = invitation.event
    now = utcnow()
    if event.status != EventStatus.PUBLISHED or now >= event.starts_at:
        return False
    return event.rsvp_deadline is None or now <= event.rsvp_deadline


def can_withdraw(invitation: Invitation) -> bool:
    """A person with a place or on the waiting list can always say no until the start."""
    rsvp = invitation.rsvp
    return (
        invitation.event.status == EventStatus.PUBLISHED
        and utcnow() < invitation.event.starts_at
        and rsvp is not None
        and rsvp.answer in (RsvpAnswer.YES, RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED)
    )


def _check_open(invitation: Invitation, answer: Answer) -> None:
    event = invitation.event
    if event.status == EventStatus.CANCELLED:
        raise AnswersClosed("This event has been cancelled, so answers are closed.")
    if can_change_answer(invitation):
        return
    if answer.answer == RsvpAnswer.NO and can_withdraw(invitation):
        return
    if utcnow() >= event.starts_at:
        raise AnswersClosed("This event has started, so answers are closed.")
    raise AnswersClosed(
        "The deadline for answers has passed. If you have a place you can still say no."
    )


def _apply(
    invitation: Invitation,
    answer: Answer,
    *,
    organiser: "Organiser | None",
    overbook: bool,
) -> tuple[Rsvp, bool]:
    """Record an answer and move places; returns the Rsvp and whether a place was freed."""
    event = invitation.event
    now = utcnow()
    rsvp = invitation.rsvp
    if rsvp is None:
        rsvp = Rsvp(answer=answer.answer, invitation=invitation)
        db.session.add(rsvp)
    had_place = holds_place(rsvp) if rsvp.id is not None else False
    was = rsvp.answer if rsvp.id is not None else None
    freed = False
    rsvp.wants_notes = answer.answer == RsvpAnswer.NO and answer.wants_notes
    rsvp.set_by_organiser_id = organiser.id if organiser is not None else None
    rsvp.answered_at = now

    if answer.answer == RsvpAnswer.YES:
        mode = _resolve_mode(event, answer.mode)
        rsvp.mode = mode
        rsvp.access_needs = answer.access_needs.strip() if event.ask_access_needs else ""
        rsvp.dietary_needs = answer.dietary_needs.strip() if event.ask_dietary_needs else ""
        rsvp.question = answer.question.strip() if event.ask_question else ""
        if mode == AttendanceMode.ONLINE:
            freed = had_place
            rsvp.answer = RsvpAnswer.YES
            rsvp.waitlisted_at = None
            rsvp.overbooked = False
        elif had_place:
            rsvp.answer = RsvpAnswer.YES
        elif was == RsvpAnswer.WAITLISTED and not overbook:
            rsvp.answer = RsvpAnswer.WAITLISTED
        elif _take_place(event.id):
            rsvp.answer = RsvpAnswer.YES
            rsvp.waitlisted_at = None
            rsvp.overbooked = False
        elif overbook:
            _force_place(event.id)
            rsvp.answer = RsvpAnswer.YES
            rsvp.waitlisted_at = None
            rsvp.overbooked = True
        else:
            rsvp.answer = RsvpAnswer.WAITLISTED
            rsvp.waitlisted_at = now
        if rsvp.answer == RsvpAnswer.YES:
            rsvp.offer_expires_at = None
            if was != RsvpAnswer.YES:
                _mark_reminded_if_due(invitation, now)
    else:
        freed = had_place
        rsvp.answer = answer.answer
        rsvp.mode = None
        rsvp.waitlisted_at = None
        rsvp.offer_expires_at = None
        rsvp.overbooked = False
        rsvp.access_needs = rsvp.dietary_needs = rsvp.question = ""
    if freed:
        _release_place(event.id)
    db.session.flush()
    return rsvp, freed


def _confirmation(invitation: Invitation, *, promoted: bool = False) -> EmailMessage:
    return mail.build_rsvp_confirmation(
        invitation, promoted=promoted, sequence=claim_calendar_sequence(invitation)
    )


def _answer_mail(invitation: Invitation) -> EmailMessage:
    rsvp = invitation.rsvp
    assert rsvp is not None
    if rsvp.answer == RsvpAnswer.YES:
        return _confirmation(invitation)
    if rsvp.answer == RsvpAnswer.WAITLISTED:
        return mail.build_waitlist_joined(invitation, position=waitlist_position(rsvp))
    sent = calendar_was_sent(invitation)
    return mail.build_rsvp_answer(
        invitation, cancel_sequence=claim_calendar_sequence(invitation) if sent else None
    )


def answer_invitation(*, invitation: Invitation, answer: Answer) -> Rsvp:
    """The invitee answers: places are taken or freed exactly, and a confirmation is mailed."""
    if answer.answer not in (RsvpAnswer.YES, RsvpAnswer.MAYBE, RsvpAnswer.NO):
        raise InvitationError("Choose one of the answers.")
    _lock(invitation)
    _check_open(invitation, answer)
    if answer.answer == RsvpAnswer.YES and invitation.rsvp is not None:
        rsvp = invitation.rsvp
        if rsvp.answer == RsvpAnswer.OFFERED and rsvp.offer_expires_at is not None:
            if utcnow() >= rsvp.offer_expires_at:
                raise InvitationError("The offer of a place has lapsed and passed on.")
    if invitation.rsvp is not None and invitation.rsvp.attended:
        raise AnswersClosed("You have been checked in at this event, so your answer stays.")
    rsvp, freed = _apply(invitation, answer, organiser=None, overbook=False)
    enqueue(_answer_mail(invitation), kind="rsvp")
    if freed:
        promote_waitlist(invitation.event)
    _refresh_places(invitation.event)
    return rsvp


def accept_offer(*, invitation: Invitation) -> Rsvp:
    """Accept a place offered from the waiting list, before the offer lapses."""
    _lock(invitation)
    rsvp = invitation.rsvp
    if rsvp is None or rsvp.answer != RsvpAnswer.OFFERED:
        raise InvitationError("There is no offer of a place waiting for you.")
    if rsvp.offer_expires_at is not None and utcnow() >= rsvp.offer_expires_at:
        raise InvitationError("The offer of a place has lapsed and passed on.")
    rsvp.answer = RsvpAnswer.YES
    rsvp.offer_expires_at = None
    rsvp.waitlisted_at = None
    rsvp.answered_at = utcnow()
    _mark_reminded_if_due(invitation, utcnow())
    db.session.flush()
    enqueue(_confirmation(invitation), kind="rsvp")
    return rsvp


def set_answer_for(
    *,
    invitation: Invitation,
    answer: Answer,
    organiser: "Organiser",
    overbook: bool = False,
    notify: bool = True,
) -> Rsvp:
    """An organiser sets someone's answer (recorded); when full, a yes waits unless overbooked."""
    if answer.answer not in (RsvpAnswer.YES, RsvpAnswer.MAYBE, RsvpAnswer.NO):
        raise InvitationError("Choose one of the answers.")
    _lock(invitation)
    if invitation.event.status == EventStatus.CANCELLED:
        raise AnswersClosed("This event has been cancelled.")
    if invitation.rsvp is not None and invitation.rsvp.attended:
        raise AnswersClosed(
            f"{_who(invitation)} has been checked in. Undo the check-in to change the answer."
        )
    rsvp, freed = _apply(invitation, answer, organiser=organiser, overbook=overbook)
    detail = f"{invitation.email}: {rsvp.answer.value}"
    if rsvp.mode is not None:
        detail += f" ({rsvp.mode.value})"
    if rsvp.overbooked and overbook:
        detail += ", overbooked"
    record(action="rsvp.set_by_organiser", target=f"event:{invitation.event_id}", detail=detail)
    if notify:
        enqueue(_answer_mail(invitation), kind="rsvp")
    if freed:
        promote_waitlist(invitation.event)
    _refresh_places(invitation.event)
    return rsvp


def remove_invitation(*, invitation: Invitation, organiser: "Organiser") -> Event:
    """Remove someone from an event's list, freeing their place for the next in line."""
    _lock(invitation)
    event = invitation.event
    had_place = holds_place(invitation.rsvp)
    record(
        action="invitation.removed",
        target=f"event:{event.id}",
        detail=invitation.email,
        organiser=organiser,
    )
    db.session.delete(invitation)
    db.session.flush()
    if had_place:
        _release_place(event.id)
        promote_waitlist(event)
    _refresh_places(event)
    return event


def expire_offers() -> int:
    """Lapse offers not accepted in time and pass each place on to the next in line."""
    now = utcnow()
    lapsed = db.session.scalars(
        select(Rsvp)
        .where(Rsvp.answer == RsvpAnswer.OFFERED, Rsvp.offer_expires_at <= now)
        .options(joinedload(Rsvp.invitation).joinedload(Invitation.event))
        .with_for_update(skip_locked=True, of=Rsvp)
    ).all()
    events: dict[int, Event] = {}
    for rsvp in lapsed:
        invitation = rsvp.invitation
        rsvp.answer = RsvpAnswer.NO
        rsvp.mode = None
        rsvp.offer_expires_at = None
        rsvp.waitlisted_at = None
        _release_place(invitation.event_id)
        db.session.flush()
        enqueue(mail.build_waitlist_lapsed(invitation), kind="waitlist_lapsed")
        events[invitation.event_id] = invitation.event
    for event in events.values():
        promote_waitlist(event)
    return len(lapsed)


def record_history(
    *, invitation: Invitation, answer: Answer, answered_at: datetime, came: bool = False
) -> Rsvp:
    """An answer as history has it (the demo enquiry): places move as for any answer, and
    nothing is mailed or logged. `came` records a check-in at the event's start."""
    rsvp, _ = _apply(invitation, answer, organiser=None, overbook=True)
    rsvp.answered_at = answered_at
    if came and rsvp.answer == RsvpAnswer.YES:
        rsvp.attended = True
        rsvp.checked_in_at = invitation.event.starts_at
    db.session.flush()
    return rsvp


# --- check-in on the day


def _arrival_mode(event: Event, rsvp: Rsvp | None) -> AttendanceMode:
    if event.format == EventFormat.ONLINE:
        return AttendanceMode.ONLINE
    if event.format == EventFormat.HYBRID and rsvp is not None and rsvp.mode is not None:
        return rsvp.mode
    return AttendanceMode.IN_PERSON


def check_in(
    *, event: Event, invitation: Invitation, organiser: Any, overbook: bool = False
) -> Rsvp:
    """Mark someone as arrived. Whoever had no place takes a free one, or an explicit
    overbooking (PlaceNeeded without `overbook`); their answer before is kept for undo."""
    _lock(invitation)
    now = utcnow()
    rsvp = invitation.rsvp
    if rsvp is not None and rsvp.attended:
        return rsvp
    if rsvp is not None and rsvp.answer == RsvpAnswer.YES:
        rsvp.attended = True
        rsvp.checked_in_at = now
        detail = f"{_who(invitation)} (answer: {rsvp.answer.label.lower()})"
    else:
        mode = _arrival_mode(event, rsvp)
        needs_place = mode == AttendanceMode.IN_PERSON and not holds_place(rsvp)
        overbooked = False
        if needs_place and not _take_place(event.id):
            if not overbook:
                raise PlaceNeeded(
                    f"Every in-person place is taken. Check {_who(invitation)} in anyway "
                    "to overbook the event by one."
                )
            _force_place(event.id)
            overbooked = True
        before = NO_ANSWER if rsvp is None else rsvp.answer.value
        if rsvp is None:
            rsvp = Rsvp(answer=RsvpAnswer.YES, invitation=invitation)
            db.session.add(rsvp)
        rsvp.answer = RsvpAnswer.YES
        rsvp.mode = mode
        rsvp.offer_expires_at = None
        rsvp.answered_at = now
        rsvp.set_by_organiser_id = organiser.id if organiser is not None else None
        rsvp.overbooked = overbooked or rsvp.overbooked
        rsvp.attended = True
        rsvp.checked_in_at = now
        rsvp.answer_before_check_in = before
        was = "no answer" if before == NO_ANSWER else RsvpAnswer(before).label.lower()
        detail = f"{_who(invitation)} ({was} before; recorded as coming"
        detail += ", overbooked)" if overbooked else ")"
    db.session.flush()
    record(action="check-in", target=f"event:{event.id}", detail=detail, organiser=organiser)
    _refresh_places(event)
    return rsvp


def undo_check_in(*, event: Event, invitation: Invitation, organiser: Any) -> Invitation:
    """Take back a check-in; an answer check-in changed goes back to what it was."""
    _lock(invitation)
    rsvp = invitation.rsvp
    if rsvp is None or not rsvp.attended:
        return invitation
    before = rsvp.answer_before_check_in
    freed = False
    if before is None:
        rsvp.attended = False
        rsvp.checked_in_at = None
        detail = _who(invitation)
    else:
        freed = holds_place(rsvp)
        if freed:
            _release_place(event.id)
        if before == NO_ANSWER:
            db.session.delete(rsvp)
            invitation.rsvp = None
            detail = f"{_who(invitation)} (the answer recorded at check-in is removed)"
        else:
            previous = RsvpAnswer(before)
            rsvp.answer = previous
            rsvp.attended = False
            rsvp.checked_in_at = None
            rsvp.overbooked = False
            rsvp.answer_before_check_in = None
            if previous == RsvpAnswer.WAITLISTED:
                # Back in line where they stood (waitlisted_at was kept).
                rsvp.waitlisted_at = rsvp.waitlisted_at or utcnow()
            else:
                rsvp.mode = None
                rsvp.waitlisted_at = None
            detail = f"{_who(invitation)} (answer back to {previous.label.lower()})"
    db.session.flush()
    record(action="check-in.undone", target=f"event:{event.id}", detail=detail, organiser=organiser)
    if freed:
        promote_waitlist(event)
    _refresh_places(event)
    return invitation


def close_check_in(*, event: Event, organiser: Any) -> Event:
    """Check-in is finished: from now on a yes without a check-in did not come."""
    if event.check_in_closed_at is None:
        event.check_in_closed_at = utcnow()
        db.session.flush()
        record(action="check-in.closed", target=f"event:{event.id}", organiser=organiser)
    return event


def reopen_check_in(*, event: Event, organiser: Any) -> Event:
    """Check-in is open again: who did not come is unknown until it is closed once more."""
    if event.check_in_closed_at is not None:
        event.check_in_closed_at = None
        db.session.flush()
        record(action="check-in.reopened", target=f"event:{event.id}", organiser=organiser)
    return event


# --- calendar versions mailed to a person


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


# --- erasure and retention


def names_of(*, email: str) -> set[str]:
    """The names an address was invited under, so an erasure can redact them too."""
    return set(db.session.scalars(select(Invitation.name).where(Invitation.email == email)))


def erase_invitations(*, email: str) -> int:
    """Delete every invitation of an address (answers with them); freed places go to the next
    in line. Returns how many invitations went."""
    invitations = db.session.scalars(
        select(Invitation)
        .where(Invitation.email == email)
        .options(joinedload(Invitation.rsvp), joinedload(Invitation.event))
        .with_for_update(of=Invitation)
    ).all()
    freed = {i.event_id: i.event for i in invitations if holds_place(i.rsvp)}
    for event_id in freed:
        _release_place(event_id)
    if invitations:
        # Rsvp rows go with their invitation (ON DELETE CASCADE).
        db.session.execute(
            delete(Invitation)
            .where(Invitation.id.in_([i.id for i in invitations]))
            .execution_options(synchronize_session=False)
        )
        for invitation in invitations:
            db.session.expunge(invitation)  # its answer goes with it (cascade)
    for event in freed.values():
        promote_waitlist(event)
        _refresh_places(event)
    return len(invitations)


def forget_event(*, event: Event) -> int:
    """Delete every invitation and answer of an event that is being removed; how many."""
    result = db.session.execute(
        delete(Invitation)
        .where(Invitation.event_id == event.id)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def erase_personal_answers(*, now: datetime, days: int) -> int:
    """Blank access and dietary answers of events that ended `days` ago; returns how many."""
    ended = (
        select(Invitation.id)
        .join(Event, Event.id == Invitation.event_id)
        .where(Event.ends_at <= now - timedelta(days=days))
    )
    result = db.session.execute(
        update(Rsvp)
        .where(
            Rsvp.invitation_id.in_(ended),
            sa.or_(Rsvp.access_needs != "", Rsvp.dietary_needs != ""),
        )
        .values(access_needs="", dietary_needs="")
        .execution_options(synchronize_session=False)
    )
    count = result.rowcount or 0
    if count:
        record(
            action="personal-data.erased",
            target="access and dietary answers",
            detail=f"{count} answers blanked, {days} days after their events",
        )
    return count
