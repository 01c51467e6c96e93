"""The one clock of the app: everything that needs the time asks utcnow()."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, aware, in UTC (tests freeze it with time-machine)."""
    return datetime.now(UTC)


def timestamp() -> int:
    """Seconds since the epoch by the same clock, for signed tokens."""
    return int(utcnow().timestamp())
