"""Calendar files for events and enquiries, and the iMIP mails that keep attendees' copies right.

Every mail to a person carries a SEQUENCE above every one mailed to them before
(``max(event.sequence, rsvp.calendar_sequence + 1)``), recorded on their RSVP, so a calendar
never takes a newer message for an older one: not even a yes after a cancellation.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from urllib.parse import urlencode

from flask import Flask, current_app
from sqlalchemy import Connection, Select, bindparam, func, select
from sqlalchemy.orm import joinedload

from placeevents.caching import Kept, kept_by_app
from placeevents.calendar import ics
from placeevents.calendar.models import CalendarOrganizer
from placeevents.enquiries.models import Enquiry
from placeevents.events.models import Event, EventStatus
from placeevents.extensions import db
from placeevents.mail.outbox import default_sender
from placeevents.markdown import markdown_to_text
from placeevents.urls import base_url

PUBLIC_STATUSES = (EventStatus.PUBLISHED, EventStatus.CANCELLED)


class CalendarError(Exception):
    """A calendar request that cannot be met; the message is fit to show."""


class CalendarNotFound(CalendarError):
    """No public calendar at this address."""


@dataclass(frozen=True)
class CalendarFile:
    """An .ics body with what a response needs: filename, validator and last change."""

    body: bytes
    filename: str
    last_modified: datetime
    events: int
    etag: str


def _body_etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


# Part of the feed's validator: raise it whenever ics.enquiry_feed_ics writes different bytes
# for the same rows, so calendar apps holding the old ETag fetch the new form.
FEED_FORMAT = "1"


@dataclass(frozen=True)
class FeedState:
    """What an enquiry feed's validators come from, read in one small query: the enquiry's
    last change, and its events' count, id sum and newest calendar version (an event added,
    removed, or changed in anything a calendar shows moves one of them)."""

    enquiry_id: int
    etag: str
    last_modified: datetime


@cache
def _feed_state_query() -> Select[tuple[int, datetime, int, int, datetime | None]]:
    # Built once, on first use, with a bound slug: each poll only binds the value.
    return (
        select(
            Enquiry.id,
            Enquiry.updated_at,
            func.count(Event.id),
            func.coalesce(func.sum(Event.id), 0),
            func.max(Event.calendar_changed_at),
        )
        .outerjoin(Event, Event.enquiry_id == Enquiry.id)
        .where(Enquiry.slug == bindparam("slug"))
        .group_by(Enquiry.id, Enquiry.updated_at)
    )


# Feed bodies each process keeps, by ETag: a repeated full fetch is not built again.
FEED_BODIES_KEPT = 32


def organizer(event: Event, *, sending: bool = True) -> ics.Person:
    """The ORGANIZER of an event's calendar entries: the sender's address when they were first
    sent, kept for the event so later updates match the entry already in people's calendars.

    `sending` records it at the first send; a download (a GET) only reads it.
    """
    sender = default_sender()
    kept = db.session.get(CalendarOrganizer, event.id)
    if kept is None and sending:
        kept = CalendarOrganizer(event_id=event.id, email=sender.addr_spec)
        db.session.add(kept)
        db.session.flush()
    return ics.Person(email=kept.email if kept else sender.addr_spec, name=sender.display_name)


def _last_change(*moments: datetime) -> datetime:
    # HTTP dates have whole seconds; a fraction would make every If-Modified-Since look stale.
    return max(moments).astimezone(UTC).replace(microsecond=0)


# --- files


def public_event_calendar(*, slug: str) -> CalendarFile:
    """The .ics download of a public (published or cancelled) event."""
    event = db.session.scalar(select(Event).where(Event.slug == slug))
    if event is None or event.status not in PUBLIC_STATUSES:
        raise CalendarNotFound("There is no such event.")
    body = ics.event_ics(event, base_url=base_url())
    return CalendarFile(
        body=body,
        filename=f"{event.slug}.ics",
        last_modified=_last_change(event.calendar_changed_at),
        events=1,
        etag=_body_etag(body),
    )


def _every_event(enquiry_id: int) -> list[Event]:
    # Each with its enquiry, in the same query: the feed has only the enquiry's id in hand.
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.enquiry_id == enquiry_id)
            .options(joinedload(Event.enquiry))
            .order_by(Event.starts_at, Event.id)
        )
    )


def _enquiry_calendar(
    enquiry: Enquiry, every_event: list[Event], *, etag: str | None = None
) -> CalendarFile:
    public = [e for e in every_event if e.status in PUBLIC_STATUSES]
    body = ics.enquiry_feed_ics(enquiry, public, base_url=base_url())
    # Drafts count towards the last change so an event withdrawn from the feed moves it on.
    return CalendarFile(
        body=body,
        filename=f"{enquiry.slug}.ics",
        last_modified=_last_change(
            enquiry.updated_at, *(e.calendar_changed_at for e in every_event)
        ),
        events=len(public),
        etag=etag or _body_etag(body),
    )


def enquiry_feed_state(*, slug: str) -> FeedState:
    """The feed's validators from stored values alone, so a calendar app's conditional poll
    is answered (304) without loading an event or writing the file."""
    state = read_feed_state(db.session.connection(), slug=slug, base=base_url())
    if state is None:
        raise CalendarNotFound("There is no such enquiry.")
    return state


def read_feed_state(connection: Connection, *, slug: str, base: str) -> FeedState | None:
    """enquiry_feed_state on a connection of its own (None where there is no such enquiry):
    for callers outside a request, such as the poll answerer in front of the app."""
    row = connection.execute(_feed_state_query(), {"slug": slug}).first()
    if row is None:
        return None
    enquiry_id, updated_at, count, id_sum, newest = row
    last_modified = _last_change(updated_at, *([newest] if newest is not None else []))
    version = "|".join(
        (
            FEED_FORMAT,
            base,
            str(enquiry_id),
            updated_at.astimezone(UTC).isoformat(),
            str(count),
            str(id_sum),
            newest.astimezone(UTC).isoformat() if newest is not None else "",
        )
    )
    return FeedState(
        enquiry_id=enquiry_id,
        etag=hashlib.sha256(version.encode()).hexdigest()[:32],
        last_modified=last_modified,
    )


def _kept_bodies(app: Flask) -> "Kept[str, CalendarFile]":
    return kept_by_app(app, "placeevents.feed_bodies", FEED_BODIES_KEPT)


def kept_feed(app: Flask, etag: str) -> CalendarFile | None:
    """The feed body this process built for `etag`, if it still keeps it."""
    return _kept_bodies(app).get(etag)


def enquiry_feed(*, state: FeedState) -> CalendarFile:
    """The subscribable calendar of an enquiry: its published and cancelled events, with the
    validators `state` read (see enquiry_feed_state). The ETag names the body, so a body
    built for it once is served again from memory until something in the feed changes."""
    file = kept_feed(current_app._get_current_object(), state.etag)  # type: ignore[attr-defined]
    if file is not None:
        return file
    every_event = _every_event(state.enquiry_id)
    enquiry = every_event[0].enquiry if every_event else db.session.get(Enquiry, state.enquiry_id)
    if enquiry is None:
        raise CalendarNotFound("There is no such enquiry.")
    file = _enquiry_calendar(enquiry, every_event, etag=state.etag)
    _kept_bodies(current_app._get_current_object()).put(state.etag, file)  # type: ignore[attr-defined]
    return file


def enquiry_export(*, enquiry_id: int) -> CalendarFile:
    """The whole enquiry as one file, for organisers (the same content as the feed)."""
    enquiry = db.session.get(Enquiry, enquiry_id)
    if enquiry is None:
        raise CalendarNotFound("There is no such enquiry.")
    return _enquiry_calendar(enquiry, _every_event(enquiry.id))


# --- links


def feed_url(enquiry: Enquiry) -> str:
    """The feed's https (or http) address, built on PLACEEVENTS_BASE_URL."""
    return f"{base_url()}/enquiries/{enquiry.slug}/calendar.ics"


def webcal_url(enquiry: Enquiry) -> str:
    """The feed's webcal:// address, which opens the calendar app's subscribe dialogue."""
    return "webcal://" + feed_url(enquiry).split("://", 1)[1]


def _public_details(event: Event) -> str:
    page = ics.event_url(event, base_url())
    # Calendar apps show this text as it is: the Markdown is written out as plain text.
    description = markdown_to_text(event.description)
    return f"{description}\n\n{page}" if description else page


@lru_cache(maxsize=256)
def _query_string(pairs: tuple[tuple[str, str], ...]) -> str:
    # Event pages ask for the same links over and over; encoding the description is the cost.
    return urlencode(pairs)


def google_calendar_url(event: Event) -> str:
    """A link that opens Google Calendar's new-event page filled in with this event."""
    dates = f"{ics.utc_stamp(event.starts_at)}/{ics.utc_stamp(event.ends_at)}"
    query = {
        "action": "TEMPLATE",
        "text": ics.one_line(event.title),
        "dates": dates,
        "details": _public_details(event),
        "location": ics.location(event),
        "ctz": event.enquiry.timezone,
    }
    return "https://calendar.google.com/calendar/render?" + _query_string(tuple(query.items()))


def outlook_calendar_url(event: Event, *, host: str = "outlook.office.com") -> str:
    """A link that opens Outlook on the web's new-event form (Microsoft 365 or outlook.com)."""
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": ics.one_line(event.title),
        "startdt": event.starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "enddt": event.ends_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "body": _public_details(event),
        "location": ics.location(event),
    }
    return f"https://{host}/calendar/0/deeplink/compose?" + _query_string(tuple(query.items()))
