"""Erasing a person on request: every row about them goes, and only a hashed suppression stays."""

import re
from dataclasses import dataclass

from sqlalchemy import Delete, delete, or_, select

from placeevents.audit.models import AuditEntry
from placeevents.audit.services import record
from placeevents.extensions import db
from placeevents.invitations.models import Invitation
from placeevents.mail.models import Bounce, OutboxMessage
from placeevents.newsletter.models import (
    DoNotInvite,
    ImportBatch,
    ImportStatus,
    Subscriber,
    Suppression,
)
from placeevents.newsletter.services import NewsletterError, normalise_email, suppression_hash
from placeevents.notes.models import NoteShare

REDACTED = "[erased]"


@dataclass(frozen=True)
class ErasureReport:
    """How many rows of each kind were removed or redacted."""

    subscribers: int
    invitations: int
    messages: int
    bounces: int
    do_not_invite: int
    note_shares: int
    import_previews: int
    audit_entries: int

    def summary(self) -> str:
        return (
            f"{self.subscribers} subscriber, {self.invitations} invitations (with answers), "
            f"{self.messages} mails, {self.bounces} bounces, {self.do_not_invite} "
            f"do-not-invite, {self.note_shares} note shares, {self.import_previews} import "
            f"previews removed; {self.audit_entries} audit entries redacted"
        )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def erase_person(*, email: str) -> ErasureReport:
    """Remove a person from every table, redact them in the audit log, suppress the address."""
    email = normalise_email(email)
    if "@" not in email:
        raise NewsletterError("Enter the email address of the person to erase.")
    names = {
        n for n in db.session.scalars(select(Subscriber.name).where(Subscriber.email == email))
    } | {n for n in db.session.scalars(select(Invitation.name).where(Invitation.email == email))}

    # Rsvp rows go with their invitation (ON DELETE CASCADE).
    invitations = _delete(delete(Invitation).where(Invitation.email == email))
    subscribers = _delete(delete(Subscriber).where(Subscriber.email == email))
    bounces = _delete(delete(Bounce).where(Bounce.email == email))
    refusals = _delete(delete(DoNotInvite).where(DoNotInvite.email == email))
    shares = _delete(delete(NoteShare).where(NoteShare.email == email))

    candidates = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.recipients).where(
            OutboxMessage.recipients.ilike(_like(email), escape="\\")
        )
    ).all()
    message_ids = [
        row.id
        for row in candidates
        if email in (r.strip().lower() for r in row.recipients.split("\n"))
    ]
    messages = _delete(delete(OutboxMessage).where(OutboxMessage.id.in_(message_ids)))

    previews = _delete(
        delete(ImportBatch).where(
            ImportBatch.status == ImportStatus.PREVIEW,
            ImportBatch.content.ilike(_like(email), escape="\\"),
        )
    )

    audit_entries = _redact_audit(email, {n for n in names if n.strip()})

    if (
        db.session.scalar(
            select(Suppression.id).where(Suppression.email_hash == suppression_hash(email))
        )
        is None
    ):
        db.session.add(Suppression(email_hash=suppression_hash(email), reason="erased"))
    report = ErasureReport(
        subscribers=subscribers,
        invitations=invitations,
        messages=messages,
        bounces=bounces,
        do_not_invite=refusals,
        note_shares=shares,
        import_previews=previews,
        audit_entries=audit_entries,
    )
    record(action="newsletter.erase", target="a person, on request", detail=report.summary())
    db.session.expire_all()
    return report


def _delete(statement: Delete) -> int:
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount or 0


def _redact_audit(email: str, names: set[str]) -> int:
    entries = db.session.scalars(
        select(AuditEntry).where(
            or_(
                AuditEntry.target.ilike(_like(email), escape="\\"),
                AuditEntry.detail.ilike(_like(email), escape="\\"),
                AuditEntry.actor.ilike(_like(email), escape="\\"),
            )
        )
    ).all()
    # The name is redacted only where the address shows the entry is about this person.
    patterns = [re.compile(re.escape(text), re.IGNORECASE) for text in [email, *sorted(names)]]
    for entry in entries:
        for pattern in patterns:
            entry.target = pattern.sub(REDACTED, entry.target)
            entry.detail = pattern.sub(REDACTED, entry.detail)
            entry.actor = pattern.sub(REDACTED, entry.actor)
    db.session.flush()
    return len(entries)
