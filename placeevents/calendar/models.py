"""What the calendar keeps of an event: the ORGANIZER its entries were first mailed with."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from placeevents.clock import utcnow
from placeevents.extensions import db


class CalendarOrganizer(db.Model):
    """The sender's address when an event's calendar entries were first mailed, kept so later
    updates and cancellations match the entries already in people's calendars."""

    __tablename__ = "calendar_organizer"

    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
