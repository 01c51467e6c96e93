"""Every page works on a phone: nothing scrolls the page sideways (wide tables scroll inside a
labelled region of their own), one h1, a main landmark, axe finds nothing and the HTML is
valid. Every organiser page, signed in; and every public and token page, as a stranger."""

from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from placeevents.extensions import db
from placeevents.news.models import Newsletter, NewsletterStatus
from tests.test_hostile.conftest import PASSWORD, build_world, rules_of
from tests.test_journeys.checks import PHONE, assert_page_ok
from tests.test_journeys.conftest import sign_in

pytestmark = pytest.mark.browser

# The newsletter preview is the mail's HTML, shown in a frame: it is held to the mail checks
# (tests/test_journeys/test_mails.py), where the page checks ask for site furniture.
MAILS = {"manage.news.preview_html"}
# Pages no address built from ids reaches, each checked by the journey that reaches it.
ELSEWHERE = {
    "manage.notes.share_progress": "needs a share under way: the session-note journey",
    "auth.login_code": "shows only half-way through a two-factor sign-in (tests/test_team)",
    "invitations.request_place": "journey 2 checks it, with the one-form registration",
}


def world_with_sent_news() -> Any:
    """The hostile suite's world, and a sent newsletter (what the public archive shows)."""
    world = build_world()
    sent = db.session.scalar(
        select(Newsletter.id).where(Newsletter.status == NewsletterStatus.SENT).limit(1)
    )
    world.ids["newsletter_id"] = [*world.ids["newsletter_id"], sent]
    return world


def pages_of(app: Any, world: Any, *, organiser: bool) -> dict[str, list[str]]:
    """Addresses for every GET rule of one side, by endpoint, built from the world's ids and
    tokens (each value the world holds, so drafts, past events and offers show)."""
    pages: dict[str, list[str]] = {}
    for rule in rules_of(app, "GET"):
        if rule.rule.startswith("/manage/") != organiser or rule.endpoint in ELSEWHERE:
            continue
        # A new event belongs to an enquiry, named in the query string.
        new_event = rule.endpoint == "manage.events.new"
        query = f"?enquiry={world.ids['enquiry_id'][0]}" if new_event else ""
        pages[rule.endpoint] = [path + query for path in world.paths(rule)]
    return pages


def visit_every_page(page: Any, url: str, pages: dict[str, list[str]]) -> None:
    """Each address at 375 px through assert_page_ok; every endpoint answers on one of them."""
    checked, failures, answered, files = 0, [], set(), set()
    for endpoint, path in ((e, p) for e, paths in pages.items() for p in paths):
        try:
            response = page.goto(url + path)
        except PlaywrightError as error:
            if "Download is starting" in str(error):
                files.add(endpoint)
                continue  # a file (calendar, export), not a page
            raise
        assert response is not None
        if not response.headers.get("content-type", "").startswith("text/html"):
            files.add(endpoint)
            continue
        if response.status == 404 and len(pages[endpoint]) > 1:
            continue  # ids that do not belong together (another event's mailing)
        assert response.status == 200, f"{path}: {response.status}"
        answered.add(endpoint)
        if endpoint in MAILS:
            continue
        try:
            assert_page_ok(page, path)
        except AssertionError as error:
            failures.append(str(error))
        checked += 1
    assert not failures, f"{len(failures)} of {checked} pages:\n" + "\n\n".join(failures)
    assert answered == {e for e in pages if e not in files}


def test_every_organiser_page_works_at_375px(live_server: Any, journey_page: Any) -> None:
    with live_server.app.app_context():
        pages = pages_of(live_server.app, world_with_sent_news(), organiser=True)
    assert len(pages) > 40
    journey_page.set_viewport_size(PHONE)
    sign_in(journey_page, live_server.url, password=PASSWORD)
    visit_every_page(journey_page, live_server.url, pages)


def test_every_public_page_works_at_375px(live_server: Any, journey_page: Any) -> None:
    with live_server.app.app_context():
        pages = pages_of(live_server.app, world_with_sent_news(), organiser=False)
    assert len(pages) > 20
    journey_page.set_viewport_size(PHONE)
    visit_every_page(journey_page, live_server.url, pages)
