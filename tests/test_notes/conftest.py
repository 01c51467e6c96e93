"""Factories for notes tests: notes, and invitations with answers to an event."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.invitations.models import (
    AttendanceMode,
    Invitation,
    InvitationSource,
    Rsvp,
    RsvpAnswer,
)
from placeevents.notes import services
from placeevents.notes.models import NoteKind, NoteVisibility


@pytest.fixture
def past_event(make_event: Callable[..., Any]) -> Any:
    """A published event that ended yesterday."""
    starts = utcnow().replace(microsecond=0) - timedelta(days=1, hours=3)
    return make_event(starts_at=starts, ends_at=starts + timedelta(hours=2))


@pytest.fixture
def make_note(app: Flask) -> Callable[..., Any]:
    counter = iter(range(1, 10_000))

    def factory(event: Any, **kw: Any) -> Any:
        n = next(counter)
        questions = kw.pop("questions", [])
        data = services.NoteInput(
            title=kw.pop("title", f"Note {n}"),
            body=kw.pop("body", f"What we heard in session {n}."),
            kind=kw.pop("kind", NoteKind.SUMMARY),
            author_name=kw.pop("author_name", "Nadia Author"),
            visibility=kw.pop("visibility", NoteVisibility.PUBLIC),
            attributed=kw.pop("attributed", True),
            resources=kw.pop("resources", ""),
            tags=kw.pop("tags", ""),
            question_ids=[q.id for q in questions],
        )
        assert not kw, kw
        note = services.create_note(event=event, data=data, editor=None)
        db.session.commit()
        return note

    return factory


@pytest.fixture
def make_invitation(app: Flask) -> Callable[..., Any]:
    counter = iter(range(1, 100_000))

    def factory(event: Any, answer: RsvpAnswer | None = RsvpAnswer.YES, **kw: Any) -> Any:
        n = next(counter)
        invitation = Invitation(
            event=event,
            email=kw.pop("email", f"guest{n}@example.org"),
            name=kw.pop("name", f"Guest {n}"),
            source=InvitationSource.ORGANISER,
        )
        if answer is not None:
            invitation.rsvp = Rsvp(
                answer=answer,
                mode=AttendanceMode.IN_PERSON if answer == RsvpAnswer.YES else None,
                wants_notes=kw.pop("wants_notes", False),
                attended=kw.pop("attended", False),
            )
        assert not kw, kw
        db.session.add(invitation)
        db.session.commit()
        return invitation

    return factory
