"""An enquiry: one big question explored through a series of events."""

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placeevents.clock import utcnow
from placeevents.db import str_enum
from placeevents.extensions import db

if TYPE_CHECKING:
    from placeevents.events.models import Event


class EnquiryStatus(enum.StrEnum):
    CURRENT = "current"
    ARCHIVED = "archived"


class Enquiry(db.Model):
    """A year-long enquiry series with its lines of enquiry and its time zone."""

    __tablename__ = "enquiry"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    introduction: Mapped[str] = mapped_column(sa.Text, default="")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Europe/London")
    status: Mapped[EnquiryStatus] = mapped_column(
        str_enum(EnquiryStatus), default=EnquiryStatus.CURRENT, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    questions: Mapped[list["EnquiryQuestion"]] = relationship(
        back_populates="enquiry",
        order_by="EnquiryQuestion.position",
        cascade="all, delete-orphan",
    )
    events: Mapped[list["Event"]] = relationship(
        back_populates="enquiry", order_by="Event.starts_at"
    )

    def __repr__(self) -> str:
        return f"<Enquiry {self.slug}>"


class EnquiryQuestion(db.Model):
    """One line of enquiry within an enquiry, in its display order."""

    __tablename__ = "enquiry_question"
    __table_args__ = (sa.UniqueConstraint("enquiry_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(
        sa.ForeignKey("enquiry.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")

    enquiry: Mapped[Enquiry] = relationship(back_populates="questions")
