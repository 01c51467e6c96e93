"""Events of an enquiry: face-to-face, online or hybrid explorations."""

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placeevents.clock import utcnow
from placeevents.db import str_enum
from placeevents.extensions import db

if TYPE_CHECKING:
    from placeevents.enquiries.models import Enquiry


class EventFormat(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"

    @property
    def label(self) -> str:
        return {"in_person": "Face-to-face", "online": "Online", "hybrid": "Hybrid"}[self.value]


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class EventAccess(enum.StrEnum):
    INVITATION = "invitation"
    OPEN = "open"


def new_calendar_uid() -> str:
    """A random, globally unique calendar identity for a new event."""
    return f"{uuid.uuid4()}@placeevents"


# What an event's calendar entry shows; a change to any of them is a new calendar version.
CALENDAR_FIELDS = (
    "title",
    "description",
    "format",
    "venue",
    "address",
    "join_url",
    "starts_at",
    "ends_at",
    "status",
)


class Event(db.Model):
    """One exploration in an enquiry, with its place, times and capacity."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(sa.ForeignKey("enquiry.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    format: Mapped[EventFormat] = mapped_column(str_enum(EventFormat))
    venue: Mapped[str] = mapped_column(sa.String(200), default="")
    address: Mapped[str] = mapped_column(sa.String(500), default="")
    join_url: Mapped[str] = mapped_column(sa.String(500), default="")
    hosts: Mapped[str] = mapped_column(sa.String(500), default="")
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    # In-person places; None means unlimited.
    capacity: Mapped[int | None]
    # In-person places held (yes or offered); written only by invitations.attendance.
    places_taken: Mapped[int] = mapped_column(default=0)
    # Online places (online and hybrid events); None means unlimited.
    online_capacity: Mapped[int | None]
    # Online places held (yes or offered, and the online place of someone waiting to come in
    # person); written only by invitations.attendance.
    online_places_taken: Mapped[int] = mapped_column(default=0)
    rsvp_deadline: Mapped[datetime | None]
    status: Mapped[EventStatus] = mapped_column(
        str_enum(EventStatus), default=EventStatus.DRAFT, index=True
    )
    access: Mapped[EventAccess] = mapped_column(
        str_enum(EventAccess), default=EventAccess.INVITATION
    )
    ask_access_needs: Mapped[bool] = mapped_column(default=True)
    ask_dietary_needs: Mapped[bool] = mapped_column(default=False)
    ask_question: Mapped[bool] = mapped_column(default=True)
    reminder_lead_hours: Mapped[int] = mapped_column(default=48)
    reminder_sent_at: Mapped[datetime | None]
    cancellation_message: Mapped[str] = mapped_column(sa.Text, default="")
    calendar_uid: Mapped[str] = mapped_column(sa.String(120), unique=True, default=new_calendar_uid)
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Moves only when something a calendar shows changes (see CALENDAR_FIELDS), never when a
    # place changes hands: calendar files' LAST-MODIFIED and the feed's validators read it.
    calendar_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # Set when organisers finish check-in: a yes without a check-in then means "did not come".
    check_in_closed_at: Mapped[datetime | None]

    enquiry: Mapped["Enquiry"] = relationship(back_populates="events")

    @property
    def is_public(self) -> bool:
        return self.status in (EventStatus.PUBLISHED, EventStatus.CANCELLED)

    @property
    def accepts_requests(self) -> bool:
        """Whether people may still ask for a place: open, published and not yet started."""
        return (
            self.access == EventAccess.OPEN
            and self.status == EventStatus.PUBLISHED
            and utcnow() < self.starts_at
        )

    @property
    def has_ended(self) -> bool:
        """Whether the event is over: nobody can join it, book it or add it to a calendar."""
        return self.ends_at <= utcnow()

    @property
    def has_place(self) -> bool:
        return self.format in (EventFormat.IN_PERSON, EventFormat.HYBRID)

    @property
    def is_online(self) -> bool:
        return self.format in (EventFormat.ONLINE, EventFormat.HYBRID)

    @property
    def places_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.places_taken, 0)

    @property
    def online_places_left(self) -> int | None:
        if self.online_capacity is None:
            return None
        return max(self.online_capacity - self.online_places_taken, 0)

    @property
    def room_full(self) -> bool:
        """Whether every in-person place is taken (never for an online event)."""
        return self.has_place and self.places_left == 0

    @property
    def online_full(self) -> bool:
        """Whether every online place is taken (never for a face-to-face event)."""
        return self.is_online and self.online_places_left == 0

    @property
    def places_left_words(self) -> str:
        """The places left per mode ("4 of 30 in person; joining online is not limited")."""
        in_person = (
            f"{self.places_left} of {self.capacity} in person"
            if self.capacity is not None
            else "in person is not limited"
        )
        online = (
            f"{self.online_places_left} of {self.online_capacity} online"
            if self.online_capacity is not None
            else "joining online is not limited"
        )
        if self.format == EventFormat.HYBRID:
            return f"{in_person}; {online}"
        return in_person if self.has_place else online

    @property
    def mode_help(self) -> str:
        """What a hybrid event's "in person or online" question says about places."""
        limited = [
            words
            for words, limit in (("In-person", self.capacity), ("Online", self.online_capacity))
            if limit is not None
        ]
        if not limited:
            return "Places are not limited either way."
        if len(limited) == 2:
            return "In-person and online places are both limited; each has its own waiting list."
        return f"{limited[0]} places are limited; the other way is always possible."

    @property
    def availability(self) -> str:
        """How a visitor can come, in words for the event's card ("" once it is over or off)."""
        if self.status != EventStatus.PUBLISHED or self.has_ended:
            return ""
        if self.access != EventAccess.OPEN:
            return "By invitation"
        if utcnow() >= self.starts_at:
            return ""
        if self.format == EventFormat.HYBRID:
            if self.room_full and self.online_full:
                return "Full: waiting lists"
            if self.room_full:
                return "Online places open; in person full"
            if self.online_full:
                return "In-person places open; online full"
        elif self.room_full or self.online_full:
            return "Full: waiting list"
        return "Open to registration"

    def __repr__(self) -> str:
        return f"<Event {self.slug}>"


@sa.event.listens_for(Event, "before_update")
def _calendar_version(mapper: Any, connection: Any, event: Event) -> None:
    # Whoever changes what a calendar shows moves the version; nothing else does.
    state = sa.inspect(event)
    if any(state.attrs[name].history.has_changes() for name in CALENDAR_FIELDS):
        event.calendar_changed_at = utcnow()
