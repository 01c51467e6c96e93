"""The invitee's journey in Chromium: registering for a place, then the mailed link."""

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from placeevents.events.models import EventAccess, EventFormat
from placeevents.extensions import db
from placeevents.invitations.models import Rsvp, RsvpAnswer


@pytest.mark.browser
def test_register_then_change_the_answer_from_the_mailed_link(
    live_server: Any, page: Any, make_event: Any, smtp: Any
) -> None:
    event = make_event(
        title="Sharing the learning",
        format=EventFormat.HYBRID,
        access=EventAccess.OPEN,
        capacity=20,
        join_url="https://meet.example.org/learning",
    )
    slug = event.slug
    db.session.close()

    page.goto(f"{live_server.url}/events/{slug}/request-place")
    page.get_by_label("Your name").fill("Bea Browser")
    page.get_by_label("Your email address").fill("bea@example.org")
    page.get_by_label("Online").check()
    page.get_by_label("The question you bring to this exploration").fill(
        "How do we keep learning flowing?"
    )
    page.get_by_role("button", name="Request a place").click()
    expect(page.get_by_role("heading", name="You're coming")).to_be_visible()
    assert page.get_by_text("meet.example.org").count() == 0

    confirmation = smtp.wait_for("bea@example.org")
    assert "https://meet.example.org/learning" in confirmation.text()
    link = next(url for url in confirmation.links() if "/rsvp/" in url)
    page.goto(link)
    expect(page.get_by_text("Invitation for Bea Browser")).to_be_visible()
    expect(page.get_by_text("You're coming online.")).to_be_visible()
    expect(page.get_by_role("link", name="https://meet.example.org/learning")).to_be_visible()

    page.get_by_role("button", name="No, but send me the session notes").click()
    expect(page.get_by_text("You're not coming.")).to_be_visible()
    assert page.get_by_text("meet.example.org").count() == 0

    db.session.expire_all()
    rsvp = db.session.scalars(select(Rsvp)).one()
    assert rsvp.answer == RsvpAnswer.NO and rsvp.wants_notes and rsvp.mode is None


@pytest.mark.browser
def test_register_for_two_events_from_the_enquiry_page(
    live_server: Any, page: Any, make_enquiry: Any, make_event: Any, smtp: Any
) -> None:
    enquiry = make_enquiry(title="Learning together")
    first, second = (
        make_event(enquiry=enquiry, title=title, access=EventAccess.OPEN, capacity=capacity)
        for title, capacity in (("Morning circle", 10), ("Evening lab", 5))
    )
    make_event(enquiry=enquiry, title="Not chosen", access=EventAccess.OPEN)
    slug = enquiry.slug
    db.session.close()

    page.goto(f"{live_server.url}/enquiries/{slug}")
    form = page.locator("section.request-places")
    form.get_by_label("Your name").fill("Tia Two")
    form.get_by_label("Your email address").fill("tia@example.org")
    form.get_by_label("Morning circle").check()
    form.get_by_label("Evening lab").check()
    form.get_by_role("button", name="Request places").click()

    expect(page.get_by_role("heading", name="Your answers are recorded")).to_be_visible()
    expect(page.get_by_text("Morning circle")).to_be_visible()
    expect(page.get_by_text("Evening lab")).to_be_visible()
    assert page.get_by_text("A place: you're coming in person").count() == 2

    smtp.wait_for("tia@example.org", count=3)
    mails = smtp.to("tia@example.org")
    assert sorted(m.subject for m in mails) == sorted(
        ["Your places: 2 events", "You're coming: Morning circle", "You're coming: Evening lab"]
    )
    db.session.expire_all()
    rsvps = db.session.scalars(select(Rsvp)).all()
    assert [r.answer for r in rsvps] == [RsvpAnswer.YES, RsvpAnswer.YES]
