"""Mail requests: a public form queues one row, whatever the address; the worker answers it.

A form that mailed only known addresses would do more work, and write other rows, for them
than for strangers, and so tell anyone timing it who is on the list. Such forms call
request_mail() instead, and the handler their domain registered looks the address up in the
worker and decides whether and what to send.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.sql.elements import ColumnElement

from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.mail.backoff import retry_delay
from placeevents.mail.models import MailRequest
from placeevents.mail.outbox import wake_workers


@dataclass(frozen=True)
class QueuedRequest:
    """What a handler is given: the (normalised) address, the form's payload and when it asked."""

    email: str
    payload: dict[str, Any]
    requested_at: datetime


Handler = Callable[[QueuedRequest], None]

# Filled by the domains as their modules are imported (create_app imports every domain).
HANDLERS: dict[str, Handler] = {}


def mail_request_handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that answers requests of this kind; it may write and enqueue."""

    def register(handler: Handler) -> Handler:
        HANDLERS[kind] = handler
        return handler

    return register


def request_mail(*, kind: str, email: str, payload: dict[str, Any] | None = None) -> None:
    """Queue a request in the current transaction; the worker answers it after commit."""
    db.session.add(
        MailRequest(kind=kind, email=email, payload=payload or {}, next_attempt_at=utcnow())
    )
    db.session.flush()
    wake_workers()


def _due(cutoff: datetime) -> tuple[ColumnElement[bool], ...]:
    return (MailRequest.failed_at.is_(None), MailRequest.next_attempt_at <= cutoff)


def requests_due(cutoff: datetime) -> ColumnElement[bool]:
    """Whether any request is due by `cutoff` (an EXISTS to select)."""
    return select(MailRequest.id).where(*_due(cutoff)).exists()


def answer_due_requests(*, should_stop: Callable[[], bool]) -> int:
    """Answer every request due now, each in a transaction of its own; returns how many."""
    cutoff = utcnow()
    answered = 0
    while not should_stop():
        query = select(MailRequest.id).where(*_due(cutoff)).order_by(MailRequest.id).limit(1)
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        request_id = db.session.scalar(query)
        if request_id is None:
            db.session.commit()
            return answered
        # Deleting is the claim: a second worker finds nothing, and the answer commits with it.
        taken = db.session.execute(
            delete(MailRequest)
            .where(MailRequest.id == request_id, *_due(cutoff))
            .returning(
                MailRequest.kind, MailRequest.email, MailRequest.payload, MailRequest.attempts,
                MailRequest.created_at,
            )
            .execution_options(synchronize_session=False)
        ).first()
        if taken is None:
            db.session.rollback()
            continue
        try:
            handler = HANDLERS.get(taken.kind)
            if handler is None:
                raise LookupError(f"nothing answers mail requests of kind {taken.kind!r}")
            handler(QueuedRequest(taken.email, dict(taken.payload), taken.created_at))
            db.session.commit()
            answered += 1
        except Exception as exc:
            # One request must not stop the others: it waits, and gives up after the last try.
            db.session.rollback()
            current_app.logger.exception("could not answer mail request %s", request_id)
            _retry(request_id, taken.attempts + 1, str(exc) or type(exc).__name__)
    db.session.commit()
    return answered


def _retry(request_id: int, attempt: int, reason: str) -> None:
    now = utcnow()
    values: dict[str, Any] = {"attempts": attempt, "last_error": reason[:2000]}
    if attempt >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        values["failed_at"] = now
    else:
        values["next_attempt_at"] = now + retry_delay(attempt)
    db.session.execute(
        update(MailRequest)
        .where(MailRequest.id == request_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def failed_requests(*, limit: int = 200) -> list[MailRequest]:
    """Requests the worker gave up on, newest first, for the organisers' mail page."""
    return list(
        db.session.scalars(
            select(MailRequest)
            .where(MailRequest.failed_at.is_not(None))
            .order_by(MailRequest.id.desc())
            .limit(limit)
        )
    )
