"""Times shown in the enquiry's time zone, and local times entered by organisers."""

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones


class NonexistentLocalTime(ValueError):
    """The local time falls in a spring-forward gap and never happens."""


@dataclass(frozen=True)
class LocalTime:
    """A local time converted to UTC, with a note when it was ambiguous."""

    utc: datetime
    note: str = ""


def is_valid_timezone(name: str) -> bool:
    return name in available_timezones()


def to_local(moment: datetime, tz: str) -> datetime:
    """An aware UTC datetime in the given zone."""
    return moment.astimezone(ZoneInfo(tz))


def from_local(naive: datetime, tz: str) -> LocalTime:
    """Convert a wall-clock time in `tz` to UTC.

    A time in the spring-forward gap is refused; one that occurs twice (the autumn change)
    takes the first occurrence, and the note says so.
    """
    zone = ZoneInfo(tz)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    # A time that exists round-trips through UTC unchanged.
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise NonexistentLocalTime(
            f"{naive:%H:%M} on {naive:%-d %B %Y} does not exist in {tz}: "
            "the clocks go forward then. Choose another time."
        )
    if first.utcoffset() != second.utcoffset():
        return LocalTime(
            utc=first.astimezone(UTC),
            note=(
                f"{naive:%H:%M} on {naive:%-d %B %Y} happens twice in {tz}; "
                f"we took the first, {first:%H:%M %Z} (before the clocks go back)."
            ),
        )
    return LocalTime(utc=first.astimezone(UTC))


def format_datetime(moment: datetime, tz: str) -> str:
    """'Tue 14 May 2024, 10:00 BST'."""
    local = to_local(moment, tz)
    return f"{local:%a} {local.day} {local:%B %Y, %H:%M %Z}"


def format_date(moment: datetime, tz: str) -> str:
    """'Tue 14 May 2024'."""
    local = to_local(moment, tz)
    return f"{local:%a} {local.day} {local:%B %Y}"


def format_range(start: datetime, end: datetime, tz: str) -> str:
    """'Tue 14 May 2024, 10:00–12:30 BST'; both ends spelled out when day or zone differ."""
    a, b = to_local(start, tz), to_local(end, tz)
    if a.date() == b.date() and a.tzname() == b.tzname():
        return f"{a:%a} {a.day} {a:%B %Y, %H:%M}\u2013{b:%H:%M %Z}"
    if a.date() == b.date():
        return f"{a:%a} {a.day} {a:%B %Y, %H:%M %Z}\u2013{b:%H:%M %Z}"
    return f"{format_datetime(start, tz)} \u2013 {format_datetime(end, tz)}"


def zone_name(tz: str) -> str:
    """The zone in words for a reader: 'Europe/London' reads 'London time'."""
    if tz in ("UTC", "Etc/UTC"):
        return "UTC"
    return tz.rsplit("/", 1)[-1].replace("_", " ") + " time"


def local_input_value(moment: datetime | None, tz: str) -> str:
    """The value for an <input type=datetime-local> showing this moment in `tz`."""
    if moment is None:
        return ""
    return to_local(moment, tz).strftime("%Y-%m-%dT%H:%M")
