"""Importing an existing list from CSV: upload, preview row by row, then import.

The file is kept on its batch between preview and import (and emptied afterwards), and the plan
is worked out again on import, so the preview never goes stale.
"""

import csv
import enum
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask_login import current_user
from sqlalchemy import delete, select

from placeevents.addresses import email_problem, has_control_characters, normalise_email
from placeevents.audit.services import Target, record
from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.mail.bounces import bounced_among
from placeevents.newsletter.models import (
    NAME_LENGTH,
    ConsentSource,
    ImportBatch,
    ImportStatus,
    Subscriber,
    SubscriberStatus,
)
from placeevents.newsletter.services import (
    INTERESTS,
    Interests,
    NewsletterError,
    suppressed_among,
)
from placeevents.urls import path_for

MAX_ROWS = 10_000
NOTE_LENGTH = 300
PREVIEW_LIFETIME = timedelta(days=1)
# Consent given elsewhere, in words the importing organiser supplied (see consent_note).
IMPORTED_CONSENT_VERSION = "external"
HEADERS = {
    "email": "email",
    "email address": "email",
    "name": "name",
    "organisation": "organisation",
    "organization": "organisation",
    "role": "role",
    "job title": "role",
    "consent source": "consent_source",
    "consent date": "consent_date",
    "interests": "interests",
}
INTEREST_WORDS = {
    "face-to-face": "in_person",
    "face to face": "in_person",
    "in person": "in_person",
    "online": "online",
    "news": "news",
}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M")
# Our CSV writer prefixes these with ' so spreadsheets do not run them; undo that on the way in.
FORMULA_LEADS = ("=", "+", "-", "@")


class ImportFileError(NewsletterError):
    """The uploaded file cannot be read as a list of people."""


class RowAction(enum.StrEnum):
    ADD = "add"
    MERGE = "merge"
    SKIP = "skip"
    ERROR = "error"


@dataclass
class PlannedRow:
    """One data row of the file and what importing it will do."""

    line: int
    email: str
    name: str
    organisation: str
    consent_source: str
    consent_date: datetime | None
    interests: Interests
    role: str = ""
    # False when the row left interests blank: a merge then keeps the person's own choice.
    interests_given: bool = False
    action: RowAction = RowAction.ADD
    reasons: list[str] = field(default_factory=list)
    # For a merge: what it will change on the person already on the list, in words.
    changes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportPlan:
    """Every row of a batch with its outcome, and the counts of each outcome."""

    batch: ImportBatch
    rows: list[PlannedRow]

    def count(self, action: RowAction) -> int:
        return sum(1 for r in self.rows if r.action == action)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheets on Windows still save "CSV" in this encoding.
        return data.decode("cp1252", errors="replace")


def _cell(value: str) -> str:
    value = value.strip()
    if value.startswith("'") and value[1:].startswith(FORMULA_LEADS):
        return value[1:]
    return value


def _read(content: str) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    try:
        table = list(csv.reader(io.StringIO(content, newline="")))
    except csv.Error as exc:
        raise ImportFileError(f"This file is not a CSV file we can read ({exc}).") from exc
    if not table:
        raise ImportFileError("The file is empty.")
    columns: dict[str, int] = {}
    for index, heading in enumerate(table[0]):
        key = HEADERS.get(" ".join(heading.strip().lower().replace("_", " ").split()))
        if key and key not in columns:
            columns[key] = index
    if "email" not in columns:
        raise ImportFileError(
            'The first row must name the columns, including one called "email" '
            "(and name, organisation, consent source, consent date)."
        )
    rows = [(n, r) for n, r in enumerate(table[1:], start=2) if any(c.strip() for c in r)]
    if not rows:
        raise ImportFileError("The file has a header row but no people in it.")
    if len(rows) > MAX_ROWS:
        raise ImportFileError(f"Import at most {MAX_ROWS} people at a time.")
    return columns, rows


def _parse_date(value: str) -> datetime | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _parse_row(line: int, cells: list[str], columns: dict[str, int]) -> PlannedRow:
    def get(key: str) -> str:
        index = columns.get(key)
        return _cell(cells[index]) if index is not None and index < len(cells) else ""

    reasons: list[str] = []
    raw_email = get("email")
    problem = email_problem(raw_email)
    if problem:
        reasons.append(f"email: {problem}" if raw_email else "email: missing.")
    name, organisation, source = get("name"), get("organisation"), get("consent_source")
    role = get("role")
    for label, value, limit in (
        ("name", name, NAME_LENGTH),
        ("organisation", organisation, NAME_LENGTH),
        ("role", role, NAME_LENGTH),
        ("consent source", source, NOTE_LENGTH),
    ):
        if len(value) > limit:
            reasons.append(f"{label}: longer than {limit} characters.")
        elif has_control_characters(value):
            reasons.append(f"{label}: contains line breaks or control characters.")
    if not source:
        reasons.append("consent source: say how this person agreed to be on the list.")
    raw_date = get("consent_date")
    consent_date = _parse_date(raw_date) if raw_date else None
    if not raw_date:
        reasons.append("consent date: missing.")
    elif consent_date is None:
        reasons.append("consent date: use a date like 2024-02-28 or 28/02/2024.")
    elif consent_date > utcnow():
        reasons.append("consent date: in the future.")
    interests, bad_words = _parse_interests(get("interests"))
    if bad_words:
        reasons.append(
            "interests: use face-to-face, online or news (not " + ", ".join(bad_words) + ")."
        )
    return PlannedRow(
        line=line,
        email=normalise_email(raw_email) if not problem else raw_email[:254],
        name=name,
        organisation=organisation,
        role=role,
        consent_source=source,
        consent_date=consent_date,
        interests=interests,
        interests_given=bool(get("interests")),
        action=RowAction.ERROR if reasons else RowAction.ADD,
        reasons=reasons,
    )


def _parse_interests(text: str) -> tuple[Interests, list[str]]:
    if not text:
        # The list was kept for event invitations, so that is what these people asked for.
        return Interests(in_person=True, online=True), []
    chosen: set[str] = set()
    bad: list[str] = []
    for word in (w.strip().lower() for w in text.replace(";", ",").split(",")):
        if not word:
            continue
        if word in INTEREST_WORDS:
            chosen.add(INTEREST_WORDS[word])
        else:
            bad.append(word[:40])
    return Interests(**dict.fromkeys(chosen, True)), bad


def _withdrawn(subscriber: Subscriber) -> bool:
    return subscriber.status == SubscriberStatus.UNSUBSCRIBED or (
        subscriber.status == SubscriberStatus.PENDING and subscriber.unsubscribed_at is not None
    )


@dataclass
class _Person:
    """What a merge reads and fills in, copied so the preview can rehearse the import."""

    name: str
    organisation: str
    role: str
    wants_in_person: bool
    wants_online: bool
    wants_news: bool
    status: SubscriberStatus

    @classmethod
    def of(cls, subscriber: Subscriber) -> "_Person":
        return cls(
            name=subscriber.name,
            organisation=subscriber.organisation,
            role=subscriber.role,
            wants_in_person=subscriber.wants_in_person,
            wants_online=subscriber.wants_online,
            wants_news=subscriber.wants_news,
            status=subscriber.status,
        )


def _fill_in(person: _Person | Subscriber, row: PlannedRow) -> list[str]:
    """Fill the person's empty details and add the row's interests; say what changed."""
    changes = []
    for attribute in ("name", "organisation", "role"):
        value = getattr(row, attribute)
        if value and not getattr(person, attribute):
            setattr(person, attribute, value)
            changes.append(f"{attribute} set to “{value}”")
    if row.interests_given:
        for key, label in INTERESTS.items():
            if getattr(row.interests, key) and not getattr(person, f"wants_{key}"):
                setattr(person, f"wants_{key}", True)
                changes.append(f"adds {label.lower()}")
    return changes


def _describe_merge(person: _Person, row: PlannedRow) -> None:
    pending = person.status == SubscriberStatus.PENDING
    changes = _fill_in(person, row)
    summary = "; ".join(changes)
    row.changes = [summary[:1].upper() + summary[1:] + "." if changes else "Nothing to change."]
    if pending:
        # Matches _merge: an unconfirmed signup is confirmed on the file's consent.
        person.status = SubscriberStatus.CONFIRMED
        row.changes.append("Not yet confirmed: confirmed on the consent in this file.")
    else:
        row.changes.append("Their consent record is kept as it is.")


def plan_import(batch: ImportBatch) -> ImportPlan:
    """What importing this batch would do, row by row, in three queries."""
    columns, table = _read(batch.content)
    rows = [_parse_row(line, cells, columns) for line, cells in table]
    valid = [r for r in rows if r.action != RowAction.ERROR]
    emails = {r.email for r in valid}
    existing = {
        s.email: s
        for s in db.session.scalars(select(Subscriber).where(Subscriber.email.in_(emails)))
    }
    # Each address as it will stand after the rows above, so every merge is described truly.
    people = {email: _Person.of(s) for email, s in existing.items()}
    bounced = bounced_among(emails)
    suppressed = suppressed_among(emails)
    first_line: dict[str, int] = {}
    for row in valid:
        earlier = first_line.setdefault(row.email, row.line)
        subscriber = existing.get(row.email)
        if row.email in suppressed:
            row.action, reason = RowAction.SKIP, "erased at the person's request"
        elif row.email in bounced:
            row.action, reason = RowAction.SKIP, "mail to this address bounces"
        elif subscriber is not None and _withdrawn(subscriber):
            row.action, reason = RowAction.SKIP, "this person unsubscribed"
        elif earlier != row.line:
            row.action, reason = RowAction.MERGE, f"same address as line {earlier}"
        elif subscriber is not None:
            row.action, reason = RowAction.MERGE, "already on the list"
        else:
            row.action, reason = RowAction.ADD, "new"
        row.reasons.append(reason)
        if row.action == RowAction.ADD:
            people[row.email] = _Person(
                name=row.name,
                organisation=row.organisation,
                role=row.role,
                wants_in_person=row.interests.in_person,
                wants_online=row.interests.online,
                wants_news=row.interests.news,
                status=SubscriberStatus.CONFIRMED,
            )
        elif row.action == RowAction.MERGE:
            _describe_merge(people[row.email], row)
    return ImportPlan(batch=batch, rows=rows)


def audit_target(key: str) -> Target | None:
    """How an import batch (by id) reads in the audit log, linked to its page."""
    if not key.isdigit():
        return None
    return Target(
        f"Subscriber import {key}", path_for("manage.newsletter.import_preview", batch_id=int(key))
    )


def start_import(*, filename: str, data: bytes) -> ImportBatch:
    """Keep an uploaded file as a batch awaiting the organiser's look at its preview."""
    content = _decode(data)
    if "\x00" in content:
        raise ImportFileError("This file is not a CSV file we can read.")
    batch = ImportBatch(
        filename="".join(ch for ch in filename if ch.isprintable())[:255],
        content=content,
        organiser_id=current_user.id if getattr(current_user, "is_authenticated", False) else None,
    )
    _read(batch.content)
    db.session.add(batch)
    db.session.flush()
    return batch


def get_preview(*, batch_id: int) -> ImportPlan:
    """The plan of a batch still awaiting import."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status != ImportStatus.PREVIEW:
        raise NewsletterError("That import has already been done or has expired.")
    return plan_import(batch)


def apply_import(*, batch_id: int) -> ImportBatch:
    """Import a previewed batch: add the new, merge duplicates, skip and count the rest."""
    plan = get_preview(batch_id=batch_id)
    batch = plan.batch
    people: dict[str, Subscriber] = {
        s.email: s
        for s in db.session.scalars(
            select(Subscriber).where(
                Subscriber.email.in_({r.email for r in plan.rows if r.action != RowAction.ERROR})
            )
        )
    }
    for row in plan.rows:
        if row.action in (RowAction.ADD, RowAction.MERGE):
            people[row.email] = _merge(people.get(row.email), row, batch)
    batch.added = plan.count(RowAction.ADD)
    batch.merged = plan.count(RowAction.MERGE)
    batch.skipped = plan.count(RowAction.SKIP)
    batch.errors = plan.count(RowAction.ERROR)
    batch.status = ImportStatus.APPLIED
    batch.applied_at = utcnow()
    batch.content = ""
    db.session.flush()
    record(
        action="newsletter.import",
        target=f"import batch {batch.id}",
        detail=(
            f"{batch.filename}: {batch.added} added, {batch.merged} merged, "
            f"{batch.skipped} skipped, {batch.errors} rows with errors"
        ),
    )
    return batch


def _merge(subscriber: Subscriber | None, row: PlannedRow, batch: ImportBatch) -> Subscriber:
    if subscriber is None:
        subscriber = Subscriber(
            email=row.email,
            name=row.name,
            organisation=row.organisation,
            role=row.role,
            wants_in_person=row.interests.in_person,
            wants_online=row.interests.online,
            wants_news=row.interests.news,
            status=SubscriberStatus.PENDING,
        )
        db.session.add(subscriber)
    else:
        _fill_in(subscriber, row)
    if subscriber.status == SubscriberStatus.PENDING:
        # The consent recorded in the file is what turns this row into a subscriber; a confirmed
        # person's own consent record is never replaced.
        subscriber.status = SubscriberStatus.CONFIRMED
        subscriber.consent_source = ConsentSource.IMPORT
        subscriber.consent_note = row.consent_source
        subscriber.consent_text_version = IMPORTED_CONSENT_VERSION
        subscriber.import_batch_id = batch.id
        subscriber.requested_at = row.consent_date or utcnow()
        subscriber.confirmed_at = row.consent_date or utcnow()
    return subscriber


def discard_stale_previews() -> int:
    """Delete uploads that were previewed but never imported (they hold personal data)."""
    result = db.session.execute(
        delete(ImportBatch).where(
            ImportBatch.status == ImportStatus.PREVIEW,
            ImportBatch.created_at < utcnow() - PREVIEW_LIFETIME,
        )
    )
    return result.rowcount or 0
