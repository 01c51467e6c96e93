"""The outbox: every mail the app sends, stored with the change that caused it."""

import enum
from datetime import datetime

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
    # Groups the messages of one bulk send, so its page can show progress.
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
