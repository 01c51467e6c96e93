"""Journey 2, a guest at an open event: register in one form on the event's page and be told
at once "You're coming", with the confirmation mail and its calendar invitation following; a
second guest, once the room is full, is told they are on the waiting list and their number.
At 375 px by keyboard alone, at 1280 px by pointer."""

from typing import Any

import icalendar
import pytest
from playwright.sync_api import expect

from placeevents.events.models import EventAccess, EventFormat
from placeevents.extensions import db
from tests.test_journeys.checks import WIDTHS, Hands, assert_page_ok


def _calendar_part(mail: Any) -> icalendar.Calendar:
    for part in mail.message.walk():
        if part.get_content_type() == "text/calendar":
            return icalendar.Calendar.from_ical(part.get_payload(decode=True))
    raise AssertionError("the confirmation carries no calendar invitation")


def _register(page: Any, hands: Any, url: str, slug: str, name: str, email: str) -> Any:
    page.goto(f"{url}/events/{slug}")
    form = page.get_by_role("region", name="Request a place")
    hands.fill(form.get_by_label("Your name"), name)
    hands.fill(form.get_by_label("Your email address"), email)
    return form


@pytest.mark.browser
@pytest.mark.parametrize(("width", "keyboard"), [("375", True), ("1280", False)])
def test_register_in_one_form_then_the_next_guest_waits(
    live_server: Any,
    app: Any,
    journey_page: Any,
    smtp: Any,
    make_event: Any,
    width: str,
    keyboard: bool,
) -> None:
    page = journey_page
    page.set_viewport_size(WIDTHS[width])
    hands = Hands(page, keyboard=keyboard)
    event = make_event(
        title="Breaking the cycle of bid and pilot", access=EventAccess.OPEN, capacity=1,
        format=EventFormat.IN_PERSON, venue="The Corn Exchange", address="Call Lane, Leeds",
    )  # fmt: skip
    slug, uid = event.slug, event.calendar_uid
    db.session.commit()

    # The first guest: the event's page, the form, and the answer on the page.
    form = _register(page, hands, live_server.url, slug, "Ada Lovelace", "ada@example.org")
    assert_page_ok(page, "event page, open to registration")
    hands.press(form.get_by_role("button", name="Request a place"))
    page.get_by_role("heading", name="You're coming", level=1).wait_for()
    expect(page.get_by_text("We've emailed the confirmation to ada@example.org")).to_be_visible()
    expect(page.get_by_text("The Corn Exchange, Call Lane, Leeds").first).to_be_visible()
    assert_page_ok(page, "registered: you're coming")

    # The confirmation follows by mail, with the calendar invitation of this event.
    mail = smtp.wait_for("ada@example.org")
    assert mail.subject.endswith("Breaking the cycle of bid and pilot")
    calendar = _calendar_part(mail)
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["UID"]) == uid
    assert "/rsvp/" in mail.text()

    # The form's own page, as a mistake leaves it: the error beside its field.
    page.goto(f"{live_server.url}/events/{slug}/request-place")
    page.get_by_role("heading", name="Request a place", level=1).wait_for()
    assert_page_ok(page, "request-a-place page")
    hands.fill(page.get_by_label("Your name"), "Cy Typo")
    hands.fill(page.get_by_label("Your email address"), "cy@example")
    hands.press(page.get_by_role("button", name="Join the waiting list"))
    page.get_by_text("Enter a valid email address.").wait_for()
    assert_page_ok(page, "request-a-place page with an error")

    # The room is now full: the form says so before it is sent, and its button says what
    # it will do.
    form = _register(page, hands, live_server.url, slug, "Ben Next", "ben@example.org")
    expect(form.get_by_text("In-person places are full")).to_be_visible()
    assert_page_ok(page, "event page, full")
    hands.press(form.get_by_role("button", name="Join the waiting list"))
    page.get_by_role("heading", name="You're on the waiting list", level=1).wait_for()
    expect(page.get_by_text("You're number 1.")).to_be_visible()
    assert_page_ok(page, "registered: waiting list")
    assert "waiting list" in smtp.wait_for("ben@example.org").text().lower()
