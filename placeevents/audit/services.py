"""Recording actions in the audit log."""

from flask_login import current_user

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
