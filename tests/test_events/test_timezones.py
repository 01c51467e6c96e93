"""Times entered in the enquiry's zone, stored in UTC, shown with the zone's abbreviation,
across both daylight-saving changes in Europe/London (last Sundays of March and October)."""

from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.enquiries.timezones import format_range
from placeevents.events.models import Event, EventStatus
from placeevents.extensions import db
from tests.test_events.conftest import field_error

# In 2030 the clocks go forward on Sunday 31 March and back on Sunday 27 October.


def _only_event() -> Event:
    db.session.expire_all()
    return db.session.scalars(select(Event)).one()


def test_an_event_across_the_spring_change(
    logged_in: FlaskClient, make_enquiry: Any, event_form: Any
) -> None:
    enquiry = make_enquiry()
    data = event_form(starts_at="2030-03-31T00:30", ends_at="2030-03-31T03:00")
    assert logged_in.post(f"/manage/events/new?enquiry={enquiry.id}", data=data).status_code == 302
    event = _only_event()
    assert event.starts_at == datetime(2030, 3, 31, 0, 30, tzinfo=UTC)  # GMT
    assert event.ends_at == datetime(2030, 3, 31, 2, 0, tzinfo=UTC)  # BST
    page = logged_in.get(f"/manage/events/{event.id}").get_data(as_text=True)
    assert "Sun 31 March 2030, 00:30 GMT–03:00 BST" in page


def test_a_time_in_the_spring_gap_is_refused(
    logged_in: FlaskClient, make_enquiry: Any, event_form: Any
) -> None:
    enquiry = make_enquiry()
    for field, data in (
        ("starts_at", event_form(starts_at="2030-03-31T01:00", ends_at="2030-03-31T05:00")),
        ("ends_at", event_form(starts_at="2030-03-30T23:00", ends_at="2030-03-31T01:59")),
        ("rsvp_deadline", event_form(rsvp_deadline="2030-03-31T01:15")),
    ):
        response = logged_in.post(f"/manage/events/new?enquiry={enquiry.id}", data=data)
        assert response.status_code == 422
        message = field_error(response.get_data(as_text=True), field)
        assert message and "does not exist in Europe/London: the clocks go forward" in message
    assert db.session.scalars(select(Event)).all() == []


def test_a_time_that_happens_twice_in_autumn_takes_the_first_and_says_so(
    logged_in: FlaskClient, make_enquiry: Any, event_form: Any
) -> None:
    enquiry = make_enquiry()
    data = event_form(starts_at="2030-10-27T01:30", ends_at="2030-10-27T03:00")
    response = logged_in.post(
        f"/manage/events/new?enquiry={enquiry.id}", data=data, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert (
        "01:30 on 27 October 2030 happens twice in Europe/London; we took the first, "
        "01:30 BST (before the clocks go back)."
    ) in page
    event = _only_event()
    assert event.starts_at == datetime(2030, 10, 27, 0, 30, tzinfo=UTC)  # the first 01:30, BST
    assert event.ends_at == datetime(2030, 10, 27, 3, 0, tzinfo=UTC)  # GMT
    assert "Sun 27 October 2030, 01:30 BST–03:00 GMT" in page
    edit = logged_in.get(f"/manage/events/{event.id}/edit").get_data(as_text=True)
    assert 'value="2030-10-27T01:30"' in edit and 'value="2030-10-27T03:00"' in edit


def test_public_pages_show_each_event_in_its_own_season(
    client: FlaskClient, make_event: Any
) -> None:
    summer = make_event(
        slug="summer",
        starts_at=datetime(2030, 7, 2, 9, 0, tzinfo=UTC),
        ends_at=datetime(2030, 7, 2, 11, 0, tzinfo=UTC),
    )
    winter = make_event(
        enquiry=summer.enquiry,
        slug="winter",
        starts_at=datetime(2030, 12, 3, 9, 0, tzinfo=UTC),
        ends_at=datetime(2030, 12, 3, 11, 0, tzinfo=UTC),
    )
    assert "Tue 2 July 2030, 10:00–12:00 BST" in client.get("/events/summer").get_data(as_text=True)
    assert "Tue 3 December 2030, 09:00–11:00 GMT" in client.get("/events/winter").get_data(
        as_text=True
    )
    home = client.get("/").get_data(as_text=True)
    assert "10:00–12:00 BST" in home and "09:00–11:00 GMT" in home
    assert winter.status == EventStatus.PUBLISHED


def test_changing_the_enquiry_zone_keeps_each_event_at_its_moment(
    logged_in: FlaskClient, make_event: Any
) -> None:
    event = make_event(
        starts_at=datetime(2030, 7, 2, 9, 0, tzinfo=UTC),
        ends_at=datetime(2030, 7, 2, 11, 0, tzinfo=UTC),
    )
    enquiry = event.enquiry
    response = logged_in.post(
        f"/manage/enquiries/{enquiry.id}/edit",
        data={"title": enquiry.title, "timezone": "America/New_York", "introduction": "x"},
    )
    assert response.status_code == 302
    fresh = _only_event()
    assert fresh.starts_at == datetime(2030, 7, 2, 9, 0, tzinfo=UTC)
    assert format_range(fresh.starts_at, fresh.ends_at, "America/New_York") in (
        logged_in.get(f"/events/{fresh.slug}").get_data(as_text=True)
    )
    assert "05:00–07:00 EDT" in logged_in.get(f"/events/{fresh.slug}").get_data(as_text=True)
