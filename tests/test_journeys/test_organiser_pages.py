"""Every organiser page works on a phone: nothing scrolls the page sideways (wide tables scroll
inside a labelled region of their own), one h1, a main landmark, and axe finds nothing."""

from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.test_hostile.conftest import PASSWORD, build_world, rules_of
from tests.test_journeys.checks import PHONE, assert_page_ok
from tests.test_journeys.conftest import sign_in


def organiser_pages(app: Any, world: Any) -> dict[str, list[str]]:
    """Addresses for every organiser GET rule, by endpoint, built from the world's ids (each
    id the world holds for it, so drafts, past events and offers show)."""
    pages: dict[str, list[str]] = {}
    for rule in rules_of(app, "GET"):
        if not rule.rule.startswith("/manage/"):
            continue
        # A new event belongs to an enquiry, named in the query string.
        new_event = rule.endpoint == "manage.events.new"
        query = f"?enquiry={world.ids['enquiry_id'][0]}" if new_event else ""
        pages[rule.endpoint] = [path + query for path in world.paths(rule)]
    return pages


# The newsletter preview is the mail's HTML, shown in a frame: it is held to the mail checks
# (tests/test_journeys/test_mails.py), where the page checks ask for site furniture.
MAILS = {"manage.news.preview_html"}
# Pages no address built from ids reaches, each checked by the journey that reaches it.
ELSEWHERE = {
    "manage.notes.share_progress": "needs a share under way: the session-note journey",
}


@pytest.mark.browser
def test_every_organiser_page_works_at_375px(live_server: Any, journey_page: Any) -> None:
    page = journey_page
    with live_server.app.app_context():
        world = build_world()
        pages = organiser_pages(live_server.app, world)
    assert len(pages) > 40
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, password=PASSWORD)
    checked, failures, answered, files = 0, [], set(), set()
    for endpoint, path in ((e, p) for e, paths in pages.items() for p in paths):
        try:
            response = page.goto(live_server.url + path)
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
            answered.add(endpoint)
            continue
        try:
            assert_page_ok(page, path)
        except AssertionError as error:
            failures.append(str(error))
        checked += 1
    assert not failures, f"{len(failures)} of {checked} pages:\n" + "\n\n".join(failures)
    assert answered == {e for e in pages if e not in files and e not in ELSEWHERE}
