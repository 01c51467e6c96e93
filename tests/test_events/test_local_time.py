"""An online event's time reads in the enquiry's zone, named; a visitor whose browser is in
another zone also sees their own time (added by the page's script; the page is complete
without it)."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from placeevents.events.models import EventFormat
from placeevents.extensions import db

START = datetime(2030, 5, 14, 9, 0, tzinfo=UTC)  # 10:00 in London (BST)
END = datetime(2030, 5, 14, 11, 30, tzinfo=UTC)


def _online(make_enquiry: Callable[..., Any], make_event: Callable[..., Any]) -> Any:
    enquiry = make_enquiry(slug="total-place", timezone="Europe/London")
    return make_event(
        enquiry=enquiry, slug="online-exploration", format=EventFormat.ONLINE, venue="",
        address="", join_url="https://meet.example.org/tp2", starts_at=START, ends_at=END,
    )


def test_an_online_event_names_its_zone_and_marks_its_times(
    client: FlaskClient, make_enquiry: Callable[..., Any], make_event: Callable[..., Any]
) -> None:
    _online(make_enquiry, make_event)
    html = client.get("/events/online-exploration").get_data(as_text=True)
    assert (
        '<time datetime="2030-05-14T09:00:00Z" data-ends="2030-05-14T11:30:00Z"'
        ' data-zone="Europe/London">Tue 14 May 2030, 10:00\u201312:30 BST</time> (London time)'
    ) in html


def test_an_in_person_event_names_its_zone_without_a_local_time(
    client: FlaskClient, make_event: Callable[..., Any]
) -> None:
    make_event(slug="in-the-room", starts_at=START, ends_at=END)
    html = client.get("/events/in-the-room").get_data(as_text=True)
    assert '<time datetime="2030-05-14T09:00:00Z">' in html
    assert "data-zone" not in html


@pytest.mark.browser
def test_a_visitor_in_another_zone_sees_their_own_time(
    live_server: Any, _browser: Any, make_enquiry: Callable[..., Any],
    make_event: Callable[..., Any],
) -> None:
    with live_server.app.app_context():
        _online(make_enquiry, make_event)
        db.session.commit()
    seen = {}
    for zone in ("America/New_York", "Europe/London", "Etc/UTC", "Europe/Lisbon"):
        context = _browser.new_context(locale="en-GB", timezone_id=zone)
        try:
            page = context.new_page()
            page.goto(live_server.url + "/events/online-exploration")
            page.wait_for_load_state("load")
            seen[zone] = page.locator("main").inner_text()
        finally:
            context.close()
    assert "10:00\u201312:30 BST (London time)" in seen["America/New_York"]
    assert "Your time: Tue 14 May, 05:00\u201307:30 (New York time)" in seen["America/New_York"]
    assert "Your time" not in seen["Europe/London"]
    # Lisbon keeps London's clock in May: nothing to add. UTC is an hour behind BST then.
    assert "Your time" not in seen["Europe/Lisbon"]
    assert "Your time: Tue 14 May, 09:00\u201311:30 (UTC)" in seen["Etc/UTC"]
