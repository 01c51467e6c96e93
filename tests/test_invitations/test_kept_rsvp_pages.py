"""An invitee's RSVP page kept by the process that built it: given again while nothing it shows
has changed (the public and personal versions read the same, for a few seconds at most), and
built afresh after any change, whichever process committed it."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from placeevents.caching import KEPT_SECONDS, PERSONAL_TABLES, PUBLIC_TABLES, PublicVersion
from placeevents.events.models import EventFormat
from placeevents.extensions import db
from placeevents.invitations.models import RsvpAnswer
from placeevents.newsletter.models import SubscriberStatus
from placeevents.notes.models import Note, NoteKind, NoteShare, NoteVisibility
from tests.conftest import beyond_the_versions, count_queries
from tests.test_invitations.conftest import answer, rsvp_path


def _versions() -> tuple[int, int]:
    db.session.expire_all()
    row = db.session.execute(select(PublicVersion.version, PublicVersion.personal)).one()
    db.session.rollback()  # no transaction left open for the other app's writes
    return row.version, row.personal


def _page(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _statements_of(client: Any, path: str) -> list[str]:
    with count_queries() as statements:
        _page(client, path)
    return beyond_the_versions(statements)


def test_a_kept_rsvp_page_answers_as_the_built_one_did(
    app: Flask, make_invitation: Any, make_event: Any
) -> None:
    invitation = make_invitation(email="amara@example.org")
    make_invitation(event=make_event(enquiry=invitation.event.enquiry), email="amara@example.org")
    path = rsvp_path(invitation)
    db.session.commit()
    client = app.test_client()
    built = client.get(path)
    assert built.status_code == 200
    assert _statements_of(client, path) == []  # the versions at most, nothing else
    kept = client.get(path)
    assert kept.data == built.data
    # Given before the framework runs, it passed no rate limit: it carries no count of one.
    limits = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")
    assert all(name in built.headers for name in limits)
    assert not any(name in kept.headers for name in limits)
    assert {k: v for k, v in kept.headers if k != "Date"} == {
        k: v for k, v in built.headers if k != "Date" and k not in limits
    }
    assert kept.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in kept.headers
    head = client.head(path)
    assert head.status_code == 200 and head.data == b""


def _answer_yes(invitation: Any, other: Any, path: str, **_: Any) -> str:
    assert other.post(path, data={"answer": "yes"}).status_code == 302
    return "You're coming in person."


def _invite_to_another_event(
    invitation: Any, make_invitation: Any, make_event: Any, **_: Any
) -> str:
    make_invitation(
        event=make_event(enquiry=invitation.event.enquiry, title="Sharing the learning"),
        email=invitation.email,
    )
    return "Sharing the learning"


def _join_the_mailing_list(invitation: Any, make_subscriber: Any, **_: Any) -> str:
    make_subscriber(email=invitation.email, status=SubscriberStatus.CONFIRMED)
    return "Invite me to every exploration in this enquiry"


def _retitle_the_event(invitation: Any, **_: Any) -> str:
    invitation.event.title = "Shifting responsibility"
    db.session.commit()
    return "Shifting responsibility"


@pytest.mark.parametrize(
    "change",
    [
        _answer_yes,
        _invite_to_another_event,
        _join_the_mailing_list,
        _retitle_the_event,
    ],
)
def test_a_change_committed_elsewhere_shows_on_the_next_view(
    app: Flask,
    make_app: Callable[..., Flask],
    make_enquiry: Any,
    make_event: Any,
    make_invitation: Any,
    make_subscriber: Any,
    change: Callable[..., str],
) -> None:
    enquiry = make_enquiry(status="current")
    invitation = make_invitation(event=make_event(enquiry=enquiry), email="amara@example.org")
    path = rsvp_path(invitation)
    db.session.commit()
    reader = make_app().test_client()  # another worker process, over the same database
    before = _page(reader, path)
    assert _statements_of(reader, path) == []  # kept
    versions = _versions()

    writer = make_app().test_client()  # and a third one, where the change is made
    shown = change(
        invitation,
        other=writer,
        path=path,
        make_invitation=make_invitation,
        make_event=make_event,
        make_subscriber=make_subscriber,
    )

    assert _versions() != versions
    after = _page(reader, path)
    assert shown in after and shown not in before


def test_a_note_shared_with_the_person_shows_on_the_next_view(
    app: Flask, make_app: Callable[..., Flask], make_event: Any, make_invitation: Any
) -> None:
    starts = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1, hours=3)
    event = make_event(starts_at=starts, ends_at=starts + timedelta(hours=2))
    invitation = make_invitation(event, answer=RsvpAnswer.MAYBE, email="amara@example.org")
    path = rsvp_path(invitation)
    db.session.commit()
    reader = make_app().test_client()
    before = _page(reader, path)
    assert _page(reader, path) == before  # kept
    note = Note(
        event_id=event.id,
        title="What we heard",
        body="Notes of the session.",
        kind=NoteKind.SUMMARY,
        author_name="Nadia Author",
        visibility=NoteVisibility.ATTENDEES,
    )
    db.session.add(note)
    db.session.flush()
    db.session.add(NoteShare(note_id=note.id, revision=1, email="amara@example.org"))
    db.session.commit()
    assert "What we heard" in _page(reader, path)
    assert "What we heard" not in before


def test_an_erased_invitation_is_not_shown_from_what_was_kept(
    app: Flask, make_invitation: Any
) -> None:
    from placeevents.erasure import erase_person

    invitation = make_invitation(email="amara@example.org")
    path = rsvp_path(invitation)
    db.session.commit()
    client = app.test_client()
    _page(client, path)
    erase_person(email="amara@example.org")
    db.session.commit()
    assert client.get(path).status_code == 404


def test_a_write_nothing_shows_leaves_both_versions(
    app: Flask, make_invitation: Any, smtp: Any
) -> None:
    from placeevents.mail.outbox import build_message, enqueue

    make_invitation()
    db.session.commit()
    versions = _versions()
    enqueue(build_message(to="someone@example.org", subject="Hello", text="Hello."))
    db.session.commit()
    assert _versions() == versions


def test_a_visitor_with_a_session_neither_gets_nor_leaves_a_kept_page(
    app: Flask, make_invitation: Any, smtp: Any
) -> None:
    invitation = make_invitation(email="amara@example.org")
    path = rsvp_path(invitation)
    db.session.commit()
    person = app.test_client()
    assert answer(person, invitation, "maybe").status_code == 302
    # The answer's message waits in the person's session: their page says it, built for them.
    thanked = _page(person, path)
    assert "You said maybe." in thanked
    assert "Thank you: we have noted your maybe." in thanked
    scanner = app.test_client()  # no cookie: what everyone holding the link sees
    plain = _page(scanner, path)
    assert "You said maybe." in plain
    assert "Thank you: we have noted your maybe." not in plain
    assert _page(scanner, path) == plain


def test_the_clock_alone_rebuilds_a_kept_page_after_a_few_seconds(
    app: Flask, make_event: Any, make_invitation: Any
) -> None:
    deadline = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    event = make_event(rsvp_deadline=deadline)
    invitation = make_invitation(event=event)
    path = rsvp_path(invitation)
    db.session.commit()
    client = app.test_client()
    with time_machine.travel(deadline - timedelta(seconds=2), tick=False):
        before = _page(client, path)
        assert "Will you come?" in before
    with time_machine.travel(deadline + timedelta(seconds=KEPT_SECONDS - 3), tick=False):
        assert _page(client, path) == before
    with time_machine.travel(deadline + timedelta(seconds=KEPT_SECONDS), tick=False):
        after = _page(client, path)
    assert "Will you come?" not in after


_TABLE_NAMES = re.compile(r"\b(?:FROM|JOIN)\s+\"?(\w+)", re.I)


def test_every_table_an_rsvp_page_reads_moves_a_version_when_written(
    app: Flask,
    make_enquiry: Any,
    make_event: Any,
    make_invitation: Any,
    make_subscriber: Any,
    smtp: Any,
) -> None:
    """What the page shows in each of its states comes from tables whose writes move the
    public or the personal version: nothing it shows can change without them."""
    enquiry = make_enquiry(status="current")
    full = make_event(enquiry=enquiry, capacity=1, format=EventFormat.HYBRID, online_capacity=1)
    make_invitation(full, answer="yes", mode="in_person")
    make_invitation(full, answer="yes", mode="online")
    people = [
        make_invitation(make_event(enquiry=enquiry), email="amara@example.org"),
        make_invitation(
            full, answer=RsvpAnswer.WAITLISTED, email="amara@example.org", mode="in_person"
        ),
        make_invitation(make_event(enquiry=enquiry), answer="no", email="kofi@example.org"),
    ]
    make_subscriber(email="amara@example.org")
    db.session.commit()
    read: set[str] = set()
    with count_queries() as statements:
        for invitation in people:
            _page(app.test_client(), rsvp_path(invitation))
    for statement in statements:
        if statement.lstrip().upper().startswith("SELECT"):
            read.update(name.lower() for name in _TABLE_NAMES.findall(statement))
    # The outbox's delivery of mail queued before (the waiting list's), after the request.
    read -= {"outbox_message", "mail_request", "bounce"}
    read.discard("public_version")
    assert {"invitation", "event", "rsvp", "subscriber"} <= read
    assert read <= PUBLIC_TABLES | PERSONAL_TABLES, read - (PUBLIC_TABLES | PERSONAL_TABLES)
