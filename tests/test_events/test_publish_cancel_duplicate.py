"""Publishing, cancelling (with the mail to everyone invited) and duplicating events."""

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.events.models import Event, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.mail.bounces import record_bounce
from placeevents.mail.models import OutboxMessage
from tests.test_events.conftest import field_error


def _fresh(event: Event) -> Event:
    db.session.expire_all()
    return db.session.get(Event, event.id)


def test_publish_puts_a_draft_on_the_public_pages(logged_in: FlaskClient, make_event: Any) -> None:
    draft = make_event(status=EventStatus.DRAFT, title="Who holds the whole system?")
    assert "Who holds the whole system?" not in logged_in.get("/").get_data(as_text=True)
    response = logged_in.post(f"/manage/events/{draft.id}/publish", follow_redirects=True)
    assert "The event is published" in response.get_data(as_text=True)
    event = _fresh(draft)
    assert event.status == EventStatus.PUBLISHED and event.published_at is not None
    assert "Who holds the whole system?" in logged_in.get("/").get_data(as_text=True)
    assert logged_in.get(f"/events/{event.slug}").status_code == 200


def test_a_face_to_face_draft_needs_a_venue_to_be_published(
    logged_in: FlaskClient, make_event: Any
) -> None:
    draft = make_event(status=EventStatus.DRAFT, venue="", format=EventFormat.HYBRID)
    response = logged_in.post(f"/manage/events/{draft.id}/publish", follow_redirects=True)
    assert "Add the venue before publishing" in response.get_data(as_text=True)
    assert _fresh(draft).status == EventStatus.DRAFT


def test_publishing_twice_is_refused(logged_in: FlaskClient, make_event: Any) -> None:
    event = make_event()
    response = logged_in.post(f"/manage/events/{event.id}/publish", follow_redirects=True)
    assert "Only a draft event can be published." in response.get_data(as_text=True)


def test_cancel_mails_everyone_invited_whatever_they_answered(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = make_event(title="Learning that travels", capacity=2)
    other = make_event(title="Another day")
    make_invitation(event, email="yes@example.org", name="Yasmin Yes", answer="yes")
    make_invitation(event, email="no@example.org", name="Nadia No", answer="no")
    make_invitation(event, email="silent@example.org")
    make_invitation(event, email="bounced@example.org", answer="yes")
    make_invitation(event, email="waiting@example.org", answer="waitlisted")
    make_invitation(other, email="elsewhere@example.org", answer="yes")
    record_bounce(email="bounced@example.org", reason="550 no such user")
    db.session.commit()

    form = logged_in.get(f"/manage/events/{event.id}/cancel").get_data(as_text=True)
    assert "the 5 people invited or registered" in form

    response = logged_in.post(
        f"/manage/events/{event.id}/cancel",
        data={"message": "Our speaker is unwell.\n\nWe will set a new date soon."},
    )
    assert response.status_code == 302
    cancelled = _fresh(event)
    assert cancelled.status == EventStatus.CANCELLED and cancelled.cancelled_at is not None
    assert cancelled.cancellation_message.startswith("Our speaker is unwell.")
    assert cancelled.sequence == 1

    delivered = {r for m in smtp.messages for r in m.rcpt_tos}
    assert delivered == {
        "yes@example.org",
        "no@example.org",
        "silent@example.org",
        "waiting@example.org",
    }
    mail = smtp.last_to("no@example.org")
    assert mail.subject == "Cancelled: Learning that travels"
    assert "Dear Nadia No," in mail.text()
    assert "Our speaker is unwell." in mail.text() and "We will set a new date soon." in mail.text()
    assert f"http://localhost/events/{event.slug}" in mail.links()
    assert "<p>Our speaker is unwell.</p>" in mail.html()
    assert mail.message["To"].addresses[0].display_name == "Nadia No"
    assert not any(p.get_content_type() == "text/calendar" for p in mail.message.walk())
    # A confirmed attendee gets the same message with a calendar cancellation in it.
    confirmed = smtp.last_to("yes@example.org")
    assert confirmed.subject.startswith("Cancelled: Learning that travels")
    assert "Our speaker is unwell." in confirmed.text()
    [calendar] = [p for p in confirmed.message.walk() if p.get_content_type() == "text/calendar"]
    assert calendar.get_param("method") == "CANCEL"
    assert confirmed.message["To"].addresses[0].display_name == "Yasmin Yes"
    # Every cancellation mail is in one batch (waiting@ was mailed on joining the waiting list).
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind != "rsvp")).all()
    assert {r.batch_key for r in rows} == {f"event-cancelled-{event.id}"}

    page = logged_in.get(f"/manage/events/{event.id}").get_data(as_text=True)
    assert "Mail: 4 of 4 sent" in page
    public = logged_in.get(f"/events/{event.slug}").get_data(as_text=True)
    assert "This event has been cancelled." in public and "Our speaker is unwell." in public


def test_cancel_asks_for_a_message(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = make_event()
    make_invitation(event, email="yes@example.org", answer="yes")
    response = logged_in.post(f"/manage/events/{event.id}/cancel", data={"message": "   "})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "message") == (
        "Write a message to the people affected."
    )
    assert _fresh(event).status == EventStatus.PUBLISHED
    assert smtp.messages == [] and db.session.scalars(select(OutboxMessage)).all() == []


def test_only_a_published_event_can_be_cancelled(logged_in: FlaskClient, make_event: Any) -> None:
    draft = make_event(status=EventStatus.DRAFT)
    response = logged_in.post(f"/manage/events/{draft.id}/cancel", data={"message": "No."})
    assert response.status_code == 422
    assert "Only a published event can be cancelled" in response.get_data(as_text=True)
    assert _fresh(draft).status == EventStatus.DRAFT


def test_duplicate_makes_a_new_draft_with_a_new_calendar_identity(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    event = make_event(
        title="Learning that travels",
        slug="learning-that-travels",
        format=EventFormat.HYBRID,
        join_url="https://meet.example.org/room",
        hosts="Jo Bloggs",
        description="**Bring** a question.",
        capacity=40,
        sequence=3,
        ask_dietary_needs=True,
    )
    for _ in range(12):
        make_invitation(event, answer="yes")
    assert event.places_taken == 12
    response = logged_in.post(f"/manage/events/{event.id}/duplicate")
    assert response.status_code == 302
    copy = db.session.scalars(select(Event).where(Event.id != event.id)).one()
    assert response.headers["Location"] == f"/manage/events/{copy.id}/edit"
    assert copy.status == EventStatus.DRAFT
    assert copy.calendar_uid != event.calendar_uid and copy.sequence == 0
    assert copy.title == "Copy of Learning that travels"
    assert copy.slug == "copy-of-learning-that-travels"
    assert copy.places_taken == 0 and copy.published_at is None
    for name in ("description", "format", "venue", "address", "join_url", "hosts",
                 "starts_at", "ends_at", "capacity", "access", "enquiry_id",
                 "ask_access_needs", "ask_dietary_needs", "ask_question"):  # fmt: skip
        assert getattr(copy, name) == getattr(event, name), name


def test_a_cancelled_event_can_be_duplicated_to_run_again(
    logged_in: FlaskClient, make_event: Any
) -> None:
    event = make_event(status=EventStatus.CANCELLED, cancellation_message="Snow.")
    logged_in.post(f"/manage/events/{event.id}/duplicate")
    copy = db.session.scalars(select(Event).where(Event.id != event.id)).one()
    assert copy.status == EventStatus.DRAFT and copy.cancellation_message == ""


def test_a_name_with_a_line_break_is_mailed_safely(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = make_event()
    make_invitation(event, email="odd@example.org", name="Odd\nName", answer="no")
    response = logged_in.post(f"/manage/events/{event.id}/cancel", data={"message": "Sorry."})
    assert response.status_code == 302
    mail = smtp.last_to("odd@example.org")
    assert "Dear Odd Name," in mail.text()
    assert mail.message["To"].addresses[0].display_name == "Odd Name"


def test_a_drafts_address_follows_its_title_until_it_is_published(
    logged_in: FlaskClient, make_event: Any, event_form: Any
) -> None:
    event = make_event(title="Learning that travels", slug="learning-that-travels")
    logged_in.post(f"/manage/events/{event.id}/duplicate")
    copy = db.session.scalars(select(Event).where(Event.id != event.id)).one()
    edit = f"/manage/events/{copy.id}/edit"

    logged_in.post(edit, data=event_form(title="Learning that travels: Bristol"))
    assert _fresh(copy).slug == "learning-that-travels-bristol"
    # Back to the original's title: its address is taken, so the copy's is numbered.
    logged_in.post(edit, data=event_form(title="Learning that travels"))
    assert _fresh(copy).slug == "learning-that-travels-2"
    logged_in.post(edit, data=event_form(title="Learning that travels", hosts="Someone else"))
    assert _fresh(copy).slug == "learning-that-travels-2"

    assert logged_in.post(f"/manage/events/{copy.id}/publish").status_code == 302
    logged_in.post(edit, data=event_form(title="A new name after publishing"))
    assert _fresh(copy).title == "A new name after publishing"
    assert _fresh(copy).slug == "learning-that-travels-2"


def test_publishing_an_online_event_without_a_join_link_warns(
    logged_in: FlaskClient, make_event: Any
) -> None:
    draft = make_event(status=EventStatus.DRAFT, format=EventFormat.ONLINE, join_url="")
    warning = "There is no join link yet."
    assert warning in logged_in.get(f"/manage/events/{draft.id}").get_data(as_text=True)
    response = logged_in.post(f"/manage/events/{draft.id}/publish", follow_redirects=True)
    assert _fresh(draft).status == EventStatus.PUBLISHED
    assert "The event is published" in response.get_data(as_text=True)
    assert response.get_data(as_text=True).count(warning) == 1

    with_link = make_event(
        status=EventStatus.DRAFT, format=EventFormat.HYBRID, join_url="https://meet.example.org/x"
    )
    response = logged_in.post(f"/manage/events/{with_link.id}/publish", follow_redirects=True)
    assert warning not in response.get_data(as_text=True)
