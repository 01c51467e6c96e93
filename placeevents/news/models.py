"""Newsletters and learning digests, and the subscribers each one has been queued for."""

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placeevents.clock import utcnow
from placeevents.db import str_enum
from placeevents.extensions import db

if TYPE_CHECKING:
    from placeevents.auth.models import Organiser


class NewsletterKind(enum.StrEnum):
    NEWS = "news"
    DIGEST = "digest"

    @property
    def label(self) -> str:
        return {"news": "Newsletter", "digest": "Learning digest"}[self.value]


class NewsletterStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"

    @property
    def label(self) -> str:
        return {
            "draft": "Draft",
            "scheduled": "Scheduled",
            "sending": "Sending",
            "sent": "Sent",
        }[self.value]


class Newsletter(db.Model):
    """A newsletter or learning digest: its content, audience, schedule and sending progress."""

    __tablename__ = "newsletter"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NewsletterKind] = mapped_column(
        str_enum(NewsletterKind), default=NewsletterKind.NEWS
    )
    subject: Mapped[str] = mapped_column(sa.String(200))
    # Markdown, rendered and sanitised as notes are.
    body: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[NewsletterStatus] = mapped_column(
        str_enum(NewsletterStatus), default=NewsletterStatus.DRAFT, index=True
    )
    # The audience: interests (comma separated; any of them will do) and, when set, the events
    # whose attendees it is narrowed to (comma-separated ids).
    interests: Mapped[str] = mapped_column(sa.String(100), default="news")
    event_ids: Mapped[str] = mapped_column(sa.String(1000), default="")
    # The public notes a learning digest covers, so the next digest starts after them.
    note_ids: Mapped[str] = mapped_column(sa.Text, default="")
    scheduled_for: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # How many the audience reached when sending started, and how many are queued so far.
    recipients: Mapped[int] = mapped_column(default=0)
    queued: Mapped[int] = mapped_column(default=0)
    # The last subscriber id the queueing has passed: a worker that takes over resumes here.
    cursor: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(80))
    claimed_until: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    created_by: Mapped["Organiser | None"] = relationship()

    @property
    def batch_key(self) -> str:
        """The outbox batch its messages are queued under (for progress)."""
        return f"news-{self.id}"

    @property
    def editable(self) -> bool:
        return self.status in (NewsletterStatus.DRAFT, NewsletterStatus.SCHEDULED)

    @property
    def interest_list(self) -> list[str]:
        return [i for i in self.interests.split(",") if i]

    @property
    def event_id_list(self) -> list[int]:
        return [int(i) for i in self.event_ids.split(",") if i.isdigit()]

    @property
    def note_id_list(self) -> list[int]:
        return [int(i) for i in self.note_ids.split(",") if i.isdigit()]


class NewsletterRecipient(db.Model):
    """A subscriber a newsletter has been queued for; the unique pair queues each one once."""

    __tablename__ = "newsletter_recipient"
    __table_args__ = (sa.UniqueConstraint("newsletter_id", "subscriber_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    newsletter_id: Mapped[int] = mapped_column(
        sa.ForeignKey("newsletter.id", ondelete="CASCADE"), index=True
    )
    # Erasing the person removes the row with them.
    subscriber_id: Mapped[int] = mapped_column(
        sa.ForeignKey("subscriber.id", ondelete="CASCADE"), index=True
    )
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
