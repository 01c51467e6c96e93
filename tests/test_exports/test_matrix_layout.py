"""The attendance matrix on a 1280 × 900 laptop screen, in Chromium: the totals columns can
always be seen or scrolled to inside the table's own box, never off the side of the page."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from placeevents.demo import load_demo
from placeevents.extensions import db
from tests.conftest import ORGANISER_PASSWORD

WIDTH, HEIGHT = 1280, 900


def _open_matrix(page: Any, base_url: str, enquiry_id: int) -> None:
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill("desk@example.org")
    page.get_by_label("Password").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base_url}/manage/exports/enquiries/{enquiry_id}/matrix")


def _assert_totals_reachable(page: Any) -> None:
    # Nothing spills out of the page itself: any overflow scrolls inside the table's box.
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    wrap = page.locator(".matrix-wrap").bounding_box()
    assert wrap is not None and wrap["x"] + wrap["width"] <= WIDTH
    headings = page.locator("table.matrix thead th")
    totals = headings.last
    expect(totals).to_have_text("Came to")
    totals.scroll_into_view_if_needed()
    box = totals.bounding_box()
    # The names column, and its heading, stay in view however far the table is scrolled.
    person = headings.first.bounding_box()
    names = page.locator("table.matrix tbody th").first.bounding_box()
    assert box is not None and person is not None and names is not None
    assert person["x"] >= wrap["x"] and abs(person["x"] - names["x"]) <= 1
    # The whole cell shows inside the scroll box and the window, clear of the sticky names.
    assert box["x"] >= names["x"] + names["width"] - 1
    assert box["x"] + box["width"] <= wrap["x"] + wrap["width"] + 1
    assert box["x"] + box["width"] <= WIDTH
    assert page.evaluate("window.scrollX") == 0
    expect(page.locator("table.matrix tfoot td").last).to_be_visible()


@pytest.mark.browser
def test_the_demo_matrix_totals_at_1280(
    live_server: Any, page: Any, make_organiser: Any, tmp_path: Path
) -> None:
    with live_server.app.app_context():
        enquiry = load_demo()
        db.session.commit()
        enquiry_id = enquiry.id
        make_organiser(email="desk@example.org")
    _open_matrix(page, live_server.url, enquiry_id)
    page.screenshot(path=str(tmp_path / "matrix-1280.png"), full_page=True)
    _assert_totals_reachable(page)


@pytest.mark.browser
def test_a_wide_matrix_scrolls_inside_its_box_at_1280(
    live_server: Any,
    page: Any,
    make_organiser: Any,
    make_enquiry: Any,
    make_event: Any,
    make_invitation: Any,
    tmp_path: Path,
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=200)
    with live_server.app.app_context():
        make_organiser(email="desk@example.org")
        enquiry = make_enquiry(slug="wide", title="Total Place 2.0")
        events = [
            make_event(
                enquiry=enquiry,
                title=f"Exploration {n}: who holds the whole system, nationally and locally?",
                starts_at=start + timedelta(days=30 * n),
            )
            for n in range(12)
        ]
        for n in range(4):
            for event in events:
                # Same names: each row shows a long email that must not widen the page.
                make_invitation(
                    event,
                    answer="yes",
                    attended=n % 2 == 0,
                    name="Catherine Doyle-Featherstonehaugh",
                    email=f"catherine.doyle-featherstonehaugh.{n}@levellingup.example.gov.uk",
                    organisation="Department for Levelling Up, Housing and Communities",
                )
        enquiry_id = enquiry.id
    _open_matrix(page, live_server.url, enquiry_id)
    page.screenshot(path=str(tmp_path / "matrix-wide-1280.png"), full_page=True)
    expect(page.get_by_text("Scroll the table sideways")).to_be_visible()
    _assert_totals_reachable(page)
