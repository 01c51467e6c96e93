"""Erasing a person on request: each domain erases its own rows, and only a hashed suppression
stays, so the address is never added again."""

from dataclasses import dataclass

from placeevents.addresses import normalise_email
from placeevents.audit.services import record, redact
from placeevents.extensions import db
from placeevents.invitations import attendance
from placeevents.mail.erasure import erase_address
from placeevents.newsletter.erasure import erase_subscriber
from placeevents.newsletter.services import NewsletterError
from placeevents.notes.services import erase_shares


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


def erase_person(*, email: str) -> ErasureReport:
    """Remove a person from every table, redact them in the audit log, suppress the address.

    A place they held goes to the next person on the waiting list."""
    email = normalise_email(email)
    if "@" not in email:
        raise NewsletterError("Enter the email address of the person to erase.")
    names = attendance.names_of(email=email)
    invitations = attendance.erase_invitations(email=email)
    subscriber = erase_subscriber(email=email)
    shares = erase_shares(email=email)
    messages, bounces = erase_address(email=email)
    audit_entries = redact(email, {n for n in names | subscriber.names if n.strip()})
    report = ErasureReport(
        subscribers=subscriber.subscribers,
        invitations=invitations,
        messages=messages,
        bounces=bounces,
        do_not_invite=subscriber.do_not_invite,
        note_shares=shares,
        import_previews=subscriber.import_previews,
        audit_entries=audit_entries,
    )
    record(action="newsletter.erase", target="a person, on request", detail=report.summary())
    db.session.expire_all()
    return report
