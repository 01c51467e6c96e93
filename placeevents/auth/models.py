"""Organisers: the team who run an enquiry and sign in to manage it."""

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from placeevents.clock import utcnow
from placeevents.extensions import db


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class Organiser(UserMixin, db.Model):
    """A member of the team who can sign in to the organiser pages."""

    __tablename__ = "organiser"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    # Part of the login cookie; rotated at logout so a replayed cookie no longer works.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<Organiser {self.email}>"
