"""Factories for newsletter tests: newsletters, subscribers who chose news, past events, notes."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.mail.delivery import deliver_due
from placeevents.mail.models import OutboxMessage
from placeevents.news import services
from placeevents.news.jobs import run_sends
from placeevents.notes import services as notes
from placeevents.notes.models import NoteKind, NoteVisibility

# The mail tests' scripted SMTP server, for a reply lost mid-send.
from tests.test_mail.conftest import mail_app, scripted_smtp  # noqa: F401

BODY = "## News\n\nOur *second* exploration is in [Leeds](https://example.org/leeds)."


@pytest.fixture
def make_newsletter(app: Flask) -> Callable[..., Any]:
    def factory(**kw: Any) -> Any:
        newsletter = services.create_newsletter(
            data=services.NewsInput(
                subject=kw.pop("subject", "Spring news"),
                body=kw.pop("body", BODY),
                interests=tuple(kw.pop("interests", ("news",))),
                event_ids=tuple(kw.pop("event_ids", ())),
            ),
            organiser=kw.pop("organiser", None),
        )
        assert not kw, kw
        db.session.commit()
        return newsletter

    return factory


@pytest.fixture
def reader(make_subscriber: Callable[..., Any]) -> Callable[..., Any]:
    """A confirmed subscriber who chose news (and nothing else unless asked)."""

    def factory(**kw: Any) -> Any:
        kw.setdefault("wants_news", True)
        kw.setdefault("wants_in_person", False)
        kw.setdefault("wants_online", False)
        return make_subscriber(**kw)

    return factory


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
        note = notes.create_note(
            event=event,
            data=notes.NoteInput(
                title=kw.pop("title", f"Note {n}"),
                body=kw.pop("body", f"What we heard in session {n}."),
                kind=NoteKind.SUMMARY,
                visibility=kw.pop("visibility", NoteVisibility.PUBLIC),
                question_ids=[q.id for q in kw.pop("questions", [])],
            ),
            editor=None,
        )
        assert not kw, kw
        db.session.commit()
        return note

    return factory


def send_all(newsletter: Any) -> str:
    """Press send, run the send job as the worker would, and deliver what it queued."""
    services.send_now(newsletter=newsletter, organiser=None)
    db.session.commit()
    outcome = run_sends()
    deliver_due()
    return outcome


def outbox_count(kind: str = "news_news") -> int:
    return db.session.scalar(select(func.count()).where(OutboxMessage.kind == kind)) or 0
