"""Session notes on events, their revisions, tags and the log of who they were shared with."""

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placeevents.clock import utcnow
from placeevents.db import str_enum
from placeevents.extensions import db

if TYPE_CHECKING:
    from placeevents.auth.models import Organiser
    from placeevents.enquiries.models import EnquiryQuestion
    from placeevents.events.models import Event


class NoteKind(enum.StrEnum):
    SUMMARY = "summary"
    FACILITATOR = "facilitator"
    INSIGHTS = "insights"
    ACTIONS = "actions"
    RESOURCES = "resources"

    @property
    def label(self) -> str:
        return {
            "summary": "Session summary",
            "facilitator": "Facilitator notes",
            "insights": "Key insights",
            "actions": "Actions",
            "resources": "Resources",
        }[self.value]


class NoteVisibility(enum.StrEnum):
    PRIVATE = "private"
    ATTENDEES = "attendees"
    PUBLIC = "public"

    @property
    def label(self) -> str:
        return {
            "private": "Private to organisers",
            "attendees": "Shared with attendees",
            "public": "Public",
        }[self.value]


@dataclass(frozen=True)
class Resource:
    """A resource link of a note: slides, a paper, a recording."""

    title: str
    url: str


def is_web_address(url: str) -> bool:
    """Whether this is an absolute http(s) address with nothing that could break out of it."""
    if not url or any(ch.isspace() or ord(ch) < 32 or ch in "<>\"'`" for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def split_resource_line(line: str) -> Resource:
    """"Title | https://…" or a bare address, as written (not yet checked)."""
    title, bar, url = line.rpartition("|")
    if not bar:
        return Resource(title="", url=line.strip())
    return Resource(title=title.strip(), url=url.strip())


note_question = sa.Table(
    "note_question",
    db.metadata,
    sa.Column("note_id", sa.ForeignKey("note.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "question_id",
        sa.ForeignKey("enquiry_question.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Note(db.Model):
    """A note attached to an event, at its current revision."""

    __tablename__ = "note"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    kind: Mapped[NoteKind] = mapped_column(str_enum(NoteKind), default=NoteKind.SUMMARY)
    author_name: Mapped[str] = mapped_column(sa.String(200), default="")
    visibility: Mapped[NoteVisibility] = mapped_column(
        str_enum(NoteVisibility), default=NoteVisibility.PRIVATE, index=True
    )
    attributed: Mapped[bool] = mapped_column(default=True)
    # One resource per line: "Title | https://…" or a bare address.
    resources: Mapped[str] = mapped_column(sa.Text, default="")
    # Free tags, comma separated.
    tags: Mapped[str] = mapped_column(sa.String(500), default="")
    revision: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    event: Mapped["Event"] = relationship()
    questions: Mapped[list["EnquiryQuestion"]] = relationship(
        secondary=note_question, order_by="EnquiryQuestion.position"
    )
    created_by: Mapped["Organiser | None"] = relationship()
    revisions: Mapped[list["NoteRevision"]] = relationship(
        back_populates="note", order_by="NoteRevision.number", cascade="all, delete-orphan"
    )

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.split(",") if t.strip()]

    @property
    def resource_list(self) -> list[Resource]:
        # Only safe web addresses are ever shown, whatever the stored text holds.
        found = (split_resource_line(line) for line in self.resources.splitlines() if line.strip())
        return [r for r in found if is_web_address(r.url)]

    @property
    def is_shared(self) -> bool:
        return self.visibility != NoteVisibility.PRIVATE

    @property
    def public_author(self) -> str:
        """The author's name where the note is read outside the organiser pages."""
        return self.author_name if self.attributed else ""


class NoteRevision(db.Model):
    """A saved state of a note: who changed what, and when."""

    __tablename__ = "note_revision"
    __table_args__ = (sa.UniqueConstraint("note_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(sa.ForeignKey("note.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    kind: Mapped[NoteKind] = mapped_column(str_enum(NoteKind))
    visibility: Mapped[NoteVisibility] = mapped_column(str_enum(NoteVisibility))
    attributed: Mapped[bool] = mapped_column(default=True)
    author_name: Mapped[str] = mapped_column(sa.String(200), default="")
    resources: Mapped[str] = mapped_column(sa.Text, default="")
    tags: Mapped[str] = mapped_column(sa.String(500), default="")
    edited_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL"), index=True
    )
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Comma-separated question ids; None on rows saved before questions were recorded.
    question_ids: Mapped[str | None] = mapped_column(sa.String(200))
    # The earlier revision this one brought back, when it was a restore.
    restored_from: Mapped[int | None]

    note: Mapped[Note] = relationship(back_populates="revisions")
    edited_by: Mapped["Organiser | None"] = relationship()


class NoteShare(db.Model):
    """A note revision sent to one address, so each revision goes to each person once."""

    __tablename__ = "note_share"
    __table_args__ = (sa.UniqueConstraint("note_id", "revision", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(sa.ForeignKey("note.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int]
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    shared_at: Mapped[datetime] = mapped_column(default=utcnow)
