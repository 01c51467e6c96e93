"""Journey 4, an invitee: from the invitation mail to yes, the joining link and the calendar
file, then to no, which at a full event asks before giving the place up; the first person on
the waiting list is told by mail. At 375 px by keyboard alone, at 1280 px by pointer."""

from typing import Any

import pytest
from playwright.sync_api import expect

from placeevents.events.models import EventFormat
from placeevents.extensions import db
from placeevents.invitations.sending import RecipientChoice, parse_pasted, send_invitations
from tests.test_journeys.checks import WIDTHS, Hands, assert_page_ok

JOIN_URL = "https://meet.example.org/total-place-learning-that-travels"


@pytest.mark.browser
@pytest.mark.parametrize(("width", "keyboard"), [("375", True), ("1280", False)])
def test_answer_from_the_mail_take_a_place_and_give_it_up(
    live_server: Any,
    app: Any,
    journey_page: Any,
    smtp: Any,
    organiser: Any,
    make_event: Any,
    make_invitation: Any,
    width: str,
    keyboard: bool,
) -> None:
    page = journey_page
    page.set_viewport_size(WIDTHS[width])
    hands = Hands(page, keyboard=keyboard)
    # The factories' app (same database) writes the mail: its links lead to the live server.
    app.config["PLACEEVENTS_BASE_URL"] = live_server.url
    event = make_event(
        title="Learning that travels", format=EventFormat.HYBRID, capacity=1, join_url=JOIN_URL
    )
    pasted, _ = parse_pasted("Ada Lovelace <ada@example.org>")
    send_invitations(
        event=event, choice=RecipientChoice(pasted=tuple(pasted)), subject="Join us",
        body="Please come.", organiser=organiser,
    )  # fmt: skip
    uid = event.calendar_uid.encode()
    # Ends the test's transaction: an open one holds SQLite's lock against the server's writes.
    db.session.commit()

    # The invitation, as a mail program shows it: its button opens the RSVP page.
    page.set_content(smtp.wait_for("ada@example.org").html())
    hands.press(page.get_by_role("link", name="Answer the invitation"))
    page.get_by_role("heading", name="Learning that travels", level=1).wait_for()
    assert_page_ok(page, "rsvp, unanswered")

    hands.choose(page.get_by_label("Online"))
    hands.press(page.get_by_role("button", name="Yes, I'll come"))
    page.get_by_text("You're coming online.").wait_for()
    expect(page.get_by_role("link", name=JOIN_URL)).to_be_visible()
    assert_page_ok(page, "rsvp, coming online")
    with page.expect_download() as download:
        hands.press(page.get_by_role("link", name="Add to my calendar (.ics)"))
    ics = download.value.path().read_bytes()
    assert b"BEGIN:VEVENT" in ics and uid in ics

    # In person takes the one place; then someone joins the waiting list behind it.
    hands.choose(page.get_by_label("In person"))
    hands.press(page.get_by_role("button", name="Yes, I'll come"))
    page.get_by_text("You're coming in person.").wait_for()
    assert_page_ok(page, "rsvp, coming in person")
    make_invitation(event, answer="waitlisted", email="ben@example.org", name="Ben Next")
    db.session.commit()
    smtp.wait_for("ben@example.org")

    page.reload()
    hands.press(page.get_by_role("button", name="No, I can't come"))
    page.get_by_role("heading", name="Give up your place?").wait_for()
    expect(page.get_by_text("You'll give up your place")).to_be_visible()
    assert_page_ok(page, "rsvp, give up the place?")
    hands.press(page.get_by_role("button", name="Yes, give up my place"))
    page.get_by_text("You're not coming.").wait_for()
    assert_page_ok(page, "rsvp, not coming")

    told = smtp.wait_for("ben@example.org", count=2)
    assert "Learning that travels" in told.subject
    assert told.subject.startswith(("A place has come up", "A place is yours")), told.subject
