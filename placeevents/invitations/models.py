"""Invitations to an event and the answers (RSVPs) given to them."""

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placeevents.clock import utcnow
from placeevents.db import str_enum
from placeevents.extensions import db
from placeevents.tokens import new_nonce

if TYPE_CHECKING:
    from placeevents.events.models import Event


class InvitationSource(enum.StrEnum):
    SUBSCRIBER = "subscriber"
    ATTENDEE = "attendee"
    PASTED = "pasted"
    REQUEST = "request"
    ORGANISER = "organiser"
    # Invited by the worker: the subscriber asked to be invited to every event of the enquiry.
    STANDING = "standing"


class RsvpAnswer(enum.StrEnum):
    YES = "yes"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"
    MAYBE = "maybe"
    NO = "no"

    @property
    def label(self) -> str:
        return {
            "yes": "Coming",
            "waitlisted": "On the waiting list",
            "offered": "Offered a place",
            "maybe": "Maybe",
            "no": "Not coming",
        }[self.value]


class AttendanceMode(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"

    @property
    def label(self) -> str:
        return {"in_person": "in person", "online": "online"}[self.value]


class MailingKind(enum.StrEnum):
    INVITATION = "invitation"
    MESSAGE = "message"
    REMINDER = "reminder"


class Invitation(db.Model):
    """One person invited to one event, reached through an unguessable token link."""

    __tablename__ = "invitation"
    __table_args__ = (sa.UniqueConstraint("event_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    organisation: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[str] = mapped_column(sa.String(200), default="")
    subscriber_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscriber.id", ondelete="SET NULL"), index=True
    )
    source: Mapped[InvitationSource] = mapped_column(str_enum(InvitationSource))
    token_nonce: Mapped[str] = mapped_column(sa.String(32), default=new_nonce)
    invited_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_reminded_at: Mapped[datetime | None]
    event_reminder_sent_at: Mapped[datetime | None]

    event: Mapped["Event"] = relationship()
    rsvp: Mapped["Rsvp | None"] = relationship(
        back_populates="invitation", uselist=False, cascade="all, delete-orphan"
    )


class Rsvp(db.Model):
    """An invitee's answer, their place or waitlist position, and whether they attended."""

    __tablename__ = "rsvp"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invitation.id", ondelete="CASCADE"), unique=True
    )
    answer: Mapped[RsvpAnswer] = mapped_column(str_enum(RsvpAnswer), index=True)
    mode: Mapped[AttendanceMode | None] = mapped_column(str_enum(AttendanceMode))
    # "No, but send me the session notes".
    wants_notes: Mapped[bool] = mapped_column(default=False)
    # With a yes: the other mode this person waits for while keeping their place (a hybrid
    # event); `waitlisted_at` is then their turn in that line and `offer_expires_at` an offer.
    waiting_for: Mapped[AttendanceMode | None] = mapped_column(str_enum(AttendanceMode))
    waitlisted_at: Mapped[datetime | None]
    offer_expires_at: Mapped[datetime | None]
    access_needs: Mapped[str] = mapped_column(sa.Text, default="")
    dietary_needs: Mapped[str] = mapped_column(sa.Text, default="")
    question: Mapped[str] = mapped_column(sa.Text, default="")
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    set_by_organiser_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL"), index=True
    )
    overbooked: Mapped[bool] = mapped_column(default=False)
    attended: Mapped[bool] = mapped_column(default=False)
    checked_in_at: Mapped[datetime | None]
    # The answer check-in replaced ("" when there was none), so an undo can put it back.
    answer_before_check_in: Mapped[str | None] = mapped_column(sa.String(20))
    # Highest calendar SEQUENCE mailed to this person, so each new one is above it.
    calendar_sequence: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    invitation: Mapped[Invitation] = relationship(back_populates="rsvp")


class EventMailing(db.Model):
    """One bulk send for an event (invitations, a message, reminders) and its counts."""

    __tablename__ = "event_mailing"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"), index=True)
    kind: Mapped[MailingKind] = mapped_column(str_enum(MailingKind))
    # The outbox batch key of its messages, for progress.
    batch_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    audience: Mapped[str] = mapped_column(sa.String(200), default="")
    subject: Mapped[str] = mapped_column(sa.String(300), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    recipients: Mapped[int] = mapped_column(default=0)
    already_invited: Mapped[int] = mapped_column(default=0)
    skipped_bounced: Mapped[int] = mapped_column(default=0)
    skipped_do_not_invite: Mapped[int] = mapped_column(default=0)
    skipped_erased: Mapped[int] = mapped_column(default=0)
    skipped_recent: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped["Event"] = relationship()


class StandingDelivery(db.Model):
    """A standing invitation handled for one event and subscriber, so it is handled only once
    (an organiser's removal or a "no" is never undone by the next run)."""

    __tablename__ = "standing_delivery"
    __table_args__ = (sa.UniqueConstraint("event_id", "subscriber_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        sa.ForeignKey("subscriber.id", ondelete="CASCADE"), index=True
    )
    # False when the address had already been invited some other way.
    invited: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
