"""Reading invitations: the personal link's lookup, the responses dashboard, answer counts, and
a person's invitations for their download of what we hold."""

import hmac
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from types import SimpleNamespace
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from placeevents.clock import utcnow
from placeevents.db import plain_rows
from placeevents.enquiries.models import Enquiry
from placeevents.events.models import Event, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations import attendance
from placeevents.invitations.errors import InvitationError
from placeevents.invitations.links import RSVP_PURPOSE
from placeevents.invitations.models import (
    AttendanceMode,
    EventMailing,
    Invitation,
    Rsvp,
    RsvpAnswer,
)
from placeevents.tokens import ExpiredToken, InvalidToken, read_token

# Links keep working until 30 days after the event, so notes shared later stay reachable.
LINK_LIFETIME_AFTER_EVENT = timedelta(days=30)


def with_event() -> list:
    return [
        joinedload(Invitation.event).joinedload(Event.enquiry),
        selectinload(Invitation.rsvp),
    ]


@cache
def _by_id() -> sa.Select[tuple[Invitation]]:
    # One query by primary key, built once on first use: the invitation, its event and
    # enquiry, and its answer.
    return (
        select(Invitation)
        .where(Invitation.id == sa.bindparam("id"))
        .options(
            joinedload(Invitation.event).joinedload(Event.enquiry), joinedload(Invitation.rsvp)
        )
    )


def invitation_for_token(*, token: str, purpose: str = RSVP_PURPOSE) -> Invitation:
    """The invitation a link names; InvalidToken or ExpiredToken if it reaches none."""
    data = read_token(purpose, token)
    return _checked(db.session.scalar(_by_id(), {"id": data.row_id}), data.nonce)


class EventValues(SimpleNamespace):
    """An event's columns as plain values (its enquiry's as `enquiry`), with the model's own
    rules of places and dates: building ORM objects costs more than a read-only page's work."""

    has_place = Event.has_place
    is_online = Event.is_online
    places_left = Event.places_left
    online_places_left = Event.online_places_left
    room_full = Event.room_full
    online_full = Event.online_full
    mode_help = Event.mode_help
    is_public = Event.is_public
    has_ended = Event.has_ended


class InvitationValues(SimpleNamespace):
    """An invitation's columns as plain values, with its event's (`event`) and its answer's
    (`rsvp`, None if unanswered, else a SimpleNamespace of the Rsvp's columns)."""


# What the personal page reads of each (and what the rules it calls read): read in this
# order, first in the lookup's row.
_INVITATION_COLUMNS = (
    Invitation.id,
    Invitation.event_id,
    Invitation.email,
    Invitation.name,
    Invitation.token_nonce,
)
_EVENT_COLUMNS = (
    Event.id,
    Event.enquiry_id,
    Event.slug,
    Event.title,
    Event.format,
    Event.venue,
    Event.address,
    Event.join_url,
    Event.hosts,
    Event.starts_at,
    Event.ends_at,
    Event.capacity,
    Event.places_taken,
    Event.online_capacity,
    Event.online_places_taken,
    Event.rsvp_deadline,
    Event.status,
    Event.access,
    Event.ask_access_needs,
    Event.ask_dietary_needs,
    Event.ask_question,
    Event.cancellation_message,
    Event.check_in_closed_at,
)
_ENQUIRY_COLUMNS = (Enquiry.slug, Enquiry.title, Enquiry.timezone, Enquiry.status)
_RSVP_COLUMNS = (
    Rsvp.id,
    Rsvp.answer,
    Rsvp.mode,
    Rsvp.wants_notes,
    Rsvp.waiting_for,
    Rsvp.waitlisted_at,
    Rsvp.offer_expires_at,
    Rsvp.access_needs,
    Rsvp.dietary_needs,
    Rsvp.question,
    Rsvp.set_by_organiser_id,
    Rsvp.attended,
)
_PARTS = tuple(
    tuple(column.key for column in part)
    for part in (_INVITATION_COLUMNS, _EVENT_COLUMNS, _ENQUIRY_COLUMNS, _RSVP_COLUMNS)
)
_VALUE_COLUMNS = len(_INVITATION_COLUMNS + _EVENT_COLUMNS + _ENQUIRY_COLUMNS + _RSVP_COLUMNS)


def plain_execute(
    statement: sa.Select[Any], params: dict[str, Any], connection: sa.Connection | None = None
) -> Sequence[Any]:
    """The rows of a statement of columns (no entities) built once (a cached statement): on
    `connection`, straight on its driver (`db.plain_rows`, which raises ReadAgain if that
    fails), or by default as session.execute would run it, pending changes flushed first, but
    on the session's connection. Plain rows either way, without the ORM's work per statement
    (which costs a read-only page more than the query)."""
    if connection is not None:
        return plain_rows(statement, params, connection)
    db.session.flush()
    return db.session.connection().execute(statement, params).all()


def values_lookup_with(*columns: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """The personal link's lookup as plain values (see invitation_values_for_token) with more
    columns, which may refer to the invitation, its event (Event) and its answer (Rsvp)."""
    return (
        select(*_INVITATION_COLUMNS, *_EVENT_COLUMNS, *_ENQUIRY_COLUMNS, *_RSVP_COLUMNS, *columns)
        .select_from(Invitation)
        .join(Event, Event.id == Invitation.event_id)
        .join(Enquiry, Enquiry.id == Event.enquiry_id)
        .outerjoin(Rsvp, Rsvp.invitation_id == Invitation.id)
        .where(Invitation.id == sa.bindparam("id"))
    )


def invitation_values_for_token(
    *, token: str, lookup: sa.Select[Any], connection: sa.Connection | None = None
) -> tuple[InvitationValues, tuple[Any, ...]]:
    """As invitation_for_token (RSVP links), read-only, with a statement from
    values_lookup_with: the invitation as plain values and the values of the statement's
    other columns, read on `connection` (by default the session's; see plain_execute). For
    pages that only show it: the services want the ORM objects."""
    data = read_token(RSVP_PURPOSE, token)
    rows = plain_execute(lookup, {"id": data.row_id}, connection)
    row = rows[0] if rows else None
    if row is None:
        raise InvalidToken("this link is not valid")
    invitation_keys, event_keys, enquiry_keys, rsvp_keys = _PARTS
    values = tuple(row)
    at = len(invitation_keys)
    invitation = InvitationValues(**dict(zip(invitation_keys, values[:at], strict=True)))
    event = EventValues(**dict(zip(event_keys, values[at : at + len(event_keys)], strict=True)))
    at += len(event_keys)
    event.enquiry = SimpleNamespace(
        id=event.enquiry_id,
        **dict(zip(enquiry_keys, values[at : at + len(enquiry_keys)], strict=True)),
    )
    at += len(enquiry_keys)
    answer = dict(zip(rsvp_keys, values[at:_VALUE_COLUMNS], strict=True))
    invitation.event = event
    invitation.rsvp = (
        None
        if answer["id"] is None
        # Its invitation by id only: no cycle keeping the row's values alive after the request.
        else SimpleNamespace(
            invitation_id=invitation.id,
            invitation=SimpleNamespace(id=invitation.id, event_id=invitation.event_id),
            **answer,
        )
    )
    return _checked(invitation, data.nonce), values[_VALUE_COLUMNS:]


_Found = TypeVar("_Found", Invitation, InvitationValues)


def _checked(invitation: _Found | None, nonce: str) -> _Found:
    if invitation is None or not hmac.compare_digest(invitation.token_nonce, nonce):
        raise InvalidToken("this link is not valid")
    if invitation.event.status == EventStatus.DRAFT:
        raise InvalidToken("this link is not valid")
    if utcnow() > invitation.event.ends_at + LINK_LIFETIME_AFTER_EVENT:
        raise ExpiredToken("this link has expired")
    return invitation


@dataclass
class Responses:
    """An event's invitations and answers, counted, with waiting-list positions."""

    event: Event
    invitations: list[Invitation]
    counts: Counter[str]
    # Per mode, the invitation ids on its waiting list, first in line first.
    lines: dict[AttendanceMode, list[int]]
    mailings: list[EventMailing]

    @property
    def positions(self) -> dict[int, tuple[AttendanceMode, int]]:
        """Per invitation waiting: the mode it waits for and its place in that line."""
        return {i: (mode, n) for mode, ids in self.lines.items() for n, i in enumerate(ids, 1)}

    @property
    def unanswered(self) -> list[Invitation]:
        return [i for i in self.invitations if i.rsvp is None]

    @property
    def waitlists(self) -> dict[AttendanceMode, list[Invitation]]:
        """Each mode's waiting list (only those with someone waiting), first in line first."""
        by_id = {i.id: i for i in self.invitations}
        return {mode: [by_id[i] for i in ids] for mode, ids in self.lines.items() if ids}

    def answers_to(self, attribute: str) -> list[Invitation]:
        return [
            i
            for i in self.invitations
            if i.rsvp is not None
            and i.rsvp.answer in (RsvpAnswer.YES, RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED)
            and getattr(i.rsvp, attribute)
        ]


def responses(*, event_id: int) -> Responses:
    """Everything the responses dashboard shows, in a fixed number of queries."""
    event = db.session.scalar(
        select(Event).where(Event.id == event_id).options(joinedload(Event.enquiry))
    )
    if event is None:
        raise InvitationError("No such event.")
    invitations = list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.event_id == event.id)
            .options(joinedload(Invitation.rsvp))
            .order_by(sa.func.lower(Invitation.name), Invitation.email)
        ).unique()
    )
    counts: Counter[str] = Counter(invited=len(invitations))
    waiting: dict[AttendanceMode, list[Rsvp]] = {mode: [] for mode in mode_choices(event)}
    for invitation in invitations:
        rsvp = invitation.rsvp
        if rsvp is None:
            counts["unanswered"] += 1
            continue
        if rsvp.answer == RsvpAnswer.YES:
            mode = rsvp.mode.value if rsvp.mode is not None else "in_person"
            counts[f"yes_{mode}"] += 1
            counts["yes"] += 1
        else:
            counts[rsvp.answer.value] += 1
        if rsvp.answer == RsvpAnswer.NO and rsvp.wants_notes:
            counts["wants_notes"] += 1
        line = attendance.waits_for(rsvp)
        if line is not None:
            waiting.setdefault(line, []).append(rsvp)
            counts[f"waiting_{line.value}"] += 1
    lines = {
        mode: [
            r.invitation_id
            for r in sorted(
                rows, key=lambda r: (r.waitlisted_at or datetime.max.replace(tzinfo=UTC), r.id)
            )
        ]
        for mode, rows in waiting.items()
    }
    mailings = list(
        db.session.scalars(
            select(EventMailing)
            .where(EventMailing.event_id == event.id)
            .order_by(EventMailing.created_at.desc(), EventMailing.id.desc())
            .limit(10)
        )
    )
    return Responses(event, invitations, counts, lines, mailings)


def get_event(*, event_id: int) -> Event:
    """An event for the organiser pages, with its enquiry."""
    event = db.session.scalar(
        select(Event).where(Event.id == event_id).options(joinedload(Event.enquiry))
    )
    if event is None:
        raise InvitationError("No such event.")
    return event


def get_invitation(*, invitation_id: int) -> Invitation:
    """An invitation for the organiser pages, with its event and answer."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.id == invitation_id).options(*with_event())
    )
    if invitation is None:
        raise InvitationError("No such invitation.")
    return invitation


def get_mailing(*, event_id: int, mailing_id: int) -> EventMailing:
    """A bulk send of an event, for its progress page."""
    mailing = db.session.scalar(
        select(EventMailing)
        .where(EventMailing.id == mailing_id, EventMailing.event_id == event_id)
        .options(joinedload(EventMailing.event).joinedload(Event.enquiry))
    )
    if mailing is None:
        raise InvitationError("No such send.")
    return mailing


def mode_choices(event: Event) -> Sequence[AttendanceMode]:
    """The ways someone can attend an event."""
    if event.format == EventFormat.HYBRID:
        return (AttendanceMode.IN_PERSON, AttendanceMode.ONLINE)
    if event.format == EventFormat.ONLINE:
        return (AttendanceMode.ONLINE,)
    return (AttendanceMode.IN_PERSON,)


def answer_counts(*, event_ids: Iterable[int]) -> dict[int, Counter[str]]:
    """Per event: invited, yes, waitlisted (with offers), maybe, no, unanswered; one query."""
    ids = list(event_ids)
    counts: dict[int, Counter[str]] = {event_id: Counter() for event_id in ids}
    if not ids:
        return counts
    rows = db.session.execute(
        select(Invitation.event_id, Rsvp.answer, sa.func.count())
        .outerjoin(Rsvp, Rsvp.invitation_id == Invitation.id)
        .where(Invitation.event_id.in_(ids))
        .group_by(Invitation.event_id, Rsvp.answer)
    ).all()
    for event_id, answer, n in rows:
        tally = counts[event_id]
        tally["invited"] += n
        if answer is None:
            tally["unanswered"] += n
        elif answer in (RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED):
            tally["waitlisted"] += n
        else:
            tally[answer.value] += n
    return counts


def attendee_emails(*, event_ids: Iterable[int]) -> set[str]:
    """The addresses of the people checked in as having come to any of these events."""
    ids = list(event_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(Invitation.email)
            .join(Rsvp, Rsvp.invitation_id == Invitation.id)
            .where(Invitation.event_id.in_(ids), Rsvp.attended.is_(True))
        )
    )


def personal_data(*, email: str) -> list[dict[str, Any]]:
    """Every invitation to this address with its answer, for the person's download of what we
    hold about them."""
    invitations = db.session.scalars(
        select(Invitation)
        .where(Invitation.email == email)
        .options(joinedload(Invitation.event), joinedload(Invitation.rsvp))
        .order_by(Invitation.created_at)
    ).all()
    return [_invitation_data(i) for i in invitations]


def _invitation_data(invitation: Invitation) -> dict[str, Any]:
    rsvp = invitation.rsvp
    return {
        "event": invitation.event.title,
        "event_starts_at": invitation.event.starts_at.isoformat(),
        "invited_at": invitation.created_at.isoformat(),
        "name": invitation.name,
        "organisation": invitation.organisation,
        "role": invitation.role,
        "answer": rsvp.answer.value if rsvp else None,
        "attendance": rsvp.mode.value if rsvp and rsvp.mode else None,
        "access_needs": rsvp.access_needs if rsvp else "",
        "dietary_needs": rsvp.dietary_needs if rsvp else "",
        "question": rsvp.question if rsvp else "",
        "attended": rsvp.attended if rsvp else False,
    }
