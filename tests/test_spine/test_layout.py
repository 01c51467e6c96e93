"""Page layout as Chromium draws it: spacing between the bars, sections and footer; print; icon."""

import re
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import expect

from placeevents.auth.services import create_organiser
from placeevents.clock import utcnow
from placeevents.enquiries.services import create_enquiry
from placeevents.events.models import Event, EventAccess, EventFormat, EventStatus
from placeevents.extensions import db
from tests.conftest import ORGANISER_PASSWORD

GAP = 16  # px: the least space that reads as a gap between two blocks

BOTTOM_OF = "(s) => document.querySelector(s).getBoundingClientRect().bottom"
TOP_OF = "(s) => document.querySelector(s).getBoundingClientRect().top"


def _gap(page: Any, above: str, below: str) -> float:
    return page.evaluate(TOP_OF, below) - page.evaluate(BOTTOM_OF, above)


def _seed(live_server: Any) -> str:
    with live_server.app.app_context():
        create_organiser(email="olive@example.org", name="Olive", password=ORGANISER_PASSWORD)
        enquiry = create_enquiry(
            title="Total Place 2.0", summary="", introduction="A year.", timezone="Europe/London"
        )
        starts = utcnow() + timedelta(days=10)
        db.session.add(
            Event(
                enquiry=enquiry,
                slug="learning-that-travels",
                title="Learning that travels",
                format=EventFormat.IN_PERSON,
                venue="The Station",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                status=EventStatus.PUBLISHED,
                access=EventAccess.OPEN,
                capacity=30,
            )
        )
        db.session.commit()
    return live_server.url


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 375])
def test_blocks_keep_their_distance_from_the_bars_and_each_other(
    live_server: Any, page: Any, width: int
) -> None:
    url = _seed(live_server)
    page.set_viewport_size({"width": width, "height": 900})
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)

    page.goto(url + "/events/learning-that-travels")
    assert _gap(page, ".site-header", "main > :first-child") >= GAP
    assert _gap(page, ".add-to-calendar", ".newsletter-signup") >= GAP
    assert _gap(page, "main > :last-child", ".site-footer") >= GAP

    page.goto(url + "/login")
    page.get_by_label("Email").fill("olive@example.org")
    page.get_by_label("Password").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/manage/")
    # A page with a flash message and a page without: neither touches the organiser menu.
    page.goto(url + "/manage/")
    assert _gap(page, ".manage-nav", "main > :first-child") >= GAP
    page.goto(url + "/manage/enquiries/new")
    page.locator("#title").fill("Leading beyond boundaries")
    page.get_by_role("button", name="Open the enquiry").click()
    expect(page.locator(".flash").first).to_be_visible()
    assert _gap(page, ".manage-nav", ".flashes") >= GAP

    assert missing == []


@pytest.mark.browser
def test_the_organiser_menu_does_not_print(live_server: Any, page: Any) -> None:
    url = _seed(live_server)
    page.goto(url + "/login")
    page.get_by_label("Email").fill("olive@example.org")
    page.get_by_label("Password").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/manage/")
    expect(page.locator(".manage-nav")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".manage-nav")).not_to_be_visible()
    expect(page.get_by_role("heading", name="Your enquiries")).to_be_visible()


def test_every_page_names_an_icon_that_is_served(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    found = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert found, "no icon link"
    icon = client.get(found.group(1))
    assert icon.status_code == 200
    assert icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
