"""The one row of the organisation's settings."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from placeevents.clock import utcnow
from placeevents.extensions import db


class SiteSettings(db.Model):
    """What admins set for the whole site; a missing row means the configured defaults."""

    __tablename__ = "site_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_name: Mapped[str] = mapped_column(sa.String(200))
    sender_name: Mapped[str] = mapped_column(sa.String(200))
    sender_email: Mapped[str] = mapped_column(sa.String(254))
    subject_prefix: Mapped[str] = mapped_column(sa.String(100), default="")
    privacy_notice: Mapped[str] = mapped_column(sa.Text, default="")
    reminder_lead_hours: Mapped[int] = mapped_column(default=48)
    admins_need_two_factor: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
