"""The whole journey in Chromium, with every link read from the mail actually delivered."""

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from placeevents.demo import load_demo
from placeevents.extensions import db
from placeevents.newsletter.models import Subscriber, SubscriberStatus


def _subscriber(app: Any) -> Subscriber:
    with app.app_context():
        return db.session.scalar(select(Subscriber).where(Subscriber.email == "rosa@example.org"))


@pytest.mark.browser
def test_signup_confirm_preferences_and_unsubscribe_in_chromium(
    live_server: Any, page: Any, smtp: Any
) -> None:
    with live_server.app.app_context():
        load_demo()
        db.session.commit()
    page.goto(live_server.url + "/")
    form = page.locator("form", has=page.get_by_role("button", name="Sign up"))
    form.get_by_label("Name", exact=True).fill("Rosa Parks")
    form.get_by_label("Email", exact=True).fill("rosa@example.org")
    form.get_by_label("Organisation").fill("Montgomery Council")
    form.get_by_label("Online events").check()
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    # The worker answers the signup request: the subscriber exists once the mail has gone.
    confirmation = smtp.wait_for("rosa@example.org")
    assert _subscriber(live_server.app).status == SubscriberStatus.PENDING
    page.goto(confirmation.links()[0])
    assert _subscriber(live_server.app).status == SubscriberStatus.PENDING
    page.get_by_role("button", name="Confirm my subscription").click()
    expect(
        page.get_by_role("heading", name="Thank you for signing up to receive our newsletter")
    ).to_be_visible()
    assert _subscriber(live_server.app).status == SubscriberStatus.CONFIRMED

    welcome = smtp.wait_for("rosa@example.org", count=2)
    assert "welcome" in welcome.subject.lower()
    preferences = next(link for link in welcome.links() if "/preferences/" in link)
    page.goto(preferences)
    page.get_by_label("Organisation").fill("Alabama Council")
    page.get_by_label("News and updates").check()
    page.get_by_role("button", name="Save my preferences").click()
    expect(page.get_by_text("Your preferences are saved.")).to_be_visible()
    saved = _subscriber(live_server.app)
    assert saved.organisation == "Alabama Council" and saved.wants_news and saved.wants_online

    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You have unsubscribed")).to_be_visible()
    assert _subscriber(live_server.app).status == SubscriberStatus.UNSUBSCRIBED
