"""The organiser's sending pages: only for events that can take them; write with a preview."""

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placeevents.clock import utcnow
from placeevents.events.models import EventStatus
from placeevents.extensions import db
from placeevents.invitations.models import EventMailing, Invitation
from placeevents.mail.models import OutboxMessage
from tests.conftest import count_queries
from tests.test_invitations.conftest import answer
from tests.test_invitations.test_rsvp import text


def _count(model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


CLOSED = {
    "cancelled": (
        {"status": EventStatus.CANCELLED, "cancelled_at": utcnow()},
        "This event has been cancelled, so nobody can be invited to it.",
        "This event has been cancelled; everyone with a place was told so",
    ),
    "draft": (
        {"status": EventStatus.DRAFT},
        "This event is a draft. Publish it before inviting people.",
        "This event is a draft, so nobody has been invited to it yet.",
    ),
    # Its people can be written to for a while after it (who came, who did not); not forever.
    "ended": (
        {"starts_at": utcnow().replace(microsecond=0) - timedelta(days=100)},
        "This event is over, so nobody can be invited to it.",
        "This event ended more than 30 days ago",
    ),
}


@pytest.mark.parametrize("state", list(CLOSED))
def test_no_invite_or_write_form_for_an_event_that_cannot_take_them(
    state: str, logged_in: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    kw, invite_reason, message_reason = CLOSED[state]
    event = make_event(**kw)
    make_invitation(event=event, email="guest@example.org")
    invite_url = f"/manage/invitations/events/{event.id}/invite"
    message_url = f"/manage/invitations/events/{event.id}/message"

    page = logged_in.get(invite_url)
    assert page.status_code == 200
    assert invite_reason in text(page) and 'name="subject"' not in text(page)
    page = logged_in.get(message_url)
    assert page.status_code == 200
    assert message_reason in text(page) and 'name="subject"' not in text(page)

    sent = logged_in.post(
        invite_url,
        data={
            "subscribers": "none",
            "pasted": "new@example.org",
            "subject": "S",
            "body": "B",
            "action": "send",
        },
    )
    assert sent.status_code == 409
    written = logged_in.post(
        message_url, data={"audience": "everyone", "subject": "S", "body": "B", "action": "send"}
    )
    assert written.status_code == 409
    assert _count(Invitation) == 1 and _count(EventMailing) == 0 and _count(OutboxMessage) == 0
    assert smtp.messages == []

    show = text(logged_in.get(f"/manage/events/{event.id}"))
    assert "Invitations and answers" in show
    assert invite_url not in show and message_url not in show


def test_an_upcoming_published_event_offers_both_and_shows_its_answer_counts(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    event = make_event(capacity=1)
    url = f"/manage/events/{event.id}"
    show = text(logged_in.get(url))
    assert f"/manage/invitations/events/{event.id}/invite" in show
    assert f"/manage/invitations/events/{event.id}/message" in show
    assert "Nobody has been invited yet." in show

    coming, waiting, unsure, away, _silent = (make_invitation(event=event) for _ in range(5))
    answer(logged_in, coming, "yes")
    answer(logged_in, waiting, "yes")
    answer(logged_in, unsure, "maybe")
    answer(logged_in, away, "no")
    with count_queries() as few:
        logged_in.get(url)
    for _ in range(10):
        make_invitation(event=event)
    with count_queries() as many:
        show = text(logged_in.get(url))
    assert len(many) == len(few)
    for label, value in (
        ("Invited", 15),
        ("Yes", 1),
        ("Waiting list", 1),
        ("Maybe", 1),
        ("No", 1),
        ("Not answered", 11),
    ):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in show, label


def test_writing_to_attendees_previews_the_count_tests_then_sends(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = make_event(capacity=5)
    first = make_invitation(event=event, email="ann@example.org", name="Ann")
    second = make_invitation(event=event, email="bob@example.org", name="Bob")
    make_invitation(event=event, email="cat@example.org")
    answer(logged_in, first, "yes")
    answer(logged_in, second, "yes")
    smtp.clear()
    outbox = _count(OutboxMessage)
    url = f"/manage/invitations/events/{event.id}/message"
    data = {"audience": "confirmed", "subject": "Room change", "body": "Now in room 2."}

    page = text(logged_in.get(url))
    assert "Send a test to me" in page and 'value="send"' not in page

    preview = logged_in.post(url, data={**data, "action": "preview"})
    html = text(preview)
    assert preview.status_code == 200
    assert "<dt>Will receive it</dt><dd>2 (everyone with a place)</dd>" in html
    assert "What Ann will get:" in html and "Now in room 2." in html
    assert 'value="send" class="button">Send to 2 people</button>' in html
    assert _count(EventMailing) == 0 and _count(OutboxMessage) == outbox

    tested = logged_in.post(url, data={**data, "action": "test"})
    assert tested.status_code == 200
    assert "A test has been sent to organiser@example.org." in text(tested)
    assert [m.rcpt_tos for m in smtp.messages] == [["organiser@example.org"]]
    test_mail = smtp.last_to("organiser@example.org")
    assert test_mail.subject == "[Test] Room change" and "This is a test." in test_mail.text()
    assert _count(EventMailing) == 0

    smtp.clear()
    sent = logged_in.post(url, data={**data, "action": "send"})
    assert sent.status_code == 302
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["ann@example.org", "bob@example.org"]
    mailing = db.session.scalars(select(EventMailing)).one()
    assert mailing.recipients == 2
