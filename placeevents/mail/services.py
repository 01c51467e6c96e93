"""Use cases of the mail domain beyond queueing: overview, retry, purges."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from placeevents.addresses import normalise_email
from placeevents.audit.services import Target, record
from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.mail.bounces import bounced_among, remove_bounce
from placeevents.mail.models import Bounce, JobRun, OutboxMessage, OutboxStatus
from placeevents.urls import path_for


class MailError(Exception):
    """A mail action that cannot be done; the message is for the organiser."""


@dataclass(frozen=True)
class OutboxOverview:
    """What the outbox holds: counts by status and the pending and failed messages."""

    counts: dict[OutboxStatus, int]
    pending: list[OutboxMessage]
    failed: list[OutboxMessage]


def outbox_overview(*, limit: int = 200) -> OutboxOverview:
    """Counts, and the oldest pending and newest failed messages (at most `limit` of each)."""
    counts = {status: 0 for status in OutboxStatus}
    for status, count in db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ):
        counts[status] = count
    pending = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    ).all()
    failed = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    return OutboxOverview(counts=counts, pending=list(pending), failed=list(failed))


def audit_target(key: str) -> Target:
    """How an outbox message reads in the audit log: "Mail" and its id, linked to the outbox."""
    return Target(f"Mail {key}", path_for("manage.mail.index"))


def retry_message(*, message_id: int) -> OutboxMessage:
    """Make a failed message due again, with a fresh count of attempts."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise MailError(f"There is no message {message_id} in the outbox.")
    if message.status != OutboxStatus.FAILED:
        raise MailError(f"Message {message_id} has not failed; it is {message.status.value}.")
    if message.raw is None:
        raise MailError(f"Message {message_id} no longer has its body, so it cannot be sent.")
    bounced = bounced_among(message.recipient_list)
    if bounced and bounced >= {normalise_email(r) for r in message.recipient_list}:
        raise MailError(
            f"{', '.join(sorted(bounced))} is on the bounce list; remove it from the list first."
        )
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.claimed_by = None
    message.claimed_until = None
    record(action="mail.retry", target=f"outbox_message:{message.id}", detail=message.subject)
    db.session.flush()
    return message


def remove_from_bounce_list(*, bounce_id: int) -> Bounce | None:
    """Take an address off the bounce list, noted in the audit log; None if not there."""
    bounce = remove_bounce(bounce_id=bounce_id)
    if bounce is not None:
        record(action="mail.bounce_removed", target=bounce.email, detail=bounce.reason)
    return bounce


def purge_sent_bodies(*, older_than: timedelta) -> int:
    """Drop the bodies of mail sent before `older_than` ago (they carry live links); count."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at < utcnow() - older_than,
            OutboxMessage.raw.is_not(None),
        )
        .values(raw=None)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


def purge_job_runs(*, older_than: timedelta) -> int:
    """Forget the records of scheduled job runs older than this; returns how many."""
    result = db.session.execute(
        delete(JobRun)
        .where(JobRun.started_at < utcnow() - older_than)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return result.rowcount  # type: ignore[attr-defined,no-any-return]
