"""Flat queries and pure row builders for attendee lists and the attendance matrix."""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Select, func, select

from placeevents.addresses import normalise_email
from placeevents.enquiries.timezones import to_local
from placeevents.events.models import Event, EventStatus
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer

# Who an attendee list can include; "everyone" means every invitation of the event.
WHO: dict[str, str] = {
    "confirmed": "Confirmed",
    "waitlisted": "On the waitlist (including those offered a place)",
    "maybe": "Maybe",
    "declined": "Declined",
    "no_answer": "No answer yet",
    "everyone": "Everyone invited",
}
WHO_ANSWERS: dict[str, tuple[RsvpAnswer, ...]] = {
    "confirmed": (RsvpAnswer.YES,),
    "waitlisted": (RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED),
    "maybe": (RsvpAnswer.MAYBE,),
    "declined": (RsvpAnswer.NO,),
}
DEFAULT_WHO = ("confirmed",)

COLUMNS: dict[str, str] = {
    "name": "Name",
    "email": "Email",
    "organisation": "Organisation",
    "role": "Role",
    "answer": "Answer",
    "mode": "In person or online",
    "answered_at": "Answered at",
    "waitlist_position": "Waitlist position",
    "access_needs": "Access needs",
    "dietary_needs": "Dietary needs",
    "question": "Their question",
    "attended": "Attended",
}
DEFAULT_COLUMNS = ("name", "email", "organisation", "role", "answer", "mode")
PERSONAL_COLUMNS = ("access_needs", "dietary_needs")

# Answers and modes in the words people use, on pages, badges and in exported files.
ANSWER_LABELS: dict[str, str] = {
    RsvpAnswer.YES: "Coming",
    RsvpAnswer.WAITLISTED: "Waiting list",
    RsvpAnswer.OFFERED: "Offered a place",
    RsvpAnswer.MAYBE: "Maybe",
    RsvpAnswer.NO: "Not coming",
}
NO_ANSWER = "No answer"
MODE_LABELS: dict[str, str] = {
    AttendanceMode.IN_PERSON: "In person",
    AttendanceMode.ONLINE: "Online",
}

WAITLIST = (RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED)


def answer_label(answer: str | None) -> str:
    """How an answer reads in lists and exports ('No answer' when there is none)."""
    return ANSWER_LABELS.get(answer, NO_ANSWER) if answer else NO_ANSWER


def mode_label(mode: str | None) -> str:
    """How someone attends, in words ('' when they have not said)."""
    return MODE_LABELS.get(mode, "") if mode else ""


def who_condition(who: Iterable[str]) -> sa.ColumnElement[bool]:
    """The WHERE condition picking the chosen groups of people."""
    chosen = set(who)
    if "everyone" in chosen:
        return sa.true()
    answers = [a for key in chosen for a in WHO_ANSWERS.get(key, ())]
    parts: list[sa.ColumnElement[bool]] = []
    if answers:
        parts.append(Rsvp.answer.in_(answers))
    if "no_answer" in chosen:
        parts.append(Rsvp.id.is_(None))
    return sa.or_(*parts) if parts else sa.false()


def attendee_query(event_id: int, who: Iterable[str]) -> Select[Any]:
    """One flat SELECT of the chosen people of an event, with their RSVP, ordered by name."""
    in_waitlist = Rsvp.answer.in_(WAITLIST)
    # The window runs over the filtered rows, but the waitlist is always chosen whole.
    position = sa.case(
        (
            in_waitlist,
            func.row_number().over(
                partition_by=in_waitlist, order_by=(Rsvp.waitlisted_at, Rsvp.id)
            ),
        ),
        else_=None,
    )
    return (
        select(
            Invitation.id.label("invitation_id"),
            Invitation.name,
            Invitation.email,
            Invitation.organisation,
            Invitation.role,
            Rsvp.answer,
            Rsvp.mode,
            Rsvp.answered_at,
            position.label("waitlist_position"),
            Rsvp.access_needs,
            Rsvp.dietary_needs,
            Rsvp.question,
            Rsvp.attended,
            Rsvp.checked_in_at,
        )
        .select_from(Invitation)
        .outerjoin(Rsvp, Rsvp.invitation_id == Invitation.id)
        .where(Invitation.event_id == event_id, who_condition(who))
        .order_by(func.lower(Invitation.name), Invitation.email, Invitation.id)
    )


def attendee_count_query(event_id: int, who: Iterable[str]) -> Select[Any]:
    """How many people attendee_query would return."""
    return (
        select(func.count())
        .select_from(Invitation)
        .outerjoin(Rsvp, Rsvp.invitation_id == Invitation.id)
        .where(Invitation.event_id == event_id, who_condition(who))
    )


def local_naive(moment: datetime | None, tz: str) -> datetime | None:
    """A stored UTC time as wall-clock time in `tz`, without tzinfo (as spreadsheets want)."""
    if moment is None:
        return None
    return to_local(moment, tz).replace(tzinfo=None)


def attendee_header(columns: Sequence[str], *, tz: str, personal_note: str) -> list[str]:
    """Column headings; times name their zone, personal data says when it is deleted."""
    header = []
    for key in columns:
        label = COLUMNS[key]
        if key == "answered_at":
            label = f"{label} ({tz})"
        elif key in PERSONAL_COLUMNS:
            label = f"{label} ({personal_note})"
        header.append(label)
    return header


def attendee_row(record: Any, columns: Sequence[str], *, tz: str) -> list[Any]:
    """One person's cells, in the chosen column order."""
    cells: list[Any] = []
    for key in columns:
        if key == "answer":
            cells.append(answer_label(record.answer))
        elif key == "mode":
            cells.append(mode_label(record.mode))
        elif key == "answered_at":
            cells.append(local_naive(record.answered_at, tz))
        elif key == "attended":
            cells.append(bool(record.attended))
        else:
            cells.append(getattr(record, key))
    return cells


def attendee_rows(records: Iterable[Any], columns: Sequence[str], *, tz: str) -> Iterator[list]:
    """Lazily turn query records into rows."""
    for record in records:
        yield attendee_row(record, columns, tz=tz)


# --- the attendance matrix


def matrix_events_query(enquiry_id: int) -> Select[Any]:
    """The enquiry's events that people could be invited to (not drafts), in date order."""
    return (
        select(Event)
        .where(Event.enquiry_id == enquiry_id, Event.status != EventStatus.DRAFT)
        .order_by(Event.starts_at, Event.id)
    )


def matrix_query(enquiry_id: int) -> Select[Any]:
    """One flat SELECT of every invitation to the enquiry's events, with its RSVP."""
    return (
        select(
            Invitation.event_id,
            Invitation.email,
            Invitation.name,
            Invitation.organisation,
            Invitation.created_at,
            Rsvp.answer,
            Rsvp.attended,
        )
        .select_from(Invitation)
        .join(Event, Event.id == Invitation.event_id)
        .outerjoin(Rsvp, Rsvp.invitation_id == Invitation.id)
        .where(Event.enquiry_id == enquiry_id, Event.status != EventStatus.DRAFT)
        .order_by(func.lower(Invitation.email), Invitation.created_at, Invitation.id)
    )


@dataclass(frozen=True)
class MatrixCell:
    """One person's answer to one event and whether they came."""

    answer: str | None
    attended: bool

    @property
    def text(self) -> str:
        label = answer_label(self.answer)
        return f"{label}, attended" if self.attended else label


@dataclass
class MatrixPerson:
    """A row of the matrix: one person (by email) across the enquiry's events."""

    email: str
    name: str
    organisation: str
    cells: dict[int, MatrixCell]

    @property
    def invited(self) -> int:
        return len(self.cells)

    @property
    def confirmed(self) -> int:
        return sum(1 for c in self.cells.values() if c.answer == RsvpAnswer.YES)

    @property
    def attended(self) -> int:
        return sum(1 for c in self.cells.values() if c.attended)


@dataclass
class EventTotals:
    """Per-event totals along the bottom of the matrix."""

    invited: int = 0
    confirmed: int = 0
    attended: int = 0


@dataclass(frozen=True)
class OrganisationReach:
    """An organisation represented in the enquiry: how many people, how many came."""

    name: str
    people: int
    attended: int


@dataclass
class Matrix:
    """People × events of an enquiry, with totals and the organisations represented."""

    events: list[Event]
    people: list[MatrixPerson]
    totals: dict[int, EventTotals]
    organisations: list[OrganisationReach]

    @property
    def people_attended(self) -> int:
        return sum(1 for p in self.people if p.attended)


def build_matrix(events: list[Event], records: Iterable[Any]) -> Matrix:
    """Pivot flat invitation records (ordered by email) into the matrix."""
    people: dict[str, MatrixPerson] = {}
    totals = {event.id: EventTotals() for event in events}
    for record in records:
        key = normalise_email(record.email)
        person = people.get(key)
        if person is None:
            person = people[key] = MatrixPerson(key, "", "", {})
        # Later invitations carry the newest name and organisation the person gave us.
        person.name = record.name or person.name
        person.organisation = record.organisation or person.organisation
        cell = MatrixCell(answer=record.answer, attended=bool(record.attended))
        person.cells[record.event_id] = cell
        total = totals[record.event_id]
        total.invited += 1
        total.confirmed += cell.answer == RsvpAnswer.YES
        total.attended += cell.attended
    ordered = sorted(people.values(), key=lambda p: ((p.name or p.email).lower(), p.email))
    return Matrix(events, ordered, totals, organisation_reach(ordered))


def organisation_reach(people: Iterable[MatrixPerson]) -> list[OrganisationReach]:
    """Organisations represented (case and spacing ignored), most people first."""
    seen: dict[str, tuple[str, int, int]] = {}
    for person in people:
        name = " ".join(person.organisation.split())
        if not name:
            continue
        label, count, came = seen.get(name.lower(), (name, 0, 0))
        seen[name.lower()] = (label, count + 1, came + (person.attended > 0))
    reach = [OrganisationReach(label, count, came) for label, count, came in seen.values()]
    return sorted(reach, key=lambda r: (-r.people, r.name.lower()))


def matrix_header(matrix: Matrix, *, tz: str) -> list[str]:
    """Headings: the person, one column per event (title and local date), then their totals."""
    header = ["Name", "Email", "Organisation"]
    for event in matrix.events:
        local = to_local(event.starts_at, tz)
        cancelled = " (cancelled)" if event.status == EventStatus.CANCELLED else ""
        header.append(f"{event.title}{cancelled}, {local:%Y-%m-%d}")
    return [*header, "Invited to", "Said yes to", "Attended"]


def matrix_rows(matrix: Matrix) -> Iterator[list[Any]]:
    """One row per person, then a totals row (the organisation cell counts organisations)."""
    for person in matrix.people:
        cells = [person.cells[e.id].text if e.id in person.cells else "" for e in matrix.events]
        yield [
            person.name,
            person.email,
            person.organisation,
            *cells,
            person.invited,
            person.confirmed,
            person.attended,
        ]
    totals = [matrix.totals[e.id] for e in matrix.events]
    yield [
        f"Total: {len(matrix.people)} people",
        "",
        f"{len(matrix.organisations)} organisations",
        *[f"{t.attended} attended of {t.confirmed} yes, {t.invited} invited" for t in totals],
        sum(t.invited for t in totals),
        sum(t.confirmed for t in totals),
        sum(t.attended for t in totals),
    ]
