"""Groups of the people invited to an event, by what they answered and whether they came: the
audiences messages and note shares are written to, counted together in one query."""

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import ColumnElement, func, select

from placeevents.clock import utcnow
from placeevents.events.models import Event
from placeevents.extensions import db
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer
from placeevents.invitations.responses import with_event
from placeevents.mail.bounces import bounced_addresses

CONFIRMED = "confirmed"
CAME = "came"
DID_NOT_COME = "did_not_come"
WANTS_NOTES = "wants_notes"
WAITLISTED = "waitlisted"
WAITLISTED_ONLINE = "waitlisted_online"
NO_ANSWER = "no_answer"
EVERYONE = "everyone"

# Short labels, as a mailing's "to …" line and a radio button show them.
LABELS = {
    CONFIRMED: "everyone with a place",
    CAME: "the people who came",
    DID_NOT_COME: "the people who had a place and did not come",
    WANTS_NOTES: "the people who said no but want the notes",
    WAITLISTED: "the in-person waiting list",
    WAITLISTED_ONLINE: "the online waiting list",
    NO_ANSWER: "the people invited who have not answered",
    EVERYONE: "everyone invited",
}


def _waiting(mode: AttendanceMode) -> ColumnElement[bool]:
    # An offer still open is part of the line until it is accepted; a waitlisted answer
    # without a mode predates modes and waits for a place in the room. Someone keeping a place
    # in the other mode while they wait for this one (`waiting_for`) is in this line too.
    in_mode = Rsvp.mode == mode
    if mode == AttendanceMode.IN_PERSON:
        in_mode = sa.or_(in_mode, Rsvp.mode.is_(None))
    return sa.or_(
        sa.and_(Rsvp.answer.in_((RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED)), in_mode),
        sa.and_(Rsvp.answer == RsvpAnswer.YES, Rsvp.waiting_for == mode),
    )


def audience_clause(event: Event, key: str) -> ColumnElement[bool]:
    """The condition on an invitation (outer-joined to its answer) that puts it in an audience."""
    if key == CONFIRMED:
        return Rsvp.answer == RsvpAnswer.YES
    if key == CAME:
        return Rsvp.attended.is_(True)
    if key == DID_NOT_COME:
        if event.check_in_closed_at is None:
            return sa.false()
        return sa.and_(Rsvp.answer == RsvpAnswer.YES, Rsvp.attended.is_(False))
    if key == WANTS_NOTES:
        return sa.and_(Rsvp.answer == RsvpAnswer.NO, Rsvp.wants_notes.is_(True))
    if key == WAITLISTED:
        return _waiting(AttendanceMode.IN_PERSON)
    if key == WAITLISTED_ONLINE:
        return _waiting(AttendanceMode.ONLINE)
    if key == NO_ANSWER:
        return Rsvp.id.is_(None)
    if key == EVERYONE:
        return sa.true()
    raise KeyError(key)


def offered_audiences(event: Event) -> list[str]:
    """The audiences that make sense for the event now: who came once it has started, the
    waiting lists and the silent until it ends; "did not come" once check-in is closed."""
    now = utcnow()
    keys = [CONFIRMED]
    if now >= event.starts_at:
        keys.append(CAME)
    if event.check_in_closed_at is not None:
        keys.append(DID_NOT_COME)
    keys.append(WANTS_NOTES)
    if now < event.ends_at:
        if event.has_place:
            keys.append(WAITLISTED)
        if event.is_online:
            keys.append(WAITLISTED_ONLINE)
        keys.append(NO_ANSWER)
    keys.append(EVERYONE)
    return keys


def _not_bounced() -> ColumnElement[bool]:
    return Invitation.email.not_in(bounced_addresses().scalar_subquery())


def count_audiences(event: Event, clauses: Mapping[str, ColumnElement[bool]]) -> dict[str, int]:
    """How many each audience reaches (bounced addresses left out), in one grouped query."""
    if not clauses:
        return {}
    columns = [
        func.count(Invitation.id).filter(clause).label(f"n{number}")
        for number, clause in enumerate(clauses.values())
    ]
    row = db.session.execute(
        select(*columns)
        .select_from(Invitation)
        .outerjoin(Rsvp, Rsvp.invitation_id == Invitation.id)
        .where(Invitation.event_id == event.id, _not_bounced())
    ).one()
    return {key: int(count or 0) for key, count in zip(clauses, row, strict=True)}


def audience_invitations(event: Event, clause: ColumnElement[bool]) -> list[Invitation]:
    """The invitations of an event an audience's condition picks (bounced addresses included,
    for the caller to count), with their event and answer loaded, in invitation order."""
    return list(
        db.session.scalars(
            select(Invitation)
            .outerjoin(Rsvp, Rsvp.invitation_id == Invitation.id)
            .where(Invitation.event_id == event.id, clause)
            .options(*with_event())
            .order_by(Invitation.id)
        )
    )


@dataclass(frozen=True)
class AudienceCount:
    """One audience a message can go to, and how many it would reach now."""

    key: str
    label: str
    count: int


def audience_counts(event: Event) -> list[AudienceCount]:
    """The audiences offered for the event with how many each reaches (one query)."""
    keys = offered_audiences(event)
    counts = count_audiences(event, {key: audience_clause(event, key) for key in keys})
    return [AudienceCount(key, LABELS[key], counts[key]) for key in keys]
