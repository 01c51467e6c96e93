"""The audit log: who exported, imported, erased, sent or changed what, and when."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from placeevents.clock import utcnow
from placeevents.extensions import db


class AuditEntry(db.Model):
    """One recorded action by an organiser (or by the system)."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    organiser_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(sa.String(254), default="system")
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    target: Mapped[str] = mapped_column(sa.String(200), default="")
    # How the log shows the target, and the organiser page it links to ("" for none); stored
    # when the entry is written, so reading the log asks no other domain.
    target_label: Mapped[str] = mapped_column(sa.String(300), default="")
    target_url: Mapped[str] = mapped_column(sa.String(300), default="")
    detail: Mapped[str] = mapped_column(sa.Text, default="")
