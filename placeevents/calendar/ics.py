"""Events in, RFC 5545 bytes out: downloads, the enquiry feed, personal files and iMIP parts.

Pure: no database, no request, no clock. Times are written in UTC (``…Z``) so no calendar has
to interpret a VTIMEZONE; lines are folded at 75 octets on UTF-8 character boundaries and end
in CRLF. The UID is the event's ``calendar_uid`` in every output, so a calendar app recognises
the same event whether it came from a download, the feed or a mail.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from placeevents.markdown import markdown_to_text

if TYPE_CHECKING:
    from placeevents.enquiries.models import Enquiry
    from placeevents.events.models import Event

PRODID = "-//placeevents//placeevents calendar 1.0//EN"
LINE_OCTETS = 75
# Every C0 control except TAB (and the line feed, handled separately) is invalid in TEXT.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Unicode line breaks some parsers split lines on; in TEXT they become escaped line feeds.
_LINE_BREAKS = re.compile(r"\r\n|[\r\x85\u2028\u2029]")
# In a title, a line break (with the blanks around it) or a control becomes one space.
_TITLE_BREAKS = re.compile(r"[ \t]*[\x00-\x1f\x7f\x85\u2028\u2029]+[ \t]*")
_TEXT_SPECIALS = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n"})


@dataclass(frozen=True)
class Person:
    """An ORGANIZER or ATTENDEE: an address and a display name."""

    email: str
    name: str = ""


@dataclass(frozen=True)
class Place:
    """How one attendee takes part: online ones see the join link, nobody else does."""

    attendee: Person
    online: bool
    join_url: str = ""


# --- content lines


def fold(line: str) -> bytes:
    """One content line as UTF-8, folded at 75 octets without splitting a character, CRLF."""
    pieces: list[bytes] = []
    current = bytearray()
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > LINE_OCTETS:
            pieces.append(bytes(current))
            current = bytearray(b" ")
        current += encoded
    pieces.append(bytes(current))
    return b"\r\n".join(pieces) + b"\r\n"


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and line breaks escaped; controls dropped."""
    return _CONTROL.sub("", _LINE_BREAKS.sub("\n", value)).translate(_TEXT_SPECIALS)


def one_line(value: str) -> str:
    """A title on one line: each line break or control (and blanks around it) becomes a space."""
    return _TITLE_BREAKS.sub(" ", value).strip(" \t")


def _param(value: str) -> str:
    # A quoted parameter value may hold anything but DQUOTE and controls (RFC 5545 §3.1).
    return '"' + one_line(value).replace('"', "'") + '"'


def _uri(value: str) -> str:
    return "".join(value.split())


def utc_stamp(moment: datetime) -> str:
    """A DATE-TIME in UTC form (20240514T090000Z); refuses naive times, which would float."""
    if moment.tzinfo is None:
        raise ValueError("calendar times must be aware; a naive time would float")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class _Lines:
    """An ordered list of content lines, serialised with folding and CRLF."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def add(self, name: str, value: str, **params: str) -> None:
        head = name + "".join(f";{key.replace('_', '-')}={val}" for key, val in params.items())
        self._lines.append(f"{head}:{value}")

    def text(self, name: str, value: str) -> None:
        self.add(name, escape_text(value))

    def extend(self, other: "_Lines") -> None:
        self._lines.extend(other._lines)

    def to_bytes(self) -> bytes:
        return b"".join(fold(line) for line in self._lines)


# --- what an event says


def event_url(event: "Event", base_url: str) -> str:
    """The public event page's absolute address."""
    return f"{base_url.rstrip('/')}/events/{event.slug}"


def location(event: "Event") -> str:
    """Venue and address for events with a place, else "Online"."""
    if not event.has_place:
        return "Online"
    return ", ".join(part for part in (one_line(event.venue), one_line(event.address)) if part)


def _description(event: "Event", base_url: str, join_url: str, note: str) -> str:
    parts = []
    if note:
        parts.append(note.strip())
    if join_url:
        parts.append(f"Join online: {join_url}")
    # Calendar apps show plain text: the Markdown is rendered down, not shown raw.
    text = markdown_to_text(event.description).strip()
    if text:
        parts.append(text)
    parts.append(f"Event page: {event_url(event, base_url)}")
    return "\n\n".join(parts)


def _vevent(
    event: "Event",
    *,
    base_url: str,
    dtstamp: datetime,
    sequence: int,
    cancelled: bool,
    organizer: Person | None = None,
    place: Place | None = None,
    partstat: str = "ACCEPTED",
    note: str = "",
) -> _Lines:
    join_url = place.join_url if place is not None and place.online else ""
    lines = _Lines()
    lines.add("BEGIN", "VEVENT")
    lines.text("UID", event.calendar_uid)
    lines.add("DTSTAMP", utc_stamp(dtstamp))
    lines.add("DTSTART", utc_stamp(event.starts_at))
    lines.add("DTEND", utc_stamp(event.ends_at))
    lines.add("SEQUENCE", str(sequence))
    lines.add("STATUS", "CANCELLED" if cancelled else "CONFIRMED")
    lines.text("SUMMARY", one_line(event.title))
    lines.text("DESCRIPTION", _description(event, base_url, join_url, note))
    lines.add("URL", _uri(event_url(event, base_url)), VALUE="URI")
    where = "Online" if place is not None and place.online else location(event)
    if where:
        lines.text("LOCATION", where)
    if join_url:
        lines.add(
            "CONFERENCE", _uri(join_url), VALUE="URI", FEATURE="VIDEO", LABEL=_param("Join online")
        )
    lines.add("CREATED", utc_stamp(event.created_at))
    lines.add("LAST-MODIFIED", utc_stamp(event.calendar_changed_at))
    lines.add("TRANSP", "TRANSPARENT" if cancelled else "OPAQUE")
    if organizer is not None:
        params = {"CN": _param(organizer.name)} if organizer.name.strip() else {}
        lines.add("ORGANIZER", f"mailto:{_uri(organizer.email)}", **params)
    if place is not None:
        attendee = place.attendee
        params = {"CN": _param(attendee.name)} if attendee.name.strip() else {}
        lines.add(
            "ATTENDEE",
            f"mailto:{_uri(attendee.email)}",
            **params,
            CUTYPE="INDIVIDUAL",
            ROLE="REQ-PARTICIPANT",
            PARTSTAT=partstat,
            RSVP="FALSE",
        )
    lines.add("END", "VEVENT")
    return lines


def _calendar(
    vevents: Iterable[_Lines], *, method: str | None = None, header: _Lines | None = None
) -> bytes:
    lines = _Lines()
    lines.add("BEGIN", "VCALENDAR")
    lines.add("VERSION", "2.0")
    lines.add("PRODID", PRODID)
    lines.add("CALSCALE", "GREGORIAN")
    if method:
        lines.add("METHOD", method)
    if header is not None:
        lines.extend(header)
    for vevent in vevents:
        lines.extend(vevent)
    lines.add("END", "VCALENDAR")
    return lines.to_bytes()


def _is_cancelled(event: "Event") -> bool:
    return event.status == "cancelled"


# --- the outputs


def event_ics(event: "Event", *, base_url: str) -> bytes:
    """The public per-event download: stable bytes (DTSTAMP is the event's last change)."""
    vevent = _vevent(
        event,
        base_url=base_url,
        dtstamp=event.calendar_changed_at,
        sequence=event.sequence,
        cancelled=_is_cancelled(event),
    )
    return _calendar([vevent])


def enquiry_feed_ics(
    enquiry: "Enquiry", events: Sequence["Event"], *, base_url: str, refresh_hours: int = 6
) -> bytes:
    """An enquiry's calendar (feed and export): no attendees; cancelled events kept as such."""
    vevents = [
        _vevent(
            event,
            base_url=base_url,
            dtstamp=event.calendar_changed_at,
            sequence=event.sequence,
            cancelled=_is_cancelled(event),
        )
        for event in events
    ]
    header = _Lines()
    header.text("NAME", one_line(enquiry.title))
    header.text("X-WR-CALNAME", one_line(enquiry.title))
    header.text("X-WR-CALDESC", one_line(enquiry.summary or enquiry.title))
    # How often subscribed calendars should look again (RFC 7986, and Outlook's older name).
    header.add("REFRESH-INTERVAL", f"PT{refresh_hours}H", VALUE="DURATION")
    header.add("X-PUBLISHED-TTL", f"PT{refresh_hours}H")
    return _calendar(vevents, header=header)


def personal_ics(
    event: "Event",
    *,
    attendee_email: str,
    attendee_name: str,
    online: bool,
    join_url: str,
    base_url: str,
    organizer: Person,
    sequence: int,
) -> bytes:
    """A confirmed attendee's own file: the join link when they take part online."""
    place = Place(Person(attendee_email, attendee_name), online=online, join_url=join_url)
    vevent = _vevent(
        event,
        base_url=base_url,
        dtstamp=event.calendar_changed_at,
        sequence=sequence,
        cancelled=_is_cancelled(event),
        organizer=organizer,
        place=place,
    )
    return _calendar([vevent])


def imip_request(
    event: "Event",
    *,
    organizer: Person,
    place: Place,
    sequence: int,
    dtstamp: datetime,
    base_url: str,
    note: str = "",
) -> bytes:
    """METHOD:REQUEST for one attendee, already accepted (PARTSTAT=ACCEPTED, RSVP=FALSE)."""
    vevent = _vevent(
        event,
        base_url=base_url,
        dtstamp=dtstamp,
        sequence=sequence,
        cancelled=False,
        organizer=organizer,
        place=place,
        note=note,
    )
    return _calendar([vevent], method="REQUEST")


def imip_cancel(
    event: "Event",
    *,
    organizer: Person,
    place: Place,
    sequence: int,
    dtstamp: datetime,
    base_url: str,
    declined: bool = False,
    note: str = "",
) -> bytes:
    """METHOD:CANCEL for one attendee: the event is off for them (cancelled, or they said no)."""
    vevent = _vevent(
        event,
        base_url=base_url,
        dtstamp=dtstamp,
        sequence=sequence,
        cancelled=True,
        organizer=organizer,
        place=Place(place.attendee, online=False),
        partstat="DECLINED" if declined else "ACCEPTED",
        note=note,
    )
    return _calendar([vevent], method="CANCEL")
