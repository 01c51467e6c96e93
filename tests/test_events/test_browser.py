"""The organiser's journey in Chromium: log in, create an event, publish it, see it in public."""

from typing import Any

import pytest
from playwright.sync_api import expect

from placeevents.auth.services import create_organiser
from placeevents.enquiries.services import add_question, create_enquiry
from placeevents.extensions import db
from tests.conftest import ORGANISER_PASSWORD

pytestmark = pytest.mark.browser


def test_create_publish_and_cancel_an_event_in_chromium(live_server: Any, page: Any) -> None:
    with live_server.app.app_context():
        create_organiser(email="olive@example.org", name="Olive", password=ORGANISER_PASSWORD)
        enquiry = create_enquiry(
            title="Total Place 2.0",
            summary="From the margins to the mainstream.",
            introduction="A year of explorations.",
            timezone="Europe/London",
        )
        add_question(enquiry=enquiry, title="Sharing and amplifying the learning", body="")
        db.session.commit()

    page.goto(live_server.url + "/login")
    page.get_by_label("Email").fill("olive@example.org")
    page.get_by_label("Password").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Add an event").click()

    page.locator("#title").fill("Learning that travels")
    page.get_by_label("Hybrid").check()
    page.locator("#starts_at").fill("2030-05-14T10:00")
    page.locator("#ends_at").fill("2030-05-14T09:00")
    page.locator("#venue").fill("The Station")
    page.locator("#address").fill("Silver Street, Bristol")
    page.locator("#join_url").fill("https://meet.example.org/travels")
    page.locator("#hosts").fill("Jo Bloggs")
    # The capacity applies to in-person places: it goes while Online is chosen; the online
    # limit goes while Face-to-face is.
    page.get_by_label("Online", exact=True).check()
    expect(page.locator("#capacity")).not_to_be_visible()
    expect(page.locator("#online_capacity")).to_be_visible()
    page.get_by_label("Face-to-face").check()
    expect(page.locator("#online_capacity")).not_to_be_visible()
    page.get_by_label("Hybrid").check()
    expect(page.locator("#capacity")).to_be_visible()
    page.locator("#capacity").fill("20")
    page.locator("#online_capacity").fill("50")
    page.locator("#description").fill("Bring **one question**.")
    page.get_by_label("Dietary needs").check()
    page.get_by_role("button", name="Save as a draft").click()

    # The mistake is named beside the field, and the field points to it.
    expect(page.locator("#ends_at-error")).to_have_text("The end must be after the start.")
    assert "ends_at-error" in (page.locator("#ends_at").get_attribute("aria-describedby") or "")
    page.locator("#ends_at").fill("2030-05-14T12:30")
    page.get_by_role("button", name="Save as a draft").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Learning that travels")
    expect(page.get_by_text("Tue 14 May 2030, 10:00–12:30 BST")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("The event is published")).to_be_visible()

    page.goto(live_server.url + "/")
    upcoming = page.locator("section", has=page.get_by_role("heading", name="Upcoming events"))
    upcoming.get_by_role("link", name="Learning that travels").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Learning that travels")
    expect(page.get_by_text("Tue 14 May 2030, 10:00–12:30 BST")).to_be_visible()
    expect(page.get_by_text("20 of 20 in person; 50 of 50 online")).to_be_visible()
    expect(page.locator("strong", has_text="one question")).to_be_visible()
    assert "meet.example.org" not in page.content()

    page.goto(live_server.url + "/manage/")
    page.get_by_role("link", name="Learning that travels").click()
    page.get_by_role("link", name="Cancel the event").click()
    page.get_by_label("Message to the people affected").fill("Our speaker is unwell.")
    page.get_by_role("button", name="Cancel the event and send the message").click()
    expect(page.get_by_text("The event is cancelled.")).to_be_visible()
    page.get_by_role("link", name="Public page").click()
    expect(page.get_by_text("This event has been cancelled.")).to_be_visible()
    expect(page.get_by_text("Our speaker is unwell.")).to_be_visible()
