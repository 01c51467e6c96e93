"""A change of time or place reaches everyone it concerns, each in the way that fits them."""

from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient

from placeevents.events.models import EventStatus
from placeevents.extensions import db
from placeevents.mail.bounces import record_bounce


def test_moving_an_event_tells_the_confirmed_by_calendar_and_everyone_else_by_notice(
    logged_in: FlaskClient,
    make_event: Any,
    make_invitation: Any,
    event_form: Any,
    smtp: Any,
) -> None:
    event = make_event(
        status=EventStatus.PUBLISHED,
        starts_at=datetime(2030, 5, 14, 9, 0, tzinfo=UTC),
        ends_at=datetime(2030, 5, 14, 11, 30, tzinfo=UTC),
        capacity=1,
    )
    make_invitation(event, email="coming@example.org", answer="yes")
    make_invitation(event, email="waiting@example.org", answer="waitlisted")
    make_invitation(event, email="unsure@example.org", answer="maybe")
    make_invitation(event, email="quiet@example.org")
    make_invitation(event, email="gone@example.org")
    make_invitation(event, email="declined@example.org", answer="no")
    record_bounce(email="gone@example.org", reason="550 no such user")
    db.session.commit()
    smtp.clear()

    response = logged_in.post(
        f"/manage/events/{event.id}/edit",
        data=event_form(starts_at="2030-05-14T14:00", ends_at="2030-05-14T16:30", capacity="1"),
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "1 updated calendar invitation is on its way" in page
    assert "3 people on the waiting list, undecided or yet to answer will be told" in page

    update = smtp.last_to("coming@example.org")
    assert update.message.get_content_type() == "multipart/alternative"
    assert "text/calendar" in update.raw.decode()
    for email in ("waiting@example.org", "unsure@example.org", "quiet@example.org"):
        notice = smtp.last_to(email)
        assert notice.subject.startswith("Changed: ")
        assert "text/calendar" not in notice.raw.decode()
        assert "The time changed from Tue 14 May 2030, 10:00–12:30 BST" in notice.text()
        assert "When:  Tue 14 May 2030, 14:00–16:30 BST" in notice.text()
        assert any("/rsvp/" in link for link in notice.links())
        assert notice.message["Precedence"] == "bulk"
    assert "waiting list, and stay on it" in smtp.last_to("waiting@example.org").text()
    assert "not answered the invitation yet" in smtp.last_to("quiet@example.org").text()
    assert smtp.to("declined@example.org") == [] and smtp.to("gone@example.org") == []
