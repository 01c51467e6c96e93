"""The demo enquiry, and the home page as a person sees it in Chromium."""

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import func, select

from placeevents.clock import utcnow
from placeevents.demo import load_demo
from placeevents.enquiries.models import Enquiry, EnquiryStatus
from placeevents.events.models import Event, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations.models import Rsvp
from placeevents.notes.models import Note, NoteVisibility


def test_demo_load_builds_the_enquiry(runner: Any, app: Flask) -> None:
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    enquiry = db.session.scalar(select(Enquiry).where(Enquiry.slug == "total-place-2"))
    assert enquiry.status == EnquiryStatus.CURRENT and enquiry.timezone == "Europe/London"
    assert [q.title for q in enquiry.questions] == [
        "Breaking the continuous cycle of bid and pilot",
        "Shifting responsibility for whole-system working to national bodies",
        "Sharing and amplifying the learning",
    ]
    events = enquiry.events
    assert len(events) == 6
    assert {e.format for e in events} == set(EventFormat)
    now = utcnow()
    assert any(e.ends_at < now for e in events) and any(e.starts_at > now for e in events)
    assert all(e.starts_at.tzinfo is not None for e in events)
    assert db.session.scalar(select(func.count()).select_from(Rsvp).where(Rsvp.attended)) > 0
    public_notes = db.session.scalars(
        select(Note).where(Note.visibility == NoteVisibility.PUBLIC)
    ).all()
    assert public_notes and all(n.event.ends_at < now for n in public_notes)
    assert db.session.scalar(select(func.count()).select_from(Enquiry)) == 2

    refused = runner.invoke(args=["demo", "load"])
    assert refused.exit_code != 0 and "--force" in refused.output
    forced = runner.invoke(args=["demo", "load", "--force"])
    assert forced.exit_code == 0, forced.output
    assert db.session.scalar(select(func.count()).select_from(Enquiry)) == 2


def test_demo_events_are_dated_from_the_day_it_is_loaded(app: Flask) -> None:
    import time_machine

    with time_machine.travel("2031-06-01 09:00Z", tick=False):
        load_demo()
        db.session.commit()
        starts = sorted(e.starts_at for e in db.session.scalars(select(Event)))
        assert utcnow() - timedelta(days=400) < starts[0]
        assert starts[-1] < utcnow() + timedelta(days=70)


def test_demo_wording_stays_true_whatever_day_it_is_loaded(
    runner: Any, client: Any, make_event: Any
) -> None:
    import re

    import time_machine

    with time_machine.travel("2031-06-01 09:00Z", tick=False):
        assert runner.invoke(args=["demo", "load"]).exit_code == 0
        home = client.get("/").get_data(as_text=True)
        archive = client.get("/enquiries/leading-beyond-boundaries").get_data(as_text=True)
    assert "Over the year we are holding a series of face-to-face and online explorations" in home
    enquiry = db.session.scalar(select(Enquiry).where(Enquiry.slug == "total-place-2"))
    # No year is written into the words or the addresses, only into the dates shown.
    assert not re.search(r"\b20\d\d\b", enquiry.introduction + enquiry.summary)
    assert not any(re.search(r"20\d\d", e.slug) for e in db.session.scalars(select(Event)))
    assert "/events/total-place-ten-years-on" in archive

    # An event an organiser added to the demo enquiry goes too when it is loaded again.
    make_event(enquiry=enquiry, slug="added-by-hand")
    forced = runner.invoke(args=["demo", "load", "--force"])
    assert forced.exit_code == 0, forced.output
    assert db.session.scalar(select(Event).where(Event.slug == "added-by-hand")) is None


def test_utc_datetimes_come_back_aware(make_event: Any) -> None:
    event = make_event()
    db.session.expire_all()
    fresh = db.session.get(Event, event.id)
    assert fresh.starts_at.tzinfo is not None
    assert fresh.starts_at.utcoffset() == timedelta(0)


@pytest.mark.browser
def test_home_page_in_chromium(live_server: Any, page: Any, tmp_path: Any) -> None:
    with live_server.app.app_context():
        load_demo()
        db.session.commit()
    page.goto(live_server.url + "/")
    heading = page.get_by_role("heading", level=1)
    assert "Total Place 2.0" in heading.inner_text()
    expect(page.get_by_role("heading", name="Lines of enquiry")).to_be_visible()
    expect(page.get_by_text("Breaking the continuous cycle of bid and pilot")).to_be_visible()
    expect(page.get_by_role("heading", name="Upcoming events")).to_be_visible()
    expect(page.get_by_role("heading", name="Past events")).to_be_visible()
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
    assert (tmp_path / "home.png").stat().st_size > 10_000
    # The skip link is the first thing a keyboard reaches.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.get_by_role("link", name="Beyond bid and pilot").first.click()
    assert "Beyond bid and pilot" in page.get_by_role("heading", level=1).inner_text()
    expect(page.get_by_text("Online", exact=True).first).to_be_visible()


def test_draft_events_have_no_public_page(client: Any, make_event: Any) -> None:
    draft = make_event(status=EventStatus.DRAFT)
    assert client.get(f"/events/{draft.slug}").status_code == 404
