"""Recording actions in the audit log, and reading it back in words."""

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_login import current_user
from sqlalchemy import func, select

from placeevents.audit.models import AuditEntry
from placeevents.enquiries.models import Enquiry
from placeevents.enquiries.timezones import to_local
from placeevents.events.models import Event
from placeevents.extensions import db
from placeevents.newsletter.models import Subscriber
from placeevents.notes.models import Note

DEFAULT_TIMEZONE = "Europe/London"
# Targets are written as "kind:id" or "kind slug-or-id" by the domains that record them.
TARGET_FORM = re.compile(
    r"^(?P<kind>event|enquiry|note|subscriber|outbox_message|import batch)[: ](?P<key>\S+)$"
)
# Calendar wording mailed to software, not meant for people reading the log.
SEQUENCE_NOTE = re.compile(r" ?\(SEQUENCE \d+\)")


def record(*, action: str, target: str = "", detail: str = "", organiser=None) -> AuditEntry:
    """Add an audit entry for the signed-in organiser (or the given one, or the system)."""
    who = organiser
    if who is None and current_user and getattr(current_user, "is_authenticated", False):
        who = current_user
    entry = AuditEntry(
        action=action,
        target=target,
        detail=detail,
        organiser_id=who.id if who is not None else None,
        actor=who.email if who is not None else "system",
    )
    db.session.add(entry)
    db.session.flush()
    return entry


REDACTED = "[erased]"


def redact(email: str, names: set[str]) -> int:
    """Replace an erased person's address, and their names where the address shows an entry is
    about them, with "[erased]"; returns how many entries were redacted."""
    escaped = email.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    entries = db.session.scalars(
        select(AuditEntry).where(
            sa.or_(
                AuditEntry.target.ilike(pattern, escape="\\"),
                AuditEntry.detail.ilike(pattern, escape="\\"),
                AuditEntry.actor.ilike(pattern, escape="\\"),
            )
        )
    ).all()
    patterns = [re.compile(re.escape(text), re.IGNORECASE) for text in [email, *sorted(names)]]
    for entry in entries:
        for compiled in patterns:
            entry.target = compiled.sub(REDACTED, entry.target)
            entry.detail = compiled.sub(REDACTED, entry.detail)
            entry.actor = compiled.sub(REDACTED, entry.actor)
    db.session.flush()
    return len(entries)


@dataclass(frozen=True)
class TargetRef:
    """What an audit target names: its kind and its id or slug, as recorded."""

    kind: str
    key: str

    @property
    def id(self) -> int | None:
        return int(self.key) if self.key.isdigit() else None


def parse_target(target: str) -> TargetRef | None:
    """Read a target written as "kind:id" or "kind slug" (None for free text)."""
    match = TARGET_FORM.match(target.strip())
    return TargetRef(match["kind"], match["key"]) if match else None


@dataclass(frozen=True)
class ReadableTarget:
    """An audit target in words, with the organiser page to open when the row still exists."""

    label: str
    endpoint: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


def _rows_by_key(model: Any, columns: Sequence[Any], refs: list[TargetRef]) -> dict[str, Any]:
    # One query per kind: rows by id and, for models with a slug, by slug too.
    ids = {r.id for r in refs if r.id is not None}
    slugs = {r.key for r in refs if r.id is None}
    conditions = [model.id.in_(ids)] if ids else []
    if slugs and hasattr(model, "slug"):
        conditions.append(model.slug.in_(slugs))
    if not conditions:
        return {}
    found: dict[str, Any] = {}
    for row in db.session.execute(select(*columns).where(sa.or_(*conditions))):
        found[str(row.id)] = row
        if hasattr(row, "slug"):
            found[row.slug] = row
    return found


def readable_targets(entries: Sequence[AuditEntry]) -> dict[int, ReadableTarget]:
    """What each entry is about, in words, linked when it still exists (a query per kind)."""
    refs = {entry.id: parse_target(entry.target) for entry in entries}
    by_kind: dict[str, list[TargetRef]] = defaultdict(list)
    for ref in refs.values():
        if ref is not None:
            by_kind[ref.kind].append(ref)
    events = _rows_by_key(Event, (Event.id, Event.slug, Event.title), by_kind["event"])
    enquiries = _rows_by_key(Enquiry, (Enquiry.id, Enquiry.slug, Enquiry.title), by_kind["enquiry"])
    notes = _rows_by_key(Note, (Note.id, Note.title), by_kind["note"])
    subscribers = _rows_by_key(Subscriber, (Subscriber.id, Subscriber.email), by_kind["subscriber"])

    def readable(entry: AuditEntry, ref: TargetRef | None) -> ReadableTarget:
        if ref is None:
            return ReadableTarget(entry.target)
        if ref.kind == "event":
            event = events.get(ref.key)
            if event is None:
                return ReadableTarget(f"Event {ref.key} (since deleted)")
            return ReadableTarget(event.title, "manage.events.show", {"event_id": event.id})
        if ref.kind == "enquiry":
            enquiry = enquiries.get(ref.key)
            if enquiry is None:
                return ReadableTarget(f"Enquiry {ref.key} (since deleted)")
            return ReadableTarget(
                enquiry.title, "manage.enquiries.show", {"enquiry_id": enquiry.id}
            )
        if ref.kind == "note":
            note = notes.get(ref.key)
            if note is None:
                return ReadableTarget(f"Note {ref.key} (since deleted)")
            return ReadableTarget(f"Note: {note.title}", "manage.notes.show", {"note_id": note.id})
        if ref.kind == "subscriber":
            subscriber = subscribers.get(ref.key)
            if subscriber is None:
                return ReadableTarget(f"Subscriber {ref.key} (since erased)")
            return ReadableTarget(
                subscriber.email, "manage.newsletter.show", {"subscriber_id": subscriber.id}
            )
        if ref.kind == "outbox_message":
            return ReadableTarget(f"Mail {ref.key}", "manage.mail.index")
        return ReadableTarget(
            f"Subscriber import {ref.key}", "manage.newsletter.import_preview", {"batch_id": ref.id}
        )

    return {entry.id: readable(entry, refs[entry.id]) for entry in entries}


def readable_detail(detail: str) -> str:
    """An entry's detail without wording meant for software (calendar SEQUENCE numbers)."""
    return SEQUENCE_NOTE.sub("", detail)


def format_moment(moment: datetime, tz: str) -> str:
    """'28 Nov 2026, 23:32 GMT'."""
    local = to_local(moment, tz)
    return f"{local.day} {local:%b %Y, %H:%M %Z}"


@dataclass(frozen=True)
class AuditRow:
    """One entry as the audit page shows it."""

    entry: AuditEntry
    when: str
    target: ReadableTarget
    detail: str


@dataclass
class AuditPage:
    """One page of the audit log, newest first, and what there is to filter by."""

    entries: list[AuditEntry]
    page: int
    pages: int
    total: int
    actions: list[str]
    tz: str = DEFAULT_TIMEZONE
    rows: list[AuditRow] = field(default_factory=list)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def audit_log(*, action: str = "", page: int = 1, per_page: int = 50) -> AuditPage:
    """A page of audit entries, newest first, optionally of one action, told in words.

    A fixed number of queries: the count, the page, the actions, the time zone, and one per
    kind of target on the page.
    """
    condition = AuditEntry.action == action if action else sa.true()
    total = db.session.scalar(select(func.count(AuditEntry.id)).where(condition)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    entries = list(
        db.session.scalars(
            select(AuditEntry)
            .where(condition)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    actions = db.session.scalars(
        select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    ).all()
    # Times read in the organisation's zone: that of its newest enquiry.
    tz = (
        db.session.scalar(
            select(Enquiry.timezone).order_by(Enquiry.created_at.desc(), Enquiry.id.desc())
        )
        or DEFAULT_TIMEZONE
    )
    targets = readable_targets(entries)
    rows = [
        AuditRow(e, format_moment(e.at, tz), targets[e.id], readable_detail(e.detail))
        for e in entries
    ]
    return AuditPage(entries, page, pages, total, list(actions), tz, rows)
