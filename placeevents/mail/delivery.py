"""Delivering outbox messages over SMTP (first version: no leases or retries yet)."""

import smtplib

from flask import current_app
from sqlalchemy import select

from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.mail.models import OutboxMessage, OutboxStatus


def deliver(ids: list[int] | None = None, *, limit: int = 100) -> int:
    """Send due pending messages (only these ids, if given); commit after each. Returns sent."""
    query = select(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= utcnow()
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    rows = db.session.scalars(query.order_by(OutboxMessage.id).limit(limit)).all()
    if not rows:
        return 0
    config = current_app.config
    sent = 0
    try:
        with smtplib.SMTP(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]
        ) as smtp:
            for row in rows:
                smtp.sendmail(row.sender, row.recipient_list, row.raw)
                row.status = OutboxStatus.SENT
                row.sent_at = utcnow()
                db.session.commit()
                sent += 1
    except (OSError, smtplib.SMTPException) as exc:
        db.session.rollback()
        current_app.logger.warning("mail delivery deferred: %s", exc)
    return sent


def deliver_after_request() -> None:
    """Try to send what this request committed; whatever fails stays due for the worker."""
    from placeevents.mail.outbox import committed_in_this_request

    ids = committed_in_this_request()
    if ids:
        deliver(ids)
