"""The event form's online limit: where it applies, what it accepts, and raising it."""

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.events.models import Event, EventFormat
from placeevents.extensions import db
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer
from tests.test_events.conftest import field_error

JOIN = "https://meet.example.org/room"


def _event(event_id: int) -> Event:
    db.session.expire_all()
    return db.session.get(Event, event_id)  # type: ignore[return-value]


def test_a_hybrid_event_saves_both_limits(
    logged_in: FlaskClient, make_enquiry: Any, event_form: Any
) -> None:
    enquiry = make_enquiry()
    data = event_form(format="hybrid", capacity="20", online_capacity="50", join_url=JOIN)
    assert logged_in.post(f"/manage/events/new?enquiry={enquiry.id}", data=data).status_code == 302
    event = db.session.scalars(select(Event)).one()
    assert (event.capacity, event.online_capacity) == (20, 50)
    page = logged_in.get(f"/manage/events/{event.id}").get_data(as_text=True)
    assert "<dt>Online places</dt><dd>0 confirmed of 50</dd>" in page
    form = logged_in.get(f"/manage/events/{event.id}/edit").get_data(as_text=True)
    assert 'name="online_capacity"' in form and 'value="50"' in form
    assert 'data-shown-for-format="online hybrid"' in form


def test_bad_online_limits_are_refused_beside_the_field(
    logged_in: FlaskClient, make_enquiry: Any, event_form: Any
) -> None:
    enquiry = make_enquiry()
    url = f"/manage/events/new?enquiry={enquiry.id}"
    for value in ("-3", "0"):
        response = logged_in.post(
            url, data=event_form(format="online", online_capacity=value, join_url=JOIN)
        )
        assert response.status_code == 422
        assert field_error(response.get_data(as_text=True), "online_capacity") == (
            "Enter a number of places from 1 to 100000."
        )
    response = logged_in.post(url, data=event_form(format="in_person", online_capacity="10"))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "online_capacity") == (
        "A face-to-face event has no online places: leave the online limit empty."
    )
    assert db.session.scalars(select(Event)).all() == []


def test_the_online_limit_cannot_drop_below_online_places_taken_and_rising_promotes(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any, event_form: Any, smtp: Any
) -> None:
    event = make_event(format=EventFormat.ONLINE, venue="", address="", join_url=JOIN,
                       online_capacity=2)  # fmt: skip
    for _ in range(2):
        make_invitation(event, answer="yes")
    waiting = make_invitation(event, email="wait@example.org", answer="waitlisted")
    assert waiting.rsvp.answer == RsvpAnswer.WAITLISTED
    assert waiting.rsvp.mode == AttendanceMode.ONLINE
    data = event_form(format="online", online_capacity="1", join_url=JOIN)
    response = logged_in.post(f"/manage/events/{event.id}/edit", data=data)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "online_capacity") == (
        "2 online places are already confirmed: the online limit cannot be lower than that."
    )
    data = event_form(format="online", online_capacity="3", join_url=JOIN)
    assert logged_in.post(f"/manage/events/{event.id}/edit", data=data).status_code == 302
    assert (_event(event.id).online_capacity, _event(event.id).online_places_taken) == (3, 3)
    rsvp = db.session.scalar(
        select(Rsvp).join(Invitation).where(Invitation.email == "wait@example.org")
    )
    assert rsvp is not None and rsvp.answer == RsvpAnswer.YES
    assert smtp.last_to("wait@example.org").subject.startswith("A place has come up")
