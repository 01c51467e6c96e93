"""Check-in on the day, its undo, finishing check-in, and what is known of who came."""

import enum
from typing import TYPE_CHECKING, Any

from placeevents.audit.services import record
from placeevents.clock import utcnow
from placeevents.events.models import Event, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations.attendance.places import (
    force_place,
    held_modes,
    holds_place,
    lock,
    promote_waitlist,
    refresh_places,
    release_place,
    take_place,
    who,
)
from placeevents.invitations.errors import InvitationError
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer

if TYPE_CHECKING:
    pass


# `answer_before_check_in` of someone who had not answered before they were checked in.
NO_ANSWER = ""


class CheckInError(InvitationError):
    """A check-in that cannot be made as asked; the message is for the organiser."""


class PlaceNeeded(CheckInError):
    """Every place of their mode is taken: checking this person in would overbook the event."""


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
    lock(invitation)
    now = utcnow()
    rsvp = invitation.rsvp
    if rsvp is not None and rsvp.attended:
        return rsvp
    freed = False
    if rsvp is not None and rsvp.answer == RsvpAnswer.YES:
        if rsvp.waiting_for is not None:
            # Arrived in the mode they hold: they wait no more, and a place offered goes on.
            freed = holds_place(rsvp, rsvp.waiting_for)
            if freed:
                release_place(event.id, rsvp.waiting_for)
            rsvp.waiting_for = rsvp.waitlisted_at = rsvp.offer_expires_at = None
        rsvp.attended = True
        rsvp.checked_in_at = now
        detail = f"{who(invitation)} (answer: {rsvp.answer.label.lower()})"
    else:
        mode = _arrival_mode(event, rsvp)
        needs_place = not holds_place(rsvp, mode)
        overbooked = False
        if needs_place and not take_place(event.id, mode):
            if not overbook:
                raise PlaceNeeded(
                    f"Every {mode.label} place is taken. Check {who(invitation)} in anyway "
                    "to overbook the event by one."
                )
            force_place(event.id, mode)
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
        detail = f"{who(invitation)} ({was} before; recorded as coming"
        detail += ", overbooked)" if overbooked else ")"
    db.session.flush()
    record(action="check-in", target=f"event:{event.id}", detail=detail, organiser=organiser)
    if freed:
        promote_waitlist(event)
    refresh_places(event)
    return rsvp


def undo_check_in(*, event: Event, invitation: Invitation, organiser: Any) -> Invitation:
    """Take back a check-in; an answer check-in changed goes back to what it was."""
    lock(invitation)
    rsvp = invitation.rsvp
    if rsvp is None or not rsvp.attended:
        return invitation
    before = rsvp.answer_before_check_in
    freed = False
    if before is None:
        rsvp.attended = False
        rsvp.checked_in_at = None
        detail = who(invitation)
    else:
        held = held_modes(rsvp)
        for mode in held:
            release_place(event.id, mode)
        freed = bool(held)
        if before == NO_ANSWER:
            db.session.delete(rsvp)
            invitation.rsvp = None
            detail = f"{who(invitation)} (the answer recorded at check-in is removed)"
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
            detail = f"{who(invitation)} (answer back to {previous.label.lower()})"
    db.session.flush()
    record(action="check-in.undone", target=f"event:{event.id}", detail=detail, organiser=organiser)
    if freed:
        promote_waitlist(event)
    refresh_places(event)
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
