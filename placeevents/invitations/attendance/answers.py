"""Answers: from the RSVP page, set by an organiser, offers accepted and lapsed, removal."""

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from placeevents.audit.services import record
from placeevents.clock import utcnow
from placeevents.events.models import Event, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations import mail
from placeevents.invitations.attendance.places import (
    COLUMNS,
    claim_calendar_sequence,
    confirmation,
    force_place,
    held_modes,
    lock,
    mark_reminded_if_due,
    promote_waitlist,
    refresh_places,
    release_place,
    someone_waiting,
    switch_mode,
    take_place,
    waitlist_position,
    waits_for,
    who,
)
from placeevents.invitations.calendar_parts import calendar_was_sent
from placeevents.invitations.errors import AnswersClosed, InvitationError, ModeNeeded
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer
from placeevents.mail.outbox import enqueue

if TYPE_CHECKING:
    from placeevents.auth.models import Organiser


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


def _take(event: Event, mode: AttendanceMode, *, overbook: bool) -> bool | None:
    """Take a place of this mode: True if free, False if forced (overbooked), None if full."""
    if take_place(event.id, mode):
        return True
    if overbook:
        force_place(event.id, mode)
        return False
    return None


def _yes(rsvp: Rsvp, mode: AttendanceMode, *, overbook: bool, now: datetime) -> set:
    """Move a yes in `mode`; returns the modes whose place was given up."""
    event = rsvp.invitation.event
    held = held_modes(rsvp) if rsvp.id is not None else []
    was = rsvp.answer if rsvp.id is not None else None
    own = rsvp.mode if was in (RsvpAnswer.YES, RsvpAnswer.OFFERED) else None
    freed: set[AttendanceMode] = set()

    def stop_waiting() -> None:
        # The other mode's wait ends; a place offered there goes on.
        if rsvp.waiting_for is not None and rsvp.waiting_for in held:
            freed.add(rsvp.waiting_for)
        rsvp.waiting_for = None
        rsvp.waitlisted_at = None
        rsvp.offer_expires_at = None

    if own == mode:
        stop_waiting()
        rsvp.answer = RsvpAnswer.YES
    elif was == RsvpAnswer.YES and rsvp.waiting_for == mode:
        if mode in held:
            freed.add(switch_mode(rsvp.invitation, now, release=False))
        elif (taken := _take(event, mode, overbook=overbook)) is not None:
            freed.add(switch_mode(rsvp.invitation, now, release=False))
            rsvp.overbooked = not taken
        # Otherwise they keep their place and their turn in the other line.
    elif was == RsvpAnswer.WAITLISTED and rsvp.mode == mode and not overbook:
        pass
    elif (taken := _take(event, mode, overbook=overbook)) is not None:
        if own is not None:
            freed.add(own)
        waited = rsvp.mode if was == RsvpAnswer.WAITLISTED and rsvp.mode != mode else None
        rsvp.answer = RsvpAnswer.YES
        rsvp.overbooked = not taken
        rsvp.offer_expires_at = None
        # Someone waiting for the other mode who joins this one now keeps their turn there.
        rsvp.waiting_for = waited
        if waited is None:
            rsvp.waitlisted_at = None
        rsvp.mode = mode
    elif was == RsvpAnswer.YES and own is not None:
        # Full: they keep the place they hold and wait for one in this mode.
        stop_waiting()
        rsvp.waiting_for = mode
        rsvp.waitlisted_at = now
    else:
        freed.update(held)
        rsvp.answer = RsvpAnswer.WAITLISTED
        rsvp.mode = mode
        rsvp.waiting_for = None
        rsvp.offer_expires_at = None
        rsvp.waitlisted_at = now
        rsvp.overbooked = False
    return freed


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
    was = rsvp.answer if rsvp.id is not None else None
    rsvp.wants_notes = answer.answer == RsvpAnswer.NO and answer.wants_notes
    rsvp.set_by_organiser_id = organiser.id if organiser is not None else None
    rsvp.answered_at = now

    if answer.answer == RsvpAnswer.YES:
        mode = _resolve_mode(event, answer.mode)
        rsvp.access_needs = answer.access_needs.strip() if event.ask_access_needs else ""
        rsvp.dietary_needs = answer.dietary_needs.strip() if event.ask_dietary_needs else ""
        rsvp.question = answer.question.strip() if event.ask_question else ""
        freed = _yes(rsvp, mode, overbook=overbook, now=now)
        if rsvp.answer == RsvpAnswer.YES and rsvp.waiting_for is None:
            rsvp.offer_expires_at = None
        if rsvp.answer == RsvpAnswer.YES and was != RsvpAnswer.YES:
            mark_reminded_if_due(invitation, now)
    else:
        freed = set(held_modes(rsvp)) if rsvp.id is not None else set()
        rsvp.answer = answer.answer
        rsvp.mode = None
        rsvp.waiting_for = None
        rsvp.waitlisted_at = None
        rsvp.offer_expires_at = None
        rsvp.overbooked = False
        rsvp.access_needs = rsvp.dietary_needs = rsvp.question = ""
    for mode in freed:
        release_place(event.id, mode)
    db.session.flush()
    return rsvp, bool(freed)


def _answer_mail(invitation: Invitation, *, joined_line: bool = False) -> EmailMessage:
    rsvp = invitation.rsvp
    assert rsvp is not None
    if rsvp.answer == RsvpAnswer.WAITLISTED or joined_line:
        return mail.build_waitlist_joined(invitation, position=waitlist_position(rsvp))
    if rsvp.answer == RsvpAnswer.YES:
        return confirmation(invitation)
    sent = calendar_was_sent(invitation)
    return mail.build_rsvp_answer(
        invitation, cancel_sequence=claim_calendar_sequence(invitation) if sent else None
    )


def _state(rsvp: Rsvp | None) -> tuple:
    if rsvp is None or rsvp.id is None:
        return (None, None, None)
    return (rsvp.answer, rsvp.mode, waits_for(rsvp))


@dataclass(frozen=True)
class Answered:
    """An invitee's answer as recorded; `details_only` when a confirmed person kept their place
    and mode and changed only what they told us (access needs, diet, a question)."""

    rsvp: Rsvp
    details_only: bool = False
    # Whether the place this answer gave up went to the next person on the waiting list.
    passed_on: bool = False
    # Someone keeping their place who joined, or left, the waiting list of the other mode.
    joined_line: bool = False
    left_line: bool = False


def passes_place_on(*, invitation: Invitation, answer: RsvpAnswer) -> bool:
    """Whether this answer would give the person's place (in person or online) to someone
    waiting: worth asking them first."""
    event = invitation.event
    if answer not in (RsvpAnswer.MAYBE, RsvpAnswer.NO) or utcnow() >= event.starts_at:
        return False
    for mode in held_modes(invitation.rsvp):
        limit, taken = (getattr(event, name) for name in COLUMNS[mode])
        # An overbooked mode frees no place by one person leaving.
        if limit is not None and taken <= limit and someone_waiting(event, mode):
            return True
    return False


def answer_invitation(
    *,
    invitation: Invitation,
    answer: Answer,
    mail_kind: str = "rsvp",
    batch_key: str | None = None,
    notify: bool = True,
) -> Answered:
    """The invitee answers: places are taken or freed exactly, and a confirmation is mailed
    (not again to someone confirmed who only changed their details), as a `mail_kind` message
    in the outbox batch `batch_key` (how a registration's first mail is told apart). With
    `notify` False nothing is mailed to them: the caller sends one mail for several answers."""
    if answer.answer not in (RsvpAnswer.YES, RsvpAnswer.MAYBE, RsvpAnswer.NO):
        raise InvitationError("Choose one of the answers.")
    lock(invitation)
    _check_open(invitation, answer)
    if answer.answer == RsvpAnswer.YES and invitation.rsvp is not None:
        rsvp = invitation.rsvp
        accepts = rsvp.answer == RsvpAnswer.OFFERED or (
            rsvp.waiting_for is not None and answer.mode == rsvp.waiting_for
        )
        if accepts and rsvp.offer_expires_at is not None:
            if utcnow() >= rsvp.offer_expires_at:
                raise InvitationError("The offer of a place has lapsed and passed on.")
    if invitation.rsvp is not None and invitation.rsvp.attended:
        raise AnswersClosed("You have been checked in at this event, so your answer stays.")
    was = _state(invitation.rsvp)
    rsvp, freed = _apply(invitation, answer, organiser=None, overbook=False)
    now = _state(rsvp)
    same_place = was[:2] == (RsvpAnswer.YES, rsvp.mode) and rsvp.answer == RsvpAnswer.YES
    joined_line = same_place and now[2] is not None and was[2] is None
    left_line = same_place and now[2] is None and was[2] is not None
    details_only = same_place and now[2] == was[2]
    if notify and not (details_only or left_line):
        message = _answer_mail(invitation, joined_line=joined_line)
        enqueue(message, kind=mail_kind, batch_key=batch_key)
    promoted = promote_waitlist(invitation.event) if freed else []
    refresh_places(invitation.event)
    return Answered(
        rsvp, details_only, passed_on=bool(promoted), joined_line=joined_line, left_line=left_line
    )


def accept_offer(*, invitation: Invitation) -> Rsvp:
    """Accept a place offered from a waiting list, before the offer lapses; someone who held a
    place in the other mode moves, and that place goes to the next in its line."""
    lock(invitation)
    rsvp = invitation.rsvp
    if rsvp is None or rsvp.offer_expires_at is None:
        raise InvitationError("There is no offer of a place waiting for you.")
    if utcnow() >= rsvp.offer_expires_at:
        raise InvitationError("The offer of a place has lapsed and passed on.")
    switching = rsvp.answer == RsvpAnswer.YES and rsvp.waiting_for is not None
    if switching:
        switch_mode(invitation, utcnow())
    else:
        rsvp.answer = RsvpAnswer.YES
        rsvp.offer_expires_at = None
        rsvp.waitlisted_at = None
        rsvp.answered_at = utcnow()
        mark_reminded_if_due(invitation, utcnow())
    db.session.flush()
    enqueue(confirmation(invitation), kind="rsvp")
    if switching:
        promote_waitlist(invitation.event)
    refresh_places(invitation.event)
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
    lock(invitation)
    if invitation.event.status == EventStatus.CANCELLED:
        raise AnswersClosed("This event has been cancelled.")
    if invitation.rsvp is not None and invitation.rsvp.attended:
        raise AnswersClosed(
            f"{who(invitation)} has been checked in. Undo the check-in to change the answer."
        )
    was = _state(invitation.rsvp)
    rsvp, freed = _apply(invitation, answer, organiser=organiser, overbook=overbook)
    now = _state(rsvp)
    joined_line = was[:2] == now[:2] == (RsvpAnswer.YES, rsvp.mode) and was[2] is None
    joined_line = joined_line and now[2] is not None
    detail = f"{invitation.email}: {rsvp.answer.value}"
    if rsvp.mode is not None:
        detail += f" ({rsvp.mode.value})"
    if now[2] is not None and rsvp.answer == RsvpAnswer.YES:
        detail += f", waiting for {now[2].label}"
    if rsvp.overbooked and overbook:
        detail += ", overbooked"
    record(action="rsvp.set_by_organiser", target=f"event:{invitation.event_id}", detail=detail)
    if notify:
        enqueue(_answer_mail(invitation, joined_line=joined_line), kind="rsvp")
    if freed:
        promote_waitlist(invitation.event)
    refresh_places(invitation.event)
    return rsvp


def remove_invitation(*, invitation: Invitation, organiser: "Organiser") -> Event:
    """Remove someone from an event's list, freeing their place for the next in line."""
    lock(invitation)
    event = invitation.event
    held = held_modes(invitation.rsvp)
    record(
        action="invitation.removed",
        target=f"event:{event.id}",
        detail=invitation.email,
        organiser=organiser,
    )
    db.session.delete(invitation)
    db.session.flush()
    for mode in held:
        release_place(event.id, mode)
    if held:
        promote_waitlist(event)
    refresh_places(event)
    return event


def release_unreachable(*, invitation: Invitation) -> bool:
    """Someone whose confirmation the mail server refused is not coming: their answer becomes
    no (nothing is mailed: it could not arrive) and a place they held goes to the next in line.
    False when there was nothing to release (they already said no, or were checked in)."""
    lock(invitation)
    rsvp = invitation.rsvp
    if (
        rsvp is None
        or rsvp.attended
        or rsvp.answer not in (RsvpAnswer.YES, RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED)
    ):
        return False
    _, freed = _apply(invitation, Answer(answer=RsvpAnswer.NO), organiser=None, overbook=False)
    if freed:
        promote_waitlist(invitation.event)
    refresh_places(invitation.event)
    return True


def expire_offers() -> int:
    """Lapse offers not accepted in time and pass each place on to the next in line."""
    now = utcnow()
    lapsed = db.session.scalars(
        select(Rsvp)
        .where(Rsvp.offer_expires_at <= now)
        .options(joinedload(Rsvp.invitation).joinedload(Invitation.event))
        .with_for_update(skip_locked=True, of=Rsvp)
    ).all()
    events: dict[int, Event] = {}
    for rsvp in lapsed:
        invitation = rsvp.invitation
        if rsvp.answer == RsvpAnswer.YES and rsvp.waiting_for is not None:
            # They keep the place they held; the one offered in the other mode goes on.
            release_place(invitation.event_id, rsvp.waiting_for)
            rsvp.waiting_for = None
        else:
            release_place(invitation.event_id, rsvp.mode or AttendanceMode.IN_PERSON)
            rsvp.answer = RsvpAnswer.NO
            rsvp.mode = None
        rsvp.offer_expires_at = None
        rsvp.waitlisted_at = None
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
