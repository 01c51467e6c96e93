"""Journey 1, a subscriber: sign up, confirm from the mail, set preferences, unsubscribe, and
find the way back, at 375 px by keyboard alone and at 1280 px by pointer.

(Journey 2, one-form registration for a place, lives in its own module beside this one and
calls `assert_page_ok` on each page it reaches.)"""

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from placeevents.demo import load_demo
from placeevents.extensions import db
from placeevents.newsletter.models import Subscriber, SubscriberStatus
from tests.test_journeys.checks import WIDTHS, Hands, assert_page_ok


def _status(app: Any, address: str) -> SubscriberStatus:
    with app.app_context():
        return db.session.scalar(select(Subscriber.status).where(Subscriber.email == address))


@pytest.mark.browser
@pytest.mark.parametrize(("width", "keyboard"), [("375", True), ("1280", False)])
def test_sign_up_confirm_choose_leave_and_come_back(
    live_server: Any, journey_page: Any, smtp: Any, width: str, keyboard: bool
) -> None:
    page, app = journey_page, live_server.app
    page.set_viewport_size(WIDTHS[width])
    hands = Hands(page, keyboard=keyboard)
    address = f"rosa{width}@example.org"
    with app.app_context():
        load_demo()
        db.session.commit()

    page.goto(live_server.url + "/")
    assert_page_ok(page, "home")
    form = page.locator("form", has=page.get_by_role("button", name="Sign up"))
    hands.fill(form.get_by_label("Name", exact=True), "Rosa Parks")
    hands.fill(form.get_by_label("Email", exact=True), address)
    hands.tick(form.get_by_label("Online events"))
    hands.press(form.get_by_role("button", name="Sign up"))
    page.get_by_role("heading", name="Check your inbox").wait_for()
    assert_page_ok(page, "check your inbox")

    # The mail, as a mail program shows it: its button leads to the confirmation page.
    confirmation = smtp.wait_for(address)
    page.set_content(confirmation.html())
    hands.press(page.get_by_role("link", name="Confirm my subscription"))
    page.get_by_role("heading", name="Confirm your subscription").wait_for()
    assert_page_ok(page, "confirm")
    assert _status(app, address) == SubscriberStatus.PENDING
    hands.press(page.get_by_role("button", name="Confirm my subscription"))
    page.get_by_role(
        "heading", name="Thank you for signing up to receive our newsletter"
    ).wait_for()
    assert_page_ok(page, "thank you")
    assert _status(app, address) == SubscriberStatus.CONFIRMED

    hands.press(page.get_by_role("link", name="change your preferences"))
    page.get_by_role("heading", name="Your preferences").wait_for()
    assert_page_ok(page, "preferences")
    hands.tick(page.get_by_label("News and updates"))
    hands.press(page.get_by_role("button", name="Save my preferences"))
    page.get_by_text("Your preferences are saved.").wait_for()
    assert_page_ok(page, "preferences saved")

    hands.press(page.get_by_role("button", name="Unsubscribe"))
    page.get_by_role("heading", name="You have unsubscribed").wait_for()
    assert_page_ok(page, "unsubscribed")
    assert _status(app, address) == SubscriberStatus.UNSUBSCRIBED
    # The way back: subscribe again, the preferences page, or the home page.
    expect(page.get_by_role("link", name="your preferences page")).to_be_visible()
    expect(page.get_by_role("link", name="Go to the enquiry's home page")).to_be_visible()
    hands.press(page.get_by_role("button", name="Subscribe again"))
    page.get_by_text("You are subscribed again. Thank you.").wait_for()
    assert_page_ok(page, "subscribed again")
    assert _status(app, address) == SubscriberStatus.CONFIRMED
