"""Attendee lists, sign-in sheets, check-in on the day, the attendance matrix and retention."""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from placeevents.audit.services import record
from placeevents.clock import utcnow
from placeevents.enquiries.models import Enquiry
from placeevents.enquiries.services import all_enquiries
from placeevents.enquiries.timezones import format_range, to_local
from placeevents.events.models import Event, EventFormat, EventStatus
from placeevents.exports import xlsx
from placeevents.exports.csv import iter_csv
from placeevents.exports.rows import (
    COLUMNS,
    PERSONAL_COLUMNS,
    WHO,
    WHO_ANSWERS,
    Matrix,
    answer_label,
    attendee_count_query,
    attendee_header,
    attendee_query,
    attendee_rows,
    build_matrix,
    matrix_events_query,
    matrix_header,
    matrix_query,
    matrix_rows,
    mode_label,
)
from placeevents.extensions import db
from placeevents.invitations.attendance import Presence, presence
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer

CSV_MIMETYPE = "text/csv; charset=utf-8"
FORMATS = ("csv", "xlsx")
# Rows fetched from the database per round trip while an export streams.
FETCH_ROWS = 1000
# Bytes gathered before a CSV chunk is handed to the server.
CSV_CHUNK = 64 * 1024
CHECK_IN_LIMIT = 200


class ExportError(Exception):
    """Something the organiser asked for cannot be done; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(ExportError):
    """The event or enquiry does not exist."""


@dataclass
class Download:
    """A file ready to stream: its name, type, the number of rows and its bytes (lazily)."""

    filename: str
    mimetype: str
    rows: int
    chunks: Iterator[bytes]

    @property
    def content_disposition(self) -> str:
        return f'attachment; filename="{self.filename}"'


# --- looking things up


def get_event(*, event_id: int | None = None, slug: str | None = None) -> Event:
    """An event (with its enquiry) by id or slug, or NotFoundError."""
    query = select(Event).options(joinedload(Event.enquiry))
    query = query.where(Event.id == event_id) if slug is None else query.where(Event.slug == slug)
    event = db.session.scalar(query)
    if event is None:
        raise NotFoundError(f"There is no event {slug or event_id}.")
    return event


def get_enquiry(*, enquiry_id: int | None = None, slug: str | None = None) -> Enquiry:
    """An enquiry by id or slug, or NotFoundError."""
    query = select(Enquiry)
    query = (
        query.where(Enquiry.id == enquiry_id) if slug is None else query.where(Enquiry.slug == slug)
    )
    enquiry = db.session.scalar(query)
    if enquiry is None:
        raise NotFoundError(f"There is no enquiry {slug or enquiry_id}.")
    return enquiry


def events_by_enquiry() -> list[tuple[Enquiry, list[Event]]]:
    """Events that are not drafts, by enquiry: the current enquiry first, then the newest."""
    groups = [
        (enquiry, [e for e in enquiry.events if e.status != EventStatus.DRAFT])
        for enquiry in all_enquiries()
    ]
    return [(enquiry, events) for enquiry, events in groups if events]


# --- personal data retention


def personal_data_days() -> int:
    """Days after an event's end when its access and dietary answers are deleted."""
    return int(current_app.config["PLACEEVENTS_PERSONAL_DATA_DAYS"])


def personal_data_deleted_on(event: Event) -> date:
    """The local date from which the event's access and dietary answers are gone."""
    end = event.ends_at + timedelta(days=personal_data_days())
    return to_local(end, event.enquiry.timezone).date()


def personal_data_note(event: Event) -> str:
    """'deleted 30 days after the event, on 13 Jun 2024'."""
    on = personal_data_deleted_on(event)
    return f"deleted {personal_data_days()} days after the event, on {on.day} {on:%b %Y}"


# --- attendee lists


def _clean_choice(values: Iterable[str], allowed: dict[str, str], what: str) -> list[str]:
    chosen = list(dict.fromkeys(values))
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise ExportError(f"Unknown {what}: {', '.join(unknown)}.")
    if not chosen:
        raise ExportError(f"Choose at least one {what}.")
    return chosen


def _filename(stem: str, moment: datetime, tz: str, suffix: str) -> str:
    return f"{stem}-{to_local(moment, tz):%Y-%m-%d}-{suffix}"


def _stream_records(query: sa.Select[Any]) -> Iterator[Any]:
    # Server-side cursor on PostgreSQL; fetched in batches everywhere, so memory stays flat.
    result = db.session.execute(query.execution_options(yield_per=FETCH_ROWS))
    try:
        yield from result
    finally:
        result.close()


def _csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    pending: list[str] = []
    size = 0
    for piece in iter_csv(header, rows):
        pending.append(piece)
        size += len(piece)
        if size >= CSV_CHUNK:
            yield "".join(pending).encode("utf-8")
            pending.clear()
            size = 0
    if pending:
        yield "".join(pending).encode("utf-8")


def _about_rows(event: Event, who: Sequence[str], rows: int) -> list[tuple[str, str]]:
    tz = event.enquiry.timezone
    return [
        ("Event", event.title),
        ("When", format_range(event.starts_at, event.ends_at, tz)),
        ("Who", "; ".join(WHO[w] for w in who)),
        ("People", str(rows)),
        *places_rows(event),
        ("Exported", f"{to_local(utcnow(), tz):%Y-%m-%d %H:%M %Z}"),
        ("Times are in", tz),
        (
            "Personal data",
            "Access and dietary answers are personal data: they are "
            f"{personal_data_note(event)}. Delete this file when you no longer need it.",
        ),
    ]


def places_rows(event: Event) -> list[tuple[str, str]]:
    """Places taken of each limit, per way of taking part the event offers."""
    rows = []
    if event.has_place:
        rows.append(("In person", _taken(event.places_taken, event.capacity)))
    if event.is_online:
        rows.append(("Online", _taken(event.online_places_taken, event.online_capacity)))
    return rows


def _taken(taken: int, limit: int | None) -> str:
    return f"{taken} of {limit} places taken" if limit is not None else f"{taken} taken, no limit"


def _people(count: int) -> str:
    return "person" if count == 1 else "people"


def _groups(who: Sequence[str]) -> str:
    # The log speaks words: the groups and columns as the export form names them, not keys.
    return ", ".join(WHO[key].lower() for key in who)


def _export_detail(fmt: str, count: int, who: Sequence[str], columns: Sequence[str]) -> str:
    named = ", ".join(COLUMNS[key] for key in columns)
    return f"{fmt.upper()}, {count} {_people(count)} ({_groups(who)}); columns: {named}"


def export_attendees(
    *, event: Event, who: Sequence[str], columns: Sequence[str], fmt: str
) -> Download:
    """Record the export in the audit log and return the attendee list, ready to stream."""
    who = _clean_choice(who, WHO, "group of people")
    columns = _clean_choice(columns, COLUMNS, "column")
    if fmt not in FORMATS:
        raise ExportError(f"Unknown format {fmt}: choose CSV or XLSX.")
    tz = event.enquiry.timezone
    count = db.session.scalar(attendee_count_query(event.id, who)) or 0
    header = attendee_header(columns, tz=tz, personal_note=personal_data_note(event))
    query = attendee_query(event.id, who)
    about = _about_rows(event, who, count)
    record(
        action="export.attendees",
        target=f"event {event.slug}",
        detail=_export_detail(fmt, count, who, columns),
    )

    def people() -> Iterator[list[Any]]:
        return attendee_rows(_stream_records(query), columns, tz=tz)

    def csv_chunks() -> Iterator[bytes]:
        yield from _csv_chunks(header, people())

    def xlsx_chunks() -> Iterator[bytes]:
        workbook = xlsx.new_workbook()
        widths = [32 if c in ("email", "question", *PERSONAL_COLUMNS) else 20 for c in columns]
        xlsx.add_sheet(workbook, "Attendees", header, people(), widths=widths)
        xlsx.add_sheet(workbook, "About this export", ["", ""], about, widths=(18, 80))
        yield from xlsx.save_chunks(workbook)

    return Download(
        filename=_filename(event.slug, event.starts_at, tz, f"attendees.{fmt}"),
        mimetype=CSV_MIMETYPE if fmt == "csv" else xlsx.MIMETYPE,
        rows=count,
        chunks=csv_chunks() if fmt == "csv" else xlsx_chunks(),
    )


@dataclass
class SignInSheet:
    """The printable list of people expected at an event."""

    event: Event
    who: list[str]
    people: list[Any]
    personal_note: str
    online_left_out: int = 0
    show_mode: bool = False

    @staticmethod
    def mode_of(person: Any) -> str:
        """'In person' or 'Online' for one row of the sheet."""
        return mode_label(person.mode)


def sign_in_sheet(*, event: Event, who: Sequence[str], include_online: bool = False) -> SignInSheet:
    """The people to print on the sign-in sheet (recorded in the audit log).

    At a hybrid event, people joining online cannot sign a paper sheet: they are left out,
    or, when asked for, listed after those in the room with a column saying how each attends.
    """
    who = _clean_choice(who, WHO, "group of people")
    people = list(db.session.execute(attendee_query(event.id, who)))
    online_left_out = 0
    show_mode = False
    if event.format == EventFormat.HYBRID:
        online = [p for p in people if p.mode == AttendanceMode.ONLINE]
        in_room = [p for p in people if p.mode != AttendanceMode.ONLINE]
        if include_online:
            people, show_mode = in_room + online, True
        else:
            people, online_left_out = in_room, len(online)
    record(
        action="export.sign-in-sheet",
        target=f"event {event.slug}",
        detail=f"{len(people)} {_people(len(people))} ({_groups(who)})",
    )
    return SignInSheet(event, who, people, personal_data_note(event), online_left_out, show_mode)


@dataclass
class EventOverview:
    """How many people each group of an event's list holds."""

    event: Event
    by_group: dict[str, int]
    attended: int
    personal_note: str

    @property
    def places(self) -> list[tuple[str, str]]:
        """Places taken of each limit ("In person", "3 of 10 places taken")."""
        return places_rows(self.event)


def event_overview(*, event: Event) -> EventOverview:
    """Counts per group (one grouped query) for the event's export page."""
    rows = db.session.execute(
        select(
            Rsvp.answer,
            Rsvp.waiting_for,
            func.count(Invitation.id),
            func.sum(sa.case((Rsvp.attended.is_(True), 1), else_=0)),
        )
        .select_from(Invitation)
        .outerjoin(Rsvp, Rsvp.invitation_id == Invitation.id)
        .where(Invitation.event_id == event.id)
        .group_by(Rsvp.answer, Rsvp.waiting_for)
    ).all()
    by_group = dict.fromkeys(WHO, 0)
    attended = 0
    for answer, waiting_for, count, came in rows:
        group = next((k for k, answers in WHO_ANSWERS.items() if answer in answers), "no_answer")
        by_group[group] += count
        if waiting_for is not None and group != "waitlisted":
            # Keeping a place in one mode while waiting for the other: on both lists.
            by_group["waitlisted"] += count
        by_group["everyone"] += count
        attended += int(came or 0)
    return EventOverview(event, by_group, attended, personal_data_note(event))


# --- check-in on the day


@dataclass(frozen=True)
class CheckInPerson:
    """One person on the check-in list."""

    invitation_id: int
    name: str
    email: str
    organisation: str
    answer: str | None
    mode: str | None
    attended: bool
    checked_in_at: datetime | None
    presence: Presence

    @property
    def answer_label(self) -> str:
        # Once the event is over, a yes reads as what is known of whether they came.
        if self.presence in (Presence.DID_NOT_COME, Presence.UNKNOWN):
            return self.presence.label
        return answer_label(self.answer)

    @property
    def mode_label(self) -> str:
        return mode_label(self.mode)


@dataclass
class CheckInList:
    """Whom the check-in page shows, and how many of those expected have arrived."""

    event: Event
    search: str
    people: list[CheckInPerson]
    expected: int
    checked_in: int
    more: bool = False
    tz: str = field(init=False)
    # Whether today, in the enquiry's time zone, falls within the event's days.
    on_the_day: bool = field(init=False)

    def __post_init__(self) -> None:
        self.tz = self.event.enquiry.timezone
        today = to_local(utcnow(), self.tz).date()
        first = to_local(self.event.starts_at, self.tz).date()
        last = to_local(self.event.ends_at, self.tz).date()
        self.on_the_day = first <= today <= last


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def check_in_list(*, event: Event, search: str = "") -> CheckInList:
    """Confirmed and checked-in people, or everyone invited whose name matches the search."""
    search = " ".join(search.split())
    query = (
        select(
            Invitation.id,
            Invitation.name,
            Invitation.email,
            Invitation.organisation,
            Rsvp.answer,
            Rsvp.mode,
            Rsvp.attended,
            Rsvp.checked_in_at,
        )
        .select_from(Invitation)
        .outerjoin(Rsvp, Rsvp.invitation_id == Invitation.id)
        .where(Invitation.event_id == event.id)
        .order_by(func.lower(Invitation.name), Invitation.email, Invitation.id)
        .limit(CHECK_IN_LIMIT + 1)
    )
    if search:
        for word in search.split():
            pattern = f"%{_escape_like(word)}%"
            query = query.where(
                sa.or_(
                    Invitation.name.ilike(pattern, escape="\\"),
                    Invitation.email.ilike(pattern, escape="\\"),
                    Invitation.organisation.ilike(pattern, escape="\\"),
                )
            )
    else:
        query = query.where(sa.or_(Rsvp.answer == RsvpAnswer.YES, Rsvp.attended.is_(True)))
    people = [
        CheckInPerson(
            *row[:6],
            attended=bool(row[6]),
            checked_in_at=row[7],
            presence=presence(event, row[4], bool(row[6])),
        )
        for row in db.session.execute(query)
    ]
    expected, checked_in = db.session.execute(
        select(
            func.coalesce(func.sum(sa.case((Rsvp.answer == RsvpAnswer.YES, 1), else_=0)), 0),
            func.coalesce(func.sum(sa.case((Rsvp.attended.is_(True), 1), else_=0)), 0),
        )
        .select_from(Invitation)
        .join(Rsvp, Rsvp.invitation_id == Invitation.id)
        .where(Invitation.event_id == event.id)
    ).one()
    more = len(people) > CHECK_IN_LIMIT
    return CheckInList(event, search, people[:CHECK_IN_LIMIT], expected, checked_in, more)


def invitation_on_list(*, event: Event, invitation_id: int) -> Invitation:
    """Someone on the event's list, for check-in; NotFoundError if they are not on it."""
    invitation = db.session.scalar(
        select(Invitation)
        .options(joinedload(Invitation.rsvp))
        .where(Invitation.id == invitation_id, Invitation.event_id == event.id)
    )
    if invitation is None:
        raise NotFoundError("That person is not on this event's list.")
    return invitation


# --- the attendance matrix


def attendance_matrix(*, enquiry: Enquiry) -> Matrix:
    """People × events of the enquiry, with totals and organisations (two queries)."""
    events = list(db.session.scalars(matrix_events_query(enquiry.id)))
    return build_matrix(events, _stream_records(matrix_query(enquiry.id)))


def export_matrix(*, enquiry: Enquiry, fmt: str) -> Download:
    """Record the export in the audit log and return the matrix as CSV or XLSX."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown format {fmt}: choose CSV or XLSX.")
    matrix = attendance_matrix(enquiry=enquiry)
    tz = enquiry.timezone
    header = matrix_header(matrix, tz=tz)
    record(
        action="export.matrix",
        target=f"enquiry {enquiry.slug}",
        detail=f"{fmt.upper()}, {len(matrix.people)} people × {len(matrix.events)} events",
    )

    def xlsx_chunks() -> Iterator[bytes]:
        workbook = xlsx.new_workbook()
        widths = [24, 30, 24, *[22] * len(matrix.events), 12, 12, 12]
        xlsx.add_sheet(workbook, "Attendance", header, matrix_rows(matrix), widths=widths)
        xlsx.add_sheet(
            workbook,
            "Organisations",
            ["Organisation", "People invited", "People who came"],
            ([o.name, o.people, o.came] for o in matrix.organisations),
            widths=(40, 10, 24),
        )
        yield from xlsx.save_chunks(workbook)

    return Download(
        filename=_filename(enquiry.slug, utcnow(), tz, f"attendance.{fmt}"),
        mimetype=CSV_MIMETYPE if fmt == "csv" else xlsx.MIMETYPE,
        rows=len(matrix.people),
        chunks=_csv_chunks(header, matrix_rows(matrix)) if fmt == "csv" else xlsx_chunks(),
    )
