"""A newsletter in Chromium: compose, preview, test, send, and read it in the archive."""

from typing import Any

import pytest
from playwright.sync_api import expect

from placeevents.auth.services import create_organiser
from placeevents.enquiries.models import Enquiry
from placeevents.extensions import db
from placeevents.news.jobs import run_sends
from placeevents.newsletter.models import Subscriber, SubscriberStatus

pytestmark = pytest.mark.browser


def test_an_organiser_composes_previews_tests_and_sends_a_newsletter(
    live_server: Any, page: Any, smtp: Any, tmp_path: Any
) -> None:
    with live_server.app.app_context():
        create_organiser(email="olive@example.org", name="Olive", password="a long password!")
        db.session.add(Enquiry(slug="total-place", title="Total Place 2.0", introduction="Hi."))
        for n, news in enumerate((True, True, False)):
            db.session.add(
                Subscriber(
                    email=f"reader{n}@example.org",
                    name=f"Reader {n}",
                    wants_news=news,
                    wants_in_person=not news,
                    status=SubscriberStatus.CONFIRMED,
                )
            )
        db.session.commit()
    page.goto(live_server.url + "/login")
    page.get_by_label("Email").fill("olive@example.org")
    page.get_by_label("Password").fill("a long password!")
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Newsletters").first.click()
    page.get_by_role("link", name="New newsletter").click()
    page.get_by_label("Subject").fill("Spring news from the enquiry")
    page.get_by_label("Text", exact=True).fill("We met in **Leeds** last week.")
    page.get_by_role("button", name="Save and preview").click()
    expect(page.get_by_text("it would go to 2 subscribers")).to_be_visible()
    frame = page.frame_locator("iframe.mailbox-html")
    expect(frame.locator("strong", has_text="Leeds")).to_be_visible()
    assert "We met in Leeds last week." in page.locator("pre.mail-preview").inner_text()

    page.get_by_role("button", name="“What we are learning”").click()
    expect(page.get_by_text("Saved, with the block added at the end.")).to_be_visible()
    assert "/enquiries/total-place/learning" in page.get_by_label("Text", exact=True).input_value()

    page.get_by_role("button", name="Send a test to me").click()
    expect(page.get_by_text("A test has been sent to olive@example.org.")).to_be_visible()
    assert smtp.wait_for("olive@example.org").subject == "[Test] Spring news from the enquiry"

    page.get_by_role("button", name="Send now").click()
    expect(page.get_by_text("Sending has started")).to_be_visible()
    with live_server.app.app_context():
        run_sends()  # the worker's job (this test's worker delivers mail only)
    mail = smtp.wait_for("reader0@example.org")
    smtp.wait_for("reader1@example.org")
    page.reload()
    page.get_by_text("All sent").wait_for(timeout=10_000)
    assert page.locator(".news-progress").inner_text().split() == [
        "Subscribers",
        "reached",
        "2",
        "Queued",
        "2",
        "Sent",
        "2",
        "Waiting",
        "0",
        "Failed",
        "0",
    ]
    page.screenshot(path=str(tmp_path / "sent.png"), full_page=True)
    assert smtp.to("reader2@example.org") == []

    page.goto(next(link for link in mail.links() if "/news/" in link))
    expect(page.get_by_role("heading", level=1)).to_have_text("Spring news from the enquiry")
    expect(page.locator("strong", has_text="Leeds")).to_be_visible()
    page.get_by_role("link", name="All newsletters").click()
    expect(page.get_by_role("link", name="Spring news from the enquiry")).to_be_visible()
