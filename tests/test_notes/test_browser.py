"""Notes in Chromium: the learning page as a reader and as a paper, and an organiser's journey."""

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from placeevents.demo import load_demo
from placeevents.extensions import db
from placeevents.notes.models import Note, NoteShare, NoteVisibility

pytestmark = pytest.mark.browser


def test_learning_page_in_chromium(live_server: Any, page: Any, tmp_path: Any) -> None:
    with live_server.app.app_context():
        load_demo()
        db.session.commit()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="What we are learning").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What we are learning")
    for title in (
        "Breaking the continuous cycle of bid and pilot",
        "Shifting responsibility for whole-system working to national bodies",
        "Sharing and amplifying the learning",
    ):
        expect(page.get_by_role("heading", level=2, name=title)).to_be_visible()
    expect(
        page.get_by_role("heading", name="Key insights: the cost of the bidding cycle")
    ).to_be_visible()
    assert page.get_by_text("Facilitator reflections").count() == 0
    assert page.get_by_text("Actions agreed").count() == 0
    page.screenshot(path=str(tmp_path / "learning.png"), full_page=True)
    assert (tmp_path / "learning.png").stat().st_size > 10_000

    page.emulate_media(media="print")
    expect(page.locator(".site-header")).not_to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # Event links are absolute, so the print rule spells them out on paper.
    event_link = page.locator(".note__event a").first
    assert event_link.get_attribute("href").startswith(live_server.url + "/events/")
    spelled = event_link.evaluate("a => getComputedStyle(a, '::after').content")
    assert f"({live_server.url}/events/" in spelled
    page.screenshot(path=str(tmp_path / "learning-print.png"), full_page=True)
    page.emulate_media(media="screen")

    page.get_by_role("link", name="Beyond bid and pilot").first.click()
    assert "Beyond bid and pilot" in page.get_by_role("heading", level=1).inner_text()


def test_an_organiser_writes_revises_and_shares_a_note(
    live_server: Any, page: Any, smtp: Any, tmp_path: Any
) -> None:
    from placeevents.auth.services import create_organiser
    from placeevents.events.models import Event

    with live_server.app.app_context():
        load_demo()
        create_organiser(email="olive@example.org", name="Olive", password="a long password!")
        db.session.commit()
        event_id = db.session.scalar(
            select(Event.id).where(Event.slug == "national-bodies-manchester")
        )
    page.goto(live_server.url + "/login")
    page.get_by_label("Email").fill("olive@example.org")
    page.get_by_label("Password").fill("a long password!")
    page.get_by_role("button", name="Log in").click()

    page.goto(live_server.url + "/manage/notes/")
    page.get_by_role("link", name="Who holds the whole system?").click()
    page.get_by_role("link", name="Add a note").click()
    page.get_by_label("Title", exact=True).fill("Actions from Manchester")
    page.get_by_label("Kind").select_option("actions")
    page.get_by_label("Author", exact=True).fill("Kwame Asante")
    page.get_by_label("Unattributed (Chatham House)").check()
    page.get_by_label("Shared with the event's attendees").check()
    page.get_by_label("Notes", exact=True).fill(
        "- Draft the annual review\n- <b>Ask</b> national bodies"
    )
    page.get_by_label("Resource links").fill("Slides | https://example.org/slides.pdf")
    page.get_by_label("Shifting responsibility").check()
    page.get_by_label("Tags", exact=True).fill("accountability, review")
    page.get_by_role("button", name="Save the note").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Actions from Manchester")
    expect(page.get_by_text("The note was saved.")).to_be_visible()

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Title", exact=True).fill("Actions agreed in Manchester")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved as revision 2.")).to_be_visible()
    page.get_by_role("link", name="history").click()
    page.get_by_role("button", name="Restore revision 1").click()
    expect(page.get_by_text("Revision 1 was restored as revision 3.")).to_be_visible()

    page.get_by_role("button", name="Send this note to attendees").click()
    # A bulk send is the worker's job; the progress page refreshes itself until it is done.
    page.get_by_role("heading", name="Notes sent").wait_for(timeout=10_000)
    page.screenshot(path=str(tmp_path / "share.png"), full_page=True)

    with live_server.app.app_context():
        note = db.session.scalar(select(Note).where(Note.event_id == event_id, Note.revision == 3))
        assert note.title == "Actions from Manchester" and not note.attributed
        assert note.visibility == NoteVisibility.ATTENDEES
        shared_to = set(db.session.scalars(select(NoteShare.email)))
    assert shared_to and {m.rcpt_tos[0] for m in smtp.messages} == shared_to
    mail = smtp.messages[0]
    assert "Actions from Manchester" in mail.text() and "Kwame Asante" not in mail.text()

    # The reader opens the link from the mail in the browser.
    assert "https://example.org/slides.pdf" in mail.links()
    page.goto(next(link for link in mail.links() if link.startswith(live_server.url + "/notes/")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Actions from Manchester")
    expect(page.get_by_text("Draft the annual review")).to_be_visible()
