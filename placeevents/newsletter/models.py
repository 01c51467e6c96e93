"""The mailing list: subscribers, their consent, imports and the erasure suppression list."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from placeevents.clock import utcnow
from placeevents.db import str_enum
from placeevents.extensions import db
from placeevents.tokens import new_nonce

# The longest name, organisation or role a subscriber's record keeps.
NAME_LENGTH = 200


class SubscriberStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"

    @property
    def label(self) -> str:
        return {
            "pending": "Awaiting confirmation",
            "confirmed": "Subscribed",
            "unsubscribed": "Unsubscribed",
        }[self.value]


class ConsentSource(enum.StrEnum):
    FORM = "form"
    ORGANISER = "organiser"
    IMPORT = "import"

    @property
    def label(self) -> str:
        return {"form": "Sign-up form", "organiser": "Asked in person", "import": "Import"}[
            self.value
        ]


class Subscriber(db.Model):
    """A person on the mailing list, with their interests and consent record."""

    __tablename__ = "subscriber"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised: stripped and lower-cased.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_LENGTH), default="")
    organisation: Mapped[str] = mapped_column(sa.String(NAME_LENGTH), default="")
    role: Mapped[str] = mapped_column(sa.String(NAME_LENGTH), default="")
    wants_in_person: Mapped[bool] = mapped_column(default=False)
    wants_online: Mapped[bool] = mapped_column(default=False)
    wants_news: Mapped[bool] = mapped_column(default=False)
    status: Mapped[SubscriberStatus] = mapped_column(
        str_enum(SubscriberStatus), default=SubscriberStatus.PENDING, index=True
    )
    token_nonce: Mapped[str] = mapped_column(sa.String(32), default=new_nonce)
    consent_text_version: Mapped[str] = mapped_column(sa.String(40), default="")
    consent_source: Mapped[ConsentSource] = mapped_column(
        str_enum(ConsentSource), default=ConsentSource.FORM
    )
    # How the person agreed, in the words of whoever recorded it (import or organiser).
    consent_note: Mapped[str] = mapped_column(sa.String(300), default="")
    import_batch_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("import_batch.id", ondelete="SET NULL"), index=True
    )
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    confirmed_ip: Mapped[str] = mapped_column(sa.String(64), default="")
    unsubscribed_at: Mapped[datetime | None]
    last_signup_mail_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Subscriber {self.id} {self.status}>"


class ImportStatus(enum.StrEnum):
    PREVIEW = "preview"
    APPLIED = "applied"


class ImportBatch(db.Model):
    """One upload of an existing list by an organiser, with its outcome counts."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(255), default="")
    status: Mapped[ImportStatus] = mapped_column(
        str_enum(ImportStatus), default=ImportStatus.PREVIEW
    )
    # The uploaded CSV, kept only between preview and import, then emptied.
    content: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]
    added: Mapped[int] = mapped_column(default=0)
    merged: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)


class Suppression(db.Model):
    """A hashed address that must never be re-added (left after erasure)."""

    __tablename__ = "suppression"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    reason: Mapped[str] = mapped_column(sa.String(40), default="erased")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DoNotInvite(db.Model):
    """An address that asked not to be sent invitations."""

    __tablename__ = "do_not_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StandingInvitation(db.Model):
    """A subscriber's wish to be invited to every exploration of one enquiry."""

    __tablename__ = "standing_invitation"
    __table_args__ = (sa.UniqueConstraint("subscriber_id", "enquiry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        sa.ForeignKey("subscriber.id", ondelete="CASCADE"), index=True
    )
    enquiry_id: Mapped[int] = mapped_column(
        sa.ForeignKey("enquiry.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
