"""Recording actions in the audit log."""

from dataclasses import dataclass

import sqlalchemy as sa
from flask_login import current_user
from sqlalchemy import func, select

from placeevents.audit.models import AuditEntry
from placeevents.extensions import db


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


@dataclass
class AuditPage:
    """One page of the audit log, newest first, and what there is to filter by."""

    entries: list[AuditEntry]
    page: int
    pages: int
    total: int
    actions: list[str]

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def audit_log(*, action: str = "", page: int = 1, per_page: int = 50) -> AuditPage:
    """A page of audit entries, newest first, optionally of one action (three queries)."""
    condition = AuditEntry.action == action if action else sa.true()
    total = db.session.scalar(select(func.count(AuditEntry.id)).where(condition)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    entries = db.session.scalars(
        select(AuditEntry)
        .where(condition)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    actions = db.session.scalars(
        select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    ).all()
    return AuditPage(list(entries), page, pages, total, list(actions))
