"""Recording actions in the audit log, and reading it back in words.

The log imports no domain. An entry's target is a key such as "event:12" or "enquiry
total-place-2"; each domain says at start-up how its kind of target reads (describe_targets), and
record() stores those words and the organiser page beside the key.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask, current_app
from flask_login import current_user
from sqlalchemy import func, select

from placeevents.audit.models import AuditEntry
from placeevents.extensions import db

# Calendar wording mailed to software, not meant for people reading the log.
SEQUENCE_NOTE = re.compile(r" ?\(SEQUENCE \d+\)")
LABEL_LENGTH = 300


@dataclass(frozen=True)
class Target:
    """How an entry's target reads in the log, and the organiser page showing it ("" for none)."""

    label: str
    url: str = ""


# Given the key after the kind ("12" of "event:12"), the target in words; None if unknown.
Describe = Callable[[str], Target | None]


def describe_targets(app: Flask, kind: str, describe: Describe) -> None:
    """Tell the log how targets of one kind read: `kind` is the key's first word ("event",
    "import batch"), followed in the key by ":" or a space and an id or slug."""
    app.extensions.setdefault("audit.targets", {})[kind] = describe


def describe_actions(app: Flask, words: dict[str, str]) -> None:
    """Tell the log how a domain's actions read ("event.publish": "Published the event")."""
    app.extensions.setdefault("audit.actions", {}).update(words)


def action_words(action: str) -> str:
    """An action as the log shows it: its words, or for an action nobody described (an old
    entry), the code made readable."""
    words: dict[str, str] = current_app.extensions.get("audit.actions", {})
    return words.get(action) or action.replace(".", ": ").replace("_", " ").replace("-", " ")


def _described(target: str) -> Target | None:
    # Keys read "<kind>:<key>" or "<kind> <key>"; anything else is free text, shown as written.
    kinds: dict[str, Describe] = current_app.extensions.get("audit.targets", {})
    for kind in sorted(kinds, key=len, reverse=True):
        head, key = target[: len(kind) + 1], target[len(kind) + 1 :]
        if head in (f"{kind}:", f"{kind} ") and key and not any(c.isspace() for c in key):
            return kinds[kind](key)
    return None


def record(
    *, action: str, target: str = "", detail: str = "", organiser=None, linked: bool = True
) -> AuditEntry:
    """Add an audit entry for the signed-in organiser (or the given one, or the system).

    The target is stored with its words and page as they are now; linked=False keeps the words
    without the page, for a target about to be deleted.
    """
    who = organiser
    if who is None and current_user and getattr(current_user, "is_authenticated", False):
        who = current_user
    described = _described(target) or Target("")
    entry = AuditEntry(
        action=action,
        target=target,
        target_label=described.label[:LABEL_LENGTH],
        target_url=described.url if linked else "",
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
                AuditEntry.target_label.ilike(pattern, escape="\\"),
                AuditEntry.detail.ilike(pattern, escape="\\"),
                AuditEntry.actor.ilike(pattern, escape="\\"),
            )
        )
    ).all()
    patterns = [re.compile(re.escape(text), re.IGNORECASE) for text in [email, *sorted(names)]]
    for entry in entries:
        label = entry.target_label
        for compiled in patterns:
            entry.target = compiled.sub(REDACTED, entry.target)
            entry.target_label = compiled.sub(REDACTED, entry.target_label)
            entry.detail = compiled.sub(REDACTED, entry.detail)
            entry.actor = compiled.sub(REDACTED, entry.actor)
        if entry.target_label != label:
            # The entry was about the person: their page is gone too.
            entry.target_url = ""
    db.session.flush()
    return len(entries)


def readable_detail(detail: str) -> str:
    """An entry's detail without wording meant for software (calendar SEQUENCE numbers)."""
    return SEQUENCE_NOTE.sub("", detail)


def format_moment(moment: datetime, tz: str) -> str:
    """'28 Nov 2026, 23:32 GMT'."""
    local = moment.astimezone(ZoneInfo(tz))
    return f"{local.day} {local:%b %Y, %H:%M %Z}"


@dataclass(frozen=True)
class AuditRow:
    """One entry as the audit page shows it: the target in words, linked when it has a page."""

    entry: AuditEntry
    when: str
    action: str
    target: str
    url: str
    detail: str


@dataclass
class AuditPage:
    """One page of the audit log, newest first, and what there is to filter by."""

    entries: list[AuditEntry]
    page: int
    pages: int
    total: int
    # Each action recorded so far, with its words, for the filter.
    actions: list[tuple[str, str]]
    tz: str
    rows: list[AuditRow] = field(default_factory=list)
    # The words of the action the page is filtered by ("" for all).
    action: str = ""

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def audit_log(*, tz: str, action: str = "", page: int = 1, per_page: int = 50) -> AuditPage:
    """A page of audit entries, newest first, optionally of one action, with times in `tz`.

    Three queries whatever the page holds: the count, the page and the actions.
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
    rows = [
        AuditRow(
            entry=e,
            when=format_moment(e.at, tz),
            action=action_words(e.action),
            # Free-text targets, and entries written before labels were stored, read as written.
            target=e.target_label or e.target,
            url=e.target_url,
            detail=readable_detail(e.detail),
        )
        for e in entries
    ]
    described = sorted(((a, action_words(a)) for a in actions), key=lambda pair: pair[1])
    return AuditPage(
        entries, page, pages, total, described, tz, rows, action_words(action) if action else ""
    )
