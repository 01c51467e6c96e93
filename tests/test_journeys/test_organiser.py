"""Journeys 3 and 5, an organiser, at 375 px and 1280 px: create an event and invite
subscribers and pasted addresses (counts per source, "Send N invitations?", sent); then write a
session note, share it, find it on the learning page, check someone in, export the attendees
and read the attendance matrix. At 375 px by keyboard alone, at 1280 px by pointer."""

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from placeevents.clock import utcnow
from placeevents.enquiries.services import create_enquiry
from placeevents.events.models import EventFormat
from placeevents.extensions import db
from tests.test_journeys.checks import WIDTHS, Hands, assert_page_ok
from tests.test_journeys.conftest import sign_in

pytestmark = pytest.mark.browser
# At 375 px by keyboard alone (Tab to each control, its focus visible), at 1280 px by pointer.
HANDS = pytest.mark.parametrize(("width", "keyboard"), [("375", True), ("1280", False)])


def _go(hands: Hands, control: Any) -> None:
    """Follow a link or press a button and wait for the page it leads to: Enter returns before
    the navigation it starts has even begun."""
    with hands.page.expect_navigation():
        hands.press(control)


def _save(hands: Hands, button: str) -> None:
    _go(hands, hands.page.get_by_role("button", name=button, exact=True))


@HANDS
def test_create_an_event_and_invite_subscribers_and_pasted_addresses(
    live_server: Any, journey_page: Any, smtp: Any, organiser: Any, make_subscriber: Any,
    width: str, keyboard: bool,
) -> None:  # fmt: skip
    page = journey_page
    page.set_viewport_size(WIDTHS[width])
    hands = Hands(page, keyboard=keyboard)
    make_subscriber(email="sue@example.org", name="Sue Scriber")
    make_subscriber(email="sam@example.org", name="Sam Scriber")
    with live_server.app.app_context():
        create_enquiry(
            title="Total Place 2.0", summary="", introduction="", timezone="Europe/London"
        )
        db.session.commit()
    db.session.commit()  # the test's own transaction ends: SQLite lets the server write

    sign_in(page, live_server.url, hands=hands)
    assert_page_ok(page, "dashboard")
    _go(hands, page.get_by_role("link", name="Add an event").first)
    assert_page_ok(page, "new event")
    hands.fill(page.get_by_label("Title"), "Learning that travels")
    hands.choose(page.get_by_label("Online", exact=True))
    hands.fill(page.get_by_label("Start"), "2030-05-14T10:00")
    hands.fill(page.get_by_label("End", exact=True), "2030-05-14T12:30")
    hands.fill(page.get_by_label("Join link"), "https://meet.example.org/travels")
    _save(hands, "Save as a draft")
    page.get_by_role("heading", name="Learning that travels", level=1).wait_for()
    assert_page_ok(page, "event, draft")
    _save(hands, "Publish")
    page.get_by_text("The event is published").wait_for()
    assert_page_ok(page, "event, published")

    _go(hands, page.get_by_role("link", name="Invite people"))
    assert_page_ok(page, "invite")
    hands.choose(page.get_by_label("All confirmed subscribers"))
    hands.fill(
        page.get_by_label("Other addresses"),
        "Pat Pasted <pat@example.org>\nquinn@example.org\nsue@example.org",
    )
    hands.fill(page.get_by_label("Subject"), "Join us in May")
    hands.fill(page.get_by_label("Text"), "Bring one question.\n\nWe will start on time.")
    _save(hands, "Preview")
    counts = page.get_by_role("table", name="Who would be invited")
    expect(counts.get_by_role("row", name="Subscribers 2")).to_be_visible()
    expect(counts.get_by_role("row", name="Pasted addresses 2")).to_be_visible()
    expect(counts.get_by_role("row", name="Will be invited 4")).to_be_visible()
    assert_page_ok(page, "invite, preview")
    _save(hands, "Send invitations")
    page.get_by_text("Send 4 invitations?").wait_for()
    assert_page_ok(page, "invite, confirm")
    _save(hands, "Yes, send 4 invitations")
    page.get_by_role("heading", name="Invitations").wait_for()
    assert_page_ok(page, "invitations sending")
    for address in ("sue@example.org", "sam@example.org", "pat@example.org", "quinn@example.org"):
        assert smtp.wait_for(address).subject == "Join us in May"
    page.reload()
    page.get_by_text("All sent.").wait_for()
    assert_page_ok(page, "invitations sent")


@HANDS
def test_share_a_session_note_check_in_export_and_read_the_matrix(
    live_server: Any, app: Any, journey_page: Any, smtp: Any, organiser: Any,
    make_enquiry: Any, make_event: Any, make_invitation: Any, width: str, keyboard: bool,
) -> None:  # fmt: skip
    page = journey_page
    page.set_viewport_size(WIDTHS[width])
    hands = Hands(page, keyboard=keyboard)
    app.config["PLACEEVENTS_BASE_URL"] = live_server.url
    enquiry = make_enquiry(title="Total Place 2.0", slug="total-place")
    start = utcnow().replace(microsecond=0)
    past = make_event(enquiry=enquiry, title="What we heard", starts_at=start - timedelta(days=3))
    make_invitation(past, attended=True, email="ada@example.org", name="Ada Came")
    today = make_event(
        enquiry=enquiry, title="Learning that travels", starts_at=start - timedelta(minutes=30),
        ends_at=start + timedelta(hours=2),
    )  # fmt: skip
    make_invitation(today, answer="yes", email="hana@example.org", name="Hana Here")
    ids = {"past": past.id, "today": today.id, "enquiry": enquiry.id}
    db.session.commit()

    sign_in(page, live_server.url, hands=hands)
    page.goto(f"{live_server.url}/manage/notes/events/{ids['past']}")
    assert_page_ok(page, "notes of an event")
    _go(hands, page.get_by_role("link", name="Add a note"))
    assert_page_ok(page, "new note")
    hands.fill(page.get_by_label("Title"), "Patience travels further than plans")
    hands.choose(page.get_by_label("Public: on the event page and the learning page"))
    hands.fill(
        page.get_by_label("Notes", exact=True), "What we heard.\n\n- Start small\n- Keep going"
    )
    _save(hands, "Save the note")
    page.get_by_role("heading", name="Patience travels further than plans").wait_for()
    assert_page_ok(page, "note")

    page.goto(f"{live_server.url}/manage/notes/events/{ids['past']}/share")
    assert_page_ok(page, "share notes")
    _save(hands, "Send all shared notes")
    assert_page_ok(page, "share progress")
    # Until the worker has sent them the page checks again by itself; then it says so.
    page.get_by_role("heading", name="Notes sent").wait_for()
    assert "Patience travels further than plans" in smtp.wait_for("ada@example.org").subject

    page.goto(f"{live_server.url}/enquiries/total-place/learning")
    page.get_by_role("heading", name="Patience travels further than plans").wait_for()
    assert_page_ok(page, "learning page")

    page.goto(f"{live_server.url}/manage/exports/events/{ids['today']}/check-in")
    assert_page_ok(page, "check-in")
    _save(hands, "Check in Hana Here")
    page.get_by_role("button", name="Undo check-in of Hana Here").wait_for()
    assert_page_ok(page, "checked in")

    page.goto(f"{live_server.url}/manage/exports/events/{ids['today']}/")
    assert_page_ok(page, "attendee export")
    with page.expect_download() as download:
        hands.press(page.get_by_role("button", name="Download CSV"))
    assert "Hana Here" in download.value.path().read_text(encoding="utf-8-sig")

    _go(hands, page.get_by_role("link", name="Attendance across the enquiry"))
    matrix = page.get_by_role("region", name="People and events")
    expect(matrix.get_by_role("rowheader", name="Hana Here")).to_be_visible()
    assert_page_ok(page, "matrix")


def test_a_progress_page_checks_again_until_told_to_stop(
    live_server: Any, journey_page: Any, smtp: Any, organiser: Any, make_event: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    page = journey_page
    page.set_viewport_size(WIDTHS["375"])

    async def later(*args: Any) -> str:
        return "451 Try again later"

    # The mail server defers every message, so the invitation stays waiting to be sent.
    monkeypatch.setattr(smtp.handler, "handle_DATA", later)
    event = make_event(format=EventFormat.ONLINE, join_url="https://meet.example.org/x")
    event_id = event.id
    db.session.commit()
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/manage/invitations/events/{event_id}/invite")
    page.get_by_label("Other addresses").fill("pat@example.org")
    page.get_by_label("Subject").fill("Join us")
    page.get_by_label("Text").fill("Please come.")
    pointer = Hands(page, keyboard=False)
    _save(pointer, "Send invitations")
    _save(pointer, "Yes, send 1 invitation")
    page.get_by_text("Sending… This page checks again every 5 seconds.").wait_for()
    assert_page_ok(page, "invitations waiting")

    # Unless stopped, the page loads itself again; stopped, it stays as it is.
    page.evaluate("window.stillHere = true")
    page.wait_for_function("() => window.stillHere === undefined", timeout=8000)
    page.get_by_role("button", name="Stop checking").click()
    page.get_by_text("Checking stopped.").wait_for()
    page.evaluate("window.stillHere = true")
    page.wait_for_timeout(6000)
    assert page.evaluate("window.stillHere") is True
    expect(page.get_by_role("link", name="Check now")).to_be_visible()
