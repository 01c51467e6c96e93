"""The home page on a phone: the enquiry's question, what is next and the way to join the
mailing list are all on the first screen at 375 x 740."""

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from placeevents.clock import utcnow
from placeevents.events.models import EventAccess
from placeevents.extensions import db
from tests.test_journeys.checks import PHONE, assert_page_ok

QUESTION = (
    "Total Place 2.0: What would it take to shift place-based approaches from the margins "
    "to the mainstream?"
)


@pytest.mark.browser
def test_the_first_screen_on_a_phone_holds_the_question_the_next_events_and_the_signup(
    live_server: Any, journey_page: Any, make_enquiry: Any, make_event: Any
) -> None:
    enquiry = make_enquiry(
        slug="total-place-2", title=QUESTION, status="current",
        summary="A year of face-to-face and online explorations of place-based leadership.",
    )  # fmt: skip
    soon = utcnow().replace(microsecond=0) + timedelta(days=10)
    make_event(
        enquiry=enquiry,
        title="Breaking the cycle of bid and pilot",
        starts_at=soon,
        access=EventAccess.OPEN,
        capacity=30,
    )
    make_event(
        enquiry=enquiry,
        title="Whole-system working, nationally",
        starts_at=soon + timedelta(days=30),
    )
    db.session.commit()

    page = journey_page
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/")
    assert_page_ok(page, "home on a phone")
    first_screen = [
        page.get_by_role("heading", name=QUESTION, level=1),
        page.get_by_role("link", name="Breaking the cycle of bid and pilot").first,
        page.get_by_text("Open to registration").first,
        page.get_by_role("link", name="Get invitations by email"),
    ]
    for part in first_screen:
        box = part.bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE["height"], (part, box)

    page.get_by_role("link", name="Get invitations by email").click()
    heading = page.get_by_role("heading", name="Join our mailing list")
    box = heading.bounding_box()
    assert box is not None and 0 <= box["y"] < PHONE["height"]
    expect(page.get_by_label("Email", exact=True)).to_be_visible()
