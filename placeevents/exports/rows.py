"""Flat queries and pure row builders for attendee lists and the attendance matrix."""

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Select, func, select

from placeevents.addresses import normalise_email
from placeevents.enquiries.timezones import to_local
from placeevents.events.models import Event, EventStatus
from placeevents.invitations.attendance import Presence, presence
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


def mode_cell(answer: str | None, mode: str | None, waiting_for: str | None) -> str:
    """How someone takes part, and which waiting list they are on ("Online; waiting: in
    person" for someone keeping an online place while waiting to come in person)."""
    if answer == RsvpAnswer.WAITLISTED and mode:
        return f"Waiting: {mode_label(mode).lower()}"
    held = mode_label(mode)
    if waiting_for:
        return f"{held}; waiting: {mode_label(waiting_for).lower()}"
    return held


def who_condition(who: Iterable[str]) -> sa.ColumnElement[bool]:
    """The WHERE condition picking the chosen groups of people."""
    chosen = set(who)
    if "everyone" in chosen:
        return sa.true()
    answers = [a for key in chosen for a in WHO_ANSWERS.get(key, ())]
    parts: list[sa.ColumnElement[bool]] = []
    if answers:
        parts.append(Rsvp.answer.in_(answers))
    if "waitlisted" in chosen:
        # Someone keeping a place in one mode while waiting for the other is on a list too.
        parts.append(Rsvp.waiting_for.is_not(None))
    if "no_answer" in chosen:
        parts.append(Rsvp.id.is_(None))
    return sa.or_(*parts) if parts else sa.false()


def waiting_line() -> sa.ColumnElement[Any]:
    """The mode whose waiting list an answer is on (offers included), else NULL."""
    return sa.case(
        (Rsvp.answer.in_(WAITLIST), Rsvp.mode),
        (Rsvp.waiting_for.is_not(None), Rsvp.waiting_for),
        else_=None,
    )


def attendee_query(event_id: int, who: Iterable[str]) -> Select[Any]:
    """One flat SELECT of the chosen people of an event, with their RSVP, ordered by name."""
    line = waiting_line()
    # The window runs over the filtered rows, but a waiting list is always chosen whole.
    position = sa.case(
        (
            line.is_not(None),
            func.row_number().over(partition_by=line, order_by=(Rsvp.waitlisted_at, Rsvp.id)),
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
            Rsvp.waiting_for,
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
            cells.append(mode_cell(record.answer, record.mode, record.waiting_for))
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
class MatrixEvent:
    """A column of the matrix: an event as plain values, still readable after the session ends
    (a download's rows are written after the view has committed)."""

    id: int
    title: str
    starts_at: datetime
    cancelled: bool
    over: bool

    @classmethod
    def of(cls, event: Event) -> "MatrixEvent":
        cancelled = event.status == EventStatus.CANCELLED
        return cls(event.id, event.title, event.starts_at, cancelled, event.has_ended)


CANCELLED = "Cancelled"


@dataclass(frozen=True)
class MatrixCell:
    """One person at one event: their answer and what is known of whether they came."""

    answer: str | None
    # None at a cancelled event, where nobody is coming or came.
    presence: Presence | None

    @property
    def state(self) -> str:
        """'came', 'did_not_come', 'unknown', 'expected', 'not_coming' or 'cancelled'."""
        return "cancelled" if self.presence is None else self.presence.value

    @property
    def text(self) -> str:
        if self.presence is None:
            return CANCELLED
        if self.presence == Presence.NOT_COMING:
            return answer_label(self.answer)
        return self.presence.label

    @property
    def said_yes(self) -> bool:
        return self.presence is not None and self.answer == RsvpAnswer.YES

    @property
    def came(self) -> bool:
        return self.presence == Presence.CAME


@dataclass
class MatrixPerson:
    """A row of the matrix: one person (by email) across the enquiry's events."""

    email: str
    name: str
    organisation: str
    cells: dict[int, MatrixCell]
    # Someone else in the matrix has the same name: show the email to tell them apart.
    name_shared: bool = False

    @property
    def sort_name(self) -> str:
        """The name (or email) with case and spacing ignored."""
        return " ".join((self.name or self.email).split()).casefold()

    @property
    def invited(self) -> int:
        return len(self.cells)

    @property
    def said_yes(self) -> int:
        return sum(1 for c in self.cells.values() if c.said_yes)

    @property
    def came(self) -> int:
        return sum(1 for c in self.cells.values() if c.came)


@dataclass
class EventTotals:
    """Per-event totals along the bottom of the matrix."""

    event: MatrixEvent
    invited: int = 0
    said_yes: int = 0
    came: int = 0
    did_not_come: int = 0
    unknown: int = 0
    expected: int = 0

    def add(self, cell: MatrixCell) -> None:
        self.invited += 1
        self.said_yes += cell.said_yes
        self.came += cell.presence == Presence.CAME
        self.did_not_come += cell.presence == Presence.DID_NOT_COME
        self.unknown += cell.presence == Presence.UNKNOWN
        self.expected += cell.presence == Presence.EXPECTED

    @property
    def lines(self) -> list[str]:
        """'2 came', '1 did not come', '5 invited': what is known of the event, in words."""
        if self.event.cancelled:
            return [CANCELLED, f"{self.invited} invited"]
        lines = []
        if self.came or self.event.over:
            lines.append(f"{self.came} came")
        if self.did_not_come:
            lines.append(f"{self.did_not_come} did not come")
        if self.unknown:
            lines.append(f"{self.unknown} {Presence.UNKNOWN.label.lower()}")
        if self.expected or not self.event.over:
            lines.append(f"{self.expected} coming")
        return [*lines, f"{self.invited} invited"]


@dataclass(frozen=True)
class OrganisationReach:
    """An organisation represented in the enquiry: how many people, how many came."""

    name: str
    people: int
    came: int


@dataclass
class Matrix:
    """People × events of an enquiry, with totals and the organisations represented."""

    events: list[MatrixEvent]
    people: list[MatrixPerson]
    totals: dict[int, EventTotals]
    organisations: list[OrganisationReach]

    @property
    def people_came(self) -> int:
        return sum(1 for p in self.people if p.came)

    @property
    def organisations_came(self) -> int:
        """Organisations of the people who came to at least one event (not of all invited)."""
        return sum(1 for o in self.organisations if o.came)

    @property
    def invited(self) -> int:
        return sum(t.invited for t in self.totals.values())

    @property
    def said_yes(self) -> int:
        return sum(t.said_yes for t in self.totals.values())

    @property
    def came(self) -> int:
        return sum(t.came for t in self.totals.values())


def build_matrix(events: list[Event], records: Iterable[Any]) -> Matrix:
    """Pivot flat invitation records (ordered by email) into the matrix, all plain values:
    each cell says whether the person came, did not, is expected or is not known to have."""
    columns = {event.id: MatrixEvent.of(event) for event in events}
    by_id = {event.id: event for event in events}
    people: dict[str, MatrixPerson] = {}
    totals = {event_id: EventTotals(column) for event_id, column in columns.items()}
    for record in records:
        key = normalise_email(record.email)
        person = people.get(key)
        if person is None:
            person = people[key] = MatrixPerson(key, "", "", {})
        # Later invitations carry the newest name and organisation the person gave us.
        person.name = record.name or person.name
        person.organisation = record.organisation or person.organisation
        event = by_id[record.event_id]
        came = None
        if not columns[event.id].cancelled:
            came = presence(event, record.answer, bool(record.attended))
        cell = MatrixCell(answer=record.answer, presence=came)
        person.cells[event.id] = cell
        totals[event.id].add(cell)
    ordered = sorted(people.values(), key=lambda p: (p.sort_name, p.email))
    names = Counter(p.sort_name for p in ordered)
    for person in ordered:
        person.name_shared = names[person.sort_name] > 1
    return Matrix(list(columns.values()), ordered, totals, organisation_reach(ordered))


def organisation_reach(people: Iterable[MatrixPerson]) -> list[OrganisationReach]:
    """Organisations invited (case and spacing ignored): people invited and people who came to
    at least one event, most people first."""
    seen: dict[str, tuple[str, int, int]] = {}
    for person in people:
        name = " ".join(person.organisation.split())
        if not name:
            continue
        label, count, came = seen.get(name.lower(), (name, 0, 0))
        seen[name.lower()] = (label, count + 1, came + (person.came > 0))
    reach = [OrganisationReach(label, count, came) for label, count, came in seen.values()]
    return sorted(reach, key=lambda r: (-r.people, r.name.lower()))


def matrix_header(matrix: Matrix, *, tz: str) -> list[str]:
    """Headings: the person, one column per event (title and local date), then their totals."""
    header = ["Name", "Email", "Organisation"]
    for event in matrix.events:
        local = to_local(event.starts_at, tz)
        cancelled = " (cancelled)" if event.cancelled else ""
        header.append(f"{event.title}{cancelled}, {local:%Y-%m-%d}")
    return [*header, "Invited to", "Said yes to", "Came to"]


def matrix_rows(matrix: Matrix) -> Iterator[list[Any]]:
    """One row per person, then a totals row (the organisation cell counts the organisations
    people came from)."""
    for person in matrix.people:
        cells = [person.cells[e.id].text if e.id in person.cells else "" for e in matrix.events]
        yield [
            person.name,
            person.email,
            person.organisation,
            *cells,
            person.invited,
            person.said_yes,
            person.came,
        ]
    yield [
        f"Total: {len(matrix.people)} people",
        "",
        f"Came from {matrix.organisations_came} of {len(matrix.organisations)} "
        f"organisation{'' if len(matrix.organisations) == 1 else 's'}",
        *[", ".join(matrix.totals[e.id].lines) for e in matrix.events],
        matrix.invited,
        matrix.said_yes,
        matrix.came,
    ]
