"""An enquiry's public events; creating, changing, publishing, cancelling, duplicating and
deleting events."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from urllib.parse import urlsplit

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm.attributes import set_committed_value

from placeevents.addresses import has_control_characters
from placeevents.audit.services import Target, record
from placeevents.clock import utcnow
from placeevents.enquiries.models import Enquiry
from placeevents.enquiries.timezones import (
    NonexistentLocalTime,
    format_datetime,
    format_range,
    from_local,
)
from placeevents.events.models import Event, EventAccess, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.settings.services import current_settings
from placeevents.slugs import slugify, unique_slug
from placeevents.text import CONTROL_CHARACTERS_MESSAGE, multiline
from placeevents.urls import path_for

SLUG_LENGTH = 120
# Dates outside this window are typing slips, and near year 1 or 9999 shifting them into
# another time zone overflows.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2100
DATE_WINDOW_MESSAGE = f"Enter a date from {EARLIEST_YEAR} to {LATEST_YEAR}."

# The formats with a room, and so a capacity.
FORMATS_WITH_PLACES = (EventFormat.IN_PERSON, EventFormat.HYBRID)
# The formats joined online, and so an online limit.
FORMATS_ONLINE = (EventFormat.ONLINE, EventFormat.HYBRID)


class EventError(Exception):
    """An event action refused, with a message for the organiser."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EventInvalid(EventError):
    """Details that break a rule; each message is keyed by the field it belongs beside."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class EventDetails:
    """What an organiser enters for an event.

    Naive times are wall-clock times in the enquiry's time zone; aware ones are taken as they are.
    """

    title: str
    format: EventFormat
    starts_at: datetime | None
    ends_at: datetime | None
    description: str = ""
    venue: str = ""
    address: str = ""
    join_url: str = ""
    hosts: str = ""
    capacity: int | None = None
    online_capacity: int | None = None
    rsvp_deadline: datetime | None = None
    access: EventAccess = EventAccess.INVITATION
    ask_access_needs: bool = True
    ask_dietary_needs: bool = False
    ask_question: bool = True


@dataclass(frozen=True)
class EventSaved:
    """A saved event, what changed for the people coming, and notes about the times entered."""

    event: Event
    # Plain-language sentences about changed time, place or join link of a published event.
    changes: list[str] = field(default_factory=list)
    # Ambiguous local times (the autumn change) and which occurrence was taken.
    notes: list[str] = field(default_factory=list)


@cache
def _public_events_query() -> Select[tuple[Event]]:
    # Built once, on first use: each request only binds the enquiry's id.
    return (
        select(Event)
        .where(
            Event.enquiry_id == bindparam("enquiry_id"),
            Event.status.in_([EventStatus.PUBLISHED, EventStatus.CANCELLED]),
        )
        .order_by(Event.starts_at)
    )


def public_events(enquiry: Enquiry) -> tuple[list[Event], list[Event]]:
    """An enquiry's published and cancelled events, split into (upcoming, past)."""
    events = db.session.scalars(_public_events_query(), {"enquiry_id": enquiry.id}).all()
    for event in events:
        # The enquiry is the one given: no query to load it again.
        set_committed_value(event, "enquiry", enquiry)
    now = utcnow()
    upcoming = [e for e in events if e.ends_at >= now]
    past = sorted((e for e in events if e.ends_at < now), key=lambda e: e.starts_at, reverse=True)
    return upcoming, past


def audit_target(key: str) -> Target | None:
    """How an event (by id or slug) reads in the audit log: its title, linked to its page."""
    if key.isdigit():
        event = db.session.get(Event, int(key))
    else:
        event = db.session.scalar(select(Event).where(Event.slug == key))
    if event is None:
        return None
    return Target(event.title, path_for("manage.events.show", event_id=event.id))


def is_https_url(url: str) -> bool:
    """Whether `url` is an absolute https:// link with a host and no spaces."""
    if any(ch.isspace() for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname)


def _clean(details: EventDetails, *, tz: str, event: Event | None) -> tuple[dict, list[str]]:
    """Check the rules and convert the times; every broken rule is reported at once."""
    errors: dict[str, str] = {}
    notes: list[str] = []

    def to_utc(name: str, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            errors[name] = DATE_WINDOW_MESSAGE
            return None
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        try:
            local = from_local(value, tz)
        except NonexistentLocalTime as exc:
            errors[name] = str(exc)
            return None
        if local.note:
            notes.append(local.note)
        return local.utc

    starts_at = to_utc("starts_at", details.starts_at)
    ends_at = to_utc("ends_at", details.ends_at)
    rsvp_deadline = to_utc("rsvp_deadline", details.rsvp_deadline)

    if details.starts_at is None:
        errors["starts_at"] = "Enter the start date and time."
    if details.ends_at is None:
        errors["ends_at"] = "Enter the end date and time."
    title = " ".join(details.title.split())
    if not title:
        errors["title"] = "Give the event a title."
    # One-line values reach mail headers and calendar lines, where a control character breaks.
    for name in ("title", "venue", "address", "join_url", "hosts"):
        if has_control_characters(getattr(details, name)):
            errors[name] = CONTROL_CHARACTERS_MESSAGE
    if starts_at and ends_at and ends_at <= starts_at:
        errors["ends_at"] = "The end must be after the start."
    if starts_at and rsvp_deadline and rsvp_deadline > starts_at:
        errors["rsvp_deadline"] = "The RSVP deadline must be no later than the start."

    has_place = details.format in FORMATS_WITH_PLACES
    is_online = details.format in FORMATS_ONLINE
    join_url = details.join_url.strip() if is_online else ""
    if join_url and not is_https_url(join_url):
        errors["join_url"] = "The join link must be a secure link starting with https://."

    # Capacity counts in-person places, the online limit online ones; each format has its own.
    capacity = details.capacity if has_place else None
    online_capacity = details.online_capacity if is_online else None
    if details.online_capacity is not None and not is_online:
        errors["online_capacity"] = (
            "A face-to-face event has no online places: leave the online limit empty."
        )
    for name, limit, taken, kind, what in (
        ("capacity", capacity, event.places_taken if event else 0, "in-person", "capacity"),
        (
            "online_capacity",
            online_capacity,
            event.online_places_taken if event else 0,
            "online",
            "online limit",
        ),
    ):
        if limit is not None and limit < 1:
            errors[name] = "Enter at least 1 place, or leave it empty for no limit."
        elif event is not None and limit is not None and limit != getattr(event, name):
            if limit < taken:
                errors[name] = (
                    f"{taken} {kind} places are already confirmed: "
                    f"the {what} cannot be lower than that."
                )

    if errors:
        raise EventInvalid(errors)
    values = {
        "title": title,
        "description": multiline(details.description).strip(),
        "format": details.format,
        "venue": details.venue.strip() if has_place else "",
        "address": details.address.strip() if has_place else "",
        "join_url": join_url,
        "hosts": details.hosts.strip(),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "capacity": capacity,
        "online_capacity": online_capacity,
        "rsvp_deadline": rsvp_deadline,
        "access": details.access,
        "ask_access_needs": details.ask_access_needs,
        "ask_dietary_needs": details.ask_dietary_needs,
        "ask_question": details.ask_question,
    }
    return values, notes


def rule_errors(
    *, enquiry: Enquiry, details: EventDetails, event: Event | None = None
) -> dict[str, str]:
    """Every rule `details` break, keyed by field; empty when they could be saved."""
    try:
        _clean(details, tz=enquiry.timezone, event=event)
    except EventInvalid as error:
        return error.errors
    return {}


def create_event(*, enquiry: Enquiry, details: EventDetails) -> EventSaved:
    """Add a draft event to an enquiry, with a unique slug made from its title."""
    values, notes = _clean(details, tz=enquiry.timezone, event=None)
    event = Event(
        enquiry=enquiry,
        slug=unique_slug(Event.slug, values["title"], max_length=SLUG_LENGTH, fallback="event"),
        status=EventStatus.DRAFT,
        reminder_lead_hours=current_settings().reminder_lead_hours,
        **values,
    )
    db.session.add(event)
    db.session.flush()
    record(action="event.create", target=f"event {event.slug}", detail=event.title)
    return EventSaved(event=event, notes=notes)


def _describe_changes(event: Event, values: dict) -> list[str]:
    tz = event.enquiry.timezone
    changes: list[str] = []
    old_start, old_end = event.starts_at, event.ends_at
    new_start, new_end = values["starts_at"], values["ends_at"]
    if old_start != new_start and old_end != new_end:
        changes.append(
            f"The time changed from {format_range(old_start, old_end, tz)} "
            f"to {format_range(new_start, new_end, tz)}."
        )
    elif old_start != new_start:
        changes.append(
            f"The start time changed from {format_datetime(old_start, tz)} "
            f"to {format_datetime(new_start, tz)}."
        )
    elif old_end != new_end:
        changes.append(
            f"The end time changed from {format_datetime(old_end, tz)} "
            f"to {format_datetime(new_end, tz)}."
        )
    if event.format != values["format"]:
        changes.append(
            f"The event is now {values['format'].label.lower()} "
            f"(it was {event.format.label.lower()})."
        )
    for name, label in (("venue", "venue"), ("address", "address")):
        old, new = getattr(event, name), values[name]
        if old == new or not new:
            continue
        changes.append(
            f"The {label} changed from {old} to {new}." if old else f"The {label} is {new}."
        )
    if event.join_url != values["join_url"] and values["join_url"]:
        changes.append(
            "The join link changed." if event.join_url else "There is now a link to join online."
        )
    return changes


def _slug_fits(slug: str, title: str) -> bool:
    # "copy-of-x-2" was made from "copy-of-x": a title that slugifies the same keeps its slug.
    base = slugify(title, max_length=SLUG_LENGTH - 6, fallback="event")
    number = slug.removeprefix(f"{base}-")
    return slug == base or (number != slug and number.isdigit())


def update_event(*, event: Event, details: EventDetails) -> EventSaved:
    """Change an event; for a published one, say what changed and raise its calendar sequence."""
    if event.status == EventStatus.CANCELLED:
        raise EventError("A cancelled event cannot be changed. Duplicate it to run it again.")
    values, notes = _clean(details, tz=event.enquiry.timezone, event=event)
    changes = _describe_changes(event, values) if event.status == EventStatus.PUBLISHED else []
    retitled_draft = event.published_at is None and values["title"] != event.title
    for name, value in values.items():
        setattr(event, name, value)
    if retitled_draft and not _slug_fits(event.slug, event.title):
        # Until it is first published nobody has its address, so the address follows the title.
        event.slug = unique_slug(Event.slug, event.title, max_length=SLUG_LENGTH, fallback="event")
    if changes:
        # Attendees' calendars replace their copy only when the SEQUENCE goes up.
        event.sequence += 1
    db.session.flush()
    record(action="event.update", target=f"event {event.slug}", detail=" ".join(changes))
    return EventSaved(event=event, changes=changes, notes=notes)


def publish_warnings(event: Event) -> list[str]:
    """What is missing from an event that may still be published, in words ([] if nothing)."""
    warnings = []
    if event.is_online and not event.join_url:
        warnings.append(
            "There is no join link yet. People who join online get it in their confirmation "
            "and in calendar updates: add it as soon as you have it."
        )
    return warnings


def publish_event(*, event: Event) -> Event:
    """Make a draft event public: it appears on the enquiry's pages."""
    if event.status != EventStatus.DRAFT:
        raise EventError("Only a draft event can be published.")
    if event.has_place and not event.venue:
        raise EventError("Add the venue before publishing: this event meets in person.")
    event.status = EventStatus.PUBLISHED
    event.published_at = utcnow()
    db.session.flush()
    record(action="event.publish", target=f"event {event.slug}", detail=event.title)
    return event


def cancel_event(*, event: Event, message: str) -> str:
    """Cancel a published event; returns the organiser's message, cleaned, for the people
    affected (invitations.event_changes mails it)."""
    if event.status != EventStatus.PUBLISHED:
        raise EventError("Only a published event can be cancelled; a draft can be deleted.")
    message = multiline(message).strip()
    if not message:
        raise EventInvalid({"message": "Write a message to the people affected."})
    event.status = EventStatus.CANCELLED
    event.cancellation_message = message
    event.cancelled_at = utcnow()
    # Calendars replace an event only when the sequence goes up, cancellation included.
    event.sequence += 1
    db.session.flush()
    record(action="event.cancel", target=f"event {event.slug}", detail=message)
    return message


def duplicate_event(*, event: Event) -> Event:
    """A new draft with the event's content, a new slug and a new calendar identity."""
    title = f"Copy of {event.title}"[: Event.title.type.length]
    copy = Event(
        enquiry_id=event.enquiry_id,
        slug=unique_slug(Event.slug, title, max_length=SLUG_LENGTH, fallback="event"),
        status=EventStatus.DRAFT,
        title=title,
        **{
            name: getattr(event, name)
            for name in (
                "description",
                "format",
                "venue",
                "address",
                "join_url",
                "hosts",
                "starts_at",
                "ends_at",
                "capacity",
                "rsvp_deadline",
                "access",
                "ask_access_needs",
                "ask_dietary_needs",
                "ask_question",
                "reminder_lead_hours",
            )
        },
    )
    db.session.add(copy)
    db.session.flush()
    record(action="event.duplicate", target=f"event {copy.slug}", detail=f"copy of {event.slug}")
    return copy


def delete_event(*, event: Event, people_invited: int) -> None:
    """Delete a draft nobody has been invited to; published events are cancelled instead."""
    if event.status != EventStatus.DRAFT:
        raise EventError("Only a draft can be deleted; cancel a published event instead.")
    if people_invited:
        raise EventError("People have been invited to this draft, so it cannot be deleted.")
    record(action="event.delete", target=f"event {event.slug}", detail=event.title, linked=False)
    db.session.delete(event)
    db.session.flush()
