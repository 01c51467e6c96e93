"""Factories for the exports tests: invitations with or without an answer."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from placeevents.extensions import db
from placeevents.invitations.models import (
    AttendanceMode,
    Invitation,
    InvitationSource,
    Rsvp,
    RsvpAnswer,
)


@pytest.fixture
def make_invitation(app: Flask) -> Callable[..., Invitation]:
    """An invitation to `event`; with `answer=` it gets an RSVP (other RSVP fields via kw)."""
    counter = iter(range(1, 100_000))

    def factory(event: Any, *, answer: RsvpAnswer | str | None = None, **kw: Any) -> Invitation:
        n = next(counter)
        invitation = Invitation(
            event=event,
            email=kw.pop("email", f"guest{n}@example.org"),
            name=kw.pop("name", f"Guest {n:03d}"),
            organisation=kw.pop("organisation", "Leeds City Council"),
            role=kw.pop("role", "Officer"),
            source=kw.pop("source", InvitationSource.SUBSCRIBER),
        )
        if answer is not None:
            answer = RsvpAnswer(answer)
            joined = datetime(2024, 5, 1, 9, n % 60, tzinfo=UTC)
            waiting = answer in (RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED)
            invitation.rsvp = Rsvp(
                answer=answer,
                mode=kw.pop("mode", AttendanceMode.IN_PERSON),
                answered_at=kw.pop("answered_at", datetime(2024, 5, 1, 9, 0, tzinfo=UTC)),
                waitlisted_at=kw.pop("waitlisted_at", joined if waiting else None),
                **kw,
            )
        db.session.add(invitation)
        db.session.commit()
        return invitation

    return factory
