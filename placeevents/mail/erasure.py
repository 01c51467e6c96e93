"""Erasing an address from the mail domain's tables: its queued and sent mail, mail requests
and bounces."""

from sqlalchemy import delete, select

from placeevents.addresses import normalise_email
from placeevents.extensions import db
from placeevents.mail.models import Bounce, MailRequest, OutboxMessage


def like_pattern(text: str) -> str:
    """A LIKE pattern (escape character backslash) matching `text` anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def erase_address(*, email: str) -> tuple[int, int]:
    """Delete every message and mail request for `email`, and its bounces; returns (messages
    and requests, bounces)."""
    candidates = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.recipients).where(
            OutboxMessage.recipients.ilike(like_pattern(email), escape="\\")
        )
    ).all()
    message_ids = [
        row.id
        for row in candidates
        if email in (normalise_email(r) for r in row.recipients.split("\n"))
    ]
    messages = db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids))
        .execution_options(synchronize_session=False)
    ).rowcount
    requests = db.session.execute(
        delete(MailRequest)
        .where(MailRequest.email == email)
        .execution_options(synchronize_session=False)
    ).rowcount
    bounces = db.session.execute(
        delete(Bounce).where(Bounce.email == email).execution_options(synchronize_session=False)
    ).rowcount
    return (messages or 0) + (requests or 0), bounces or 0
