"""Places: taking and releasing in-person and online places exactly, each mode's waiting list
and its promotion, and the calendar SEQUENCE mailed to each person."""

from datetime import datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy import case, select, update
from sqlalchemy.orm.attributes import set_committed_value

from placeevents.clock import utcnow
from placeevents.events.models import Event, EventStatus
from placeevents.extensions import db
from placeevents.invitations import mail
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer
from placeevents.mail.outbox import enqueue

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


# Per mode: the event's limit and its count of places held.
COLUMNS = {
    AttendanceMode.IN_PERSON: ("capacity", "places_taken"),
    AttendanceMode.ONLINE: ("online_capacity", "online_places_taken"),
}
MODES = tuple(COLUMNS)


def other(mode: AttendanceMode) -> AttendanceMode:
    """The other way of taking part."""
    return AttendanceMode.ONLINE if mode == AttendanceMode.IN_PERSON else AttendanceMode.IN_PERSON


def take_place(event_id: int, mode: AttendanceMode = AttendanceMode.IN_PERSON) -> bool:
    """Take one place of this mode if one is left: exact under concurrency (one conditional
    UPDATE)."""
    table = Event.__table__
    limit, taken = (table.c[name] for name in COLUMNS[mode])
    result = db.session.execute(
        table.update()
        .where(table.c.id == event_id, sa.or_(limit.is_(None), taken < limit))
        .values({taken: taken + 1})
    )
    return result.rowcount == 1


def force_place(event_id: int, mode: AttendanceMode = AttendanceMode.IN_PERSON) -> None:
    table = Event.__table__
    taken = table.c[COLUMNS[mode][1]]
    db.session.execute(table.update().where(table.c.id == event_id).values({taken: taken + 1}))


def release_place(event_id: int, mode: AttendanceMode = AttendanceMode.IN_PERSON) -> None:
    table = Event.__table__
    taken = table.c[COLUMNS[mode][1]]
    db.session.execute(
        table.update().where(table.c.id == event_id, taken > 0).values({taken: taken - 1})
    )


def held_modes(rsvp: Rsvp | None) -> list[AttendanceMode]:
    """The modes in which this answer holds a place: its own (yes or offered), and the one it
    waits for once that place is offered to it."""
    if rsvp is None or rsvp.mode is None:
        return []
    held = []
    if rsvp.answer in (RsvpAnswer.YES, RsvpAnswer.OFFERED):
        held.append(rsvp.mode)
    if rsvp.waiting_for is not None and rsvp.offer_expires_at is not None:
        held.append(rsvp.waiting_for)
    return held


def waits_for(rsvp: Rsvp | None) -> AttendanceMode | None:
    """The mode whose waiting list this answer is on (not yet offered a place), if any."""
    if rsvp is None:
        return None
    if rsvp.answer == RsvpAnswer.WAITLISTED:
        return rsvp.mode
    if rsvp.waiting_for is not None and rsvp.offer_expires_at is None:
        return rsvp.waiting_for
    return None


def holds_place(rsvp: Rsvp | None, mode: AttendanceMode = AttendanceMode.IN_PERSON) -> bool:
    """Whether this answer holds one of the event's places of this mode (in person unless
    said)."""
    return mode in held_modes(rsvp)


def in_line(event_id: int, mode: AttendanceMode) -> sa.ColumnElement[bool]:
    """The answers on an event's waiting list for this mode (not yet offered a place)."""
    return sa.and_(
        Rsvp.invitation_id == Invitation.id,
        Invitation.event_id == event_id,
        sa.or_(
            sa.and_(Rsvp.answer == RsvpAnswer.WAITLISTED, Rsvp.mode == mode),
            sa.and_(
                Rsvp.answer == RsvpAnswer.YES,
                Rsvp.waiting_for == mode,
                Rsvp.offer_expires_at.is_(None),
            ),
        ),
    )


def someone_waiting(event: Event, mode: AttendanceMode = AttendanceMode.IN_PERSON) -> bool:
    """Whether anyone is on the event's waiting list for this mode."""
    return bool(db.session.scalar(select(sa.exists().where(in_line(event.id, mode)))))


def refresh_places(event: Event) -> None:
    db.session.flush()
    db.session.expire(event, ["places_taken", "online_places_taken"])


def waitlist_position(rsvp: Rsvp) -> int:
    """1 for the first in line on the waiting list this answer is on, and so on."""
    invitation = rsvp.invitation
    mode = waits_for(rsvp) or rsvp.mode or AttendanceMode.IN_PERSON
    ahead = db.session.scalar(
        select(sa.func.count())
        .select_from(Rsvp)
        .join(Invitation)
        .where(
            in_line(invitation.event_id, mode),
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


def switch_mode(invitation: Invitation, now: datetime, *, release: bool = True) -> AttendanceMode:
    """Move someone who held a place in one mode and waited for the other into that other one;
    the place they leave is released (unless the caller does). Returns the mode left."""
    rsvp = invitation.rsvp
    assert rsvp is not None and rsvp.mode is not None and rsvp.waiting_for is not None
    left = rsvp.mode
    rsvp.mode = rsvp.waiting_for
    rsvp.waiting_for = None
    rsvp.waitlisted_at = None
    rsvp.offer_expires_at = None
    rsvp.answer = RsvpAnswer.YES
    rsvp.answered_at = now
    if release:
        release_place(invitation.event_id, left)
    return left


def _promote_mode(event: Event, mode: AttendanceMode, now: datetime) -> tuple[list, set]:
    promoted: list[Invitation] = []
    freed: set[AttendanceMode] = set()
    while take_place(event.id, mode):
        first = db.session.scalar(
            select(Rsvp)
            .join(Invitation)
            .where(in_line(event.id, mode))
            .order_by(Rsvp.waitlisted_at, Rsvp.id)
            .limit(1)
            .with_for_update(skip_locked=True, of=Rsvp)
        )
        if first is None:
            release_place(event.id, mode)
            break
        invitation = first.invitation
        offered = event.starts_at - now <= OFFER_WINDOW
        switching = first.answer == RsvpAnswer.YES
        if offered:
            # A switcher keeps the place they hold until they accept the one offered.
            if not switching:
                first.answer = RsvpAnswer.OFFERED
            first.offer_expires_at = min(now + OFFER_TIME, event.starts_at)
        elif switching:
            freed.add(switch_mode(invitation, now))
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
    return promoted, freed


def promote_waitlist(event: Event) -> list[Invitation]:
    """Give free places to the first in line of each mode, telling each by mail.

    Within 48 hours of the start a place is offered, to accept within 12 hours. Someone who
    waited for one mode while holding the other moves, and their old place goes on in turn.
    Called whenever places free up: an answer changes, someone is removed or erased, capacity
    rises.
    """
    promoted: list[Invitation] = []
    if event.status != EventStatus.PUBLISHED or utcnow() >= event.starts_at:
        return promoted
    now = utcnow()
    pending = set(MODES)
    while pending:
        mode = pending.pop()
        done, freed = _promote_mode(event, mode, now)
        promoted += done
        pending |= freed
    refresh_places(event)
    return promoted


def capacity_changed(*, event: Event) -> list[Invitation]:
    """After an organiser changes the event's places: give any new ones to the waiting list."""
    return promote_waitlist(event)
