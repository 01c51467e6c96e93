"""Organisers (the team who run an enquiry), their sessions and their recovery codes."""

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placeevents.clock import utcnow
from placeevents.db import str_enum
from placeevents.extensions import db


class Role(enum.StrEnum):
    """Admins manage the team and the settings; organisers run enquiries."""

    ADMIN = "admin"
    ORGANISER = "organiser"


def new_session_key() -> str:
    return secrets.token_urlsafe(24)


class Organiser(UserMixin, db.Model):
    """A member of the team who can sign in to the organiser pages."""

    __tablename__ = "organiser"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # Empty until an invited colleague sets their password: nobody signs in with it.
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.ORGANISER)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    invited_at: Mapped[datetime | None]
    # Two-factor sign-in: the TOTP secret once enrolled, and the last time step accepted.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_last_step: Mapped[int | None]

    sessions: Mapped[list["OrganiserSession"]] = relationship(
        back_populates="organiser", cascade="all, delete-orphan", passive_deletes=True
    )

    # The session this request runs in (set by the loader and at sign-in); not stored.
    session_key: str = ""

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def has_joined(self) -> bool:
        return bool(self.password_hash)

    @property
    def has_two_factor(self) -> bool:
        return bool(self.totp_secret)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_key}"

    def __repr__(self) -> str:
        return f"<Organiser {self.email}>"


class OrganiserSession(db.Model):
    """One sign-in: which browser, from where, and when it was last seen."""

    __tablename__ = "organiser_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="CASCADE"), index=True
    )
    # The secret the session cookie names this row by.
    key: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_session_key)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_agent: Mapped[str] = mapped_column(sa.String(300), default="")
    client_address: Mapped[str] = mapped_column(sa.String(64), default="")

    organiser: Mapped[Organiser] = relationship(back_populates="sessions")


class RecoveryCode(db.Model):
    """A single-use code that stands in for an authenticator app; only its hash is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None]
