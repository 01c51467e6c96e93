"""Calendar test helpers: three independent parsers, confirmed attendees, delivered iMIP parts."""

import functools
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import icalendar
import pytest
import vobject

from placeevents.invitations.models import Invitation, RsvpAnswer
from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parents[2]
ICALJS_SCRIPT = Path(__file__).with_name("parse_ics.mjs")


def parse_with_icaljs(data: bytes) -> dict[str, Any]:
    """Parse with ical.js under node (the parser Thunderbird uses); its summary as a dict."""
    node = shutil.which("node")
    require_tool(
        node is not None and (ROOT / "node_modules" / "ical.js" / "package.json").exists(),
        "node with ical.js (run `npm ci`)",
    )
    assert node is not None
    result = subprocess.run(
        [node, str(ICALJS_SCRIPT)], input=data, capture_output=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


@dataclass
class Parsed:
    """One calendar read by icalendar, vobject and ical.js."""

    raw: bytes
    icalendar: icalendar.Calendar
    vobject: Any
    icaljs: dict[str, Any]

    def ical_events(self) -> list[icalendar.Event]:
        return list(self.icalendar.walk("VEVENT"))

    def vobject_events(self) -> list[Any]:
        return list(self.vobject.contents.get("vevent", []))


def parse_all(data: bytes) -> Parsed:
    """Parse strictly with all three parsers; any failure fails the test."""
    cal = icalendar.Calendar.from_ical(data)
    assert not cal.errors
    for component in cal.walk():
        assert not component.errors, component.errors
    vcal = vobject.readOne(data.decode("utf-8"), validate=True)
    return Parsed(raw=data, icalendar=cal, vobject=vcal, icaljs=parse_with_icaljs(data))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def make_attendee(make_invitation: Callable[..., Invitation]) -> Callable[..., Invitation]:
    """The shared invitation factory, answering yes unless told otherwise."""
    return functools.partial(make_invitation, answer=RsvpAnswer.YES)


def calendar_part(message: EmailMessage) -> EmailMessage:
    """The text/calendar part of a delivered mail."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in message.walk()]
    return parts[0]  # type: ignore[return-value]
