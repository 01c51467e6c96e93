"""Erasure of a person's invitations and the deletion of personal answers after the retention
period."""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from placeevents.audit.services import record
from placeevents.events.models import Event
from placeevents.extensions import db
from placeevents.invitations.attendance.places import (
    held_modes,
    promote_waitlist,
    refresh_places,
    release_place,
)
from placeevents.invitations.models import Invitation, Rsvp

if TYPE_CHECKING:
    pass


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
    freed = {i.event_id: i.event for i in invitations if held_modes(i.rsvp)}
    for invitation in invitations:
        for mode in held_modes(invitation.rsvp):
            release_place(invitation.event_id, mode)
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
        refresh_places(event)
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
