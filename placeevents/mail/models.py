"""The outbox: every mail the app sends, stored with the change that caused it."""

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from placeevents.clock import utcnow
from placeevents.db import str_enum
from placeevents.extensions import db


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(db.Model):
    """One complete message waiting to be delivered, delivered, or failed with a reason."""

    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(40), default="", index=True)
    # Groups the messages of one bulk send, so its page can show progress; a lone message may
    # carry one naming what it is about, for its refusal handler (placeevents.mail.refusals).
    batch_key: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    sender: Mapped[str] = mapped_column(sa.String(254))
    # Envelope recipients, newline separated.
    recipients: Mapped[str] = mapped_column(sa.Text)
    subject: Mapped[str] = mapped_column(sa.String(300), default="")
    # The exact bytes to send; emptied seven days after delivery because bodies carry live links.
    raw: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    claimed_by: Mapped[str | None] = mapped_column(sa.String(80))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    @property
    def recipient_list(self) -> list[str]:
        return [r for r in self.recipients.split("\n") if r]


class MailRequest(db.Model):
    """A public form's ask for mail about an address, answered by the worker.

    The form stores this and nothing else, whoever the address belongs to, so what a request
    writes and how long it takes say nothing about who is known; the worker decides what to send.
    """

    __tablename__ = "mail_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Names the handler a domain registered (placeevents.mail.requests.mail_request_handler).
    kind: Mapped[str] = mapped_column(sa.String(60))
    # Normalised, so erasure finds it.
    email: Mapped[str] = mapped_column(sa.String(254))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    # Set once the last attempt has failed: kept, with its reason, for the organisers' mail page.
    failed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Bounce(db.Model):
    """An address the mail server refused permanently; later sends skip it."""

    __tablename__ = "bounce"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobRun(db.Model):
    """A scheduled job's run for one due time; the unique key makes each run happen once."""

    __tablename__ = "job_run"
    __table_args__ = (sa.UniqueConstraint("name", "due_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    due_key: Mapped[str] = mapped_column(sa.String(80))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(sa.Text, default="")
