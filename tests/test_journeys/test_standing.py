"""A subscriber asks, from the welcome mail, to be invited to every exploration of the enquiry,
then asks for nothing more on their RSVP page: each page passes the journey checks."""

from typing import Any

import pytest
from sqlalchemy import select

from placeevents.demo import load_demo
from placeevents.extensions import db
from placeevents.newsletter.models import StandingInvitation, Subscriber
from tests.test_journeys.checks import WIDTHS, Hands, assert_page_ok


def _standing(app: Any, address: str) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(StandingInvitation.enquiry_id)
                .join(Subscriber, StandingInvitation.subscriber_id == Subscriber.id)
                .where(Subscriber.email == address)
            )
        )


@pytest.mark.browser
def test_asking_for_every_exploration_from_the_welcome_mail(
    live_server: Any, journey_page: Any, smtp: Any
) -> None:
    page, app = journey_page, live_server.app
    page.set_viewport_size(WIDTHS["1280"])
    hands = Hands(page, keyboard=False)
    address = "rosa@example.org"
    with app.app_context():
        enquiry = load_demo()
        db.session.commit()
        title = enquiry.title

    page.goto(live_server.url + "/")
    form = page.locator("form", has=page.get_by_role("button", name="Sign up"))
    hands.fill(form.get_by_label("Name", exact=True), "Rosa Parks")
    hands.fill(form.get_by_label("Email", exact=True), address)
    hands.tick(form.get_by_label("Face-to-face events"))
    hands.press(form.get_by_role("button", name="Sign up"))
    page.get_by_role("heading", name="Check your inbox").wait_for()
    page.set_content(smtp.wait_for(address).html())
    hands.press(page.get_by_role("link", name="Confirm my subscription"))
    hands.press(page.get_by_role("button", name="Confirm my subscription"))
    page.get_by_role(
        "heading", name="Thank you for signing up to receive our newsletter"
    ).wait_for()

    welcome = smtp.wait_for(address, count=2)
    page.set_content(welcome.html())
    hands.press(page.get_by_role("link", name="Ask for an invitation to every exploration"))
    page.get_by_role("heading", name="Invitations to every exploration").wait_for()
    assert_page_ok(page, "standing invitation")
    assert _standing(app, address) == []
    hands.press(page.get_by_role("button", name=f"Invite me to every exploration of {title}"))
    page.get_by_text("You will be invited to every exploration of this enquiry.").wait_for()
    assert_page_ok(page, "standing invitation asked")
    assert _standing(app, address) == [enquiry.id]

    hands.press(page.get_by_role("link", name="your preferences page"))
    page.get_by_role("heading", name="Your preferences").wait_for()
    assert page.get_by_label(f"Invite me to every exploration of {title}").is_checked()
