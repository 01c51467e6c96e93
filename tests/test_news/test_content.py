"""What a newsletter carries: blocks from the app, learning digests, and the public archive
with no personal links."""

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from placeevents.clock import utcnow
from placeevents.events.models import EventAccess
from placeevents.extensions import db
from placeevents.invitations.models import Invitation
from placeevents.news import services
from placeevents.news.models import NewsletterKind
from placeevents.notes.models import NoteVisibility
from tests.test_news.conftest import send_all

FORM = {"subject": "Spring news", "body": "Our news.", "interests": ["news"]}


def _insert(client: Any, newsletter: Any, block: str) -> str:
    response = client.post(
        f"/manage/news/{newsletter.id}",
        data={**FORM, "body": newsletter.body, "action": f"insert-{block}"},
    )
    assert response.status_code == 303
    db.session.refresh(newsletter)
    return newsletter.body


def test_blocks_link_to_public_pages_and_never_invite(
    logged_in: Any, smtp: Any, reader: Any, make_event: Any, make_newsletter: Any,
    make_note: Any, make_enquiry: Any,
) -> None:
    enquiry = make_enquiry(slug="total-place")
    reader(email="ada@example.org")
    make_event(enquiry=enquiry, slug="open-day", title="Open [day]",
                            access=EventAccess.OPEN)
    make_event(enquiry=enquiry, slug="invited-only", title="Invited only")
    ended = make_event(
        enquiry=enquiry, slug="ended", starts_at=utcnow() - timedelta(days=2),
        ends_at=utcnow() - timedelta(days=2) + timedelta(hours=2),
    )
    make_note(ended, title="What we heard")
    make_note(ended, title="Only for us", visibility=NoteVisibility.PRIVATE)
    newsletter = make_newsletter(body="Our news.")

    body = _insert(logged_in, newsletter, "events")
    assert "[Open \\[day\\]](http://localhost/events/open-day)" in body
    assert "ask for a place on its page" in body
    assert "(http://localhost/events/invited-only)" in body
    assert "/events/ended" not in body
    body = _insert(logged_in, newsletter, "notes")
    assert "What we heard" in body and "Only for us" not in body
    assert "http://localhost/enquiries/total-place/learning#note-" in body
    body = _insert(logged_in, newsletter, "learning")
    assert "(http://localhost/enquiries/total-place/learning)" in body
    body = _insert(logged_in, newsletter, "calendar")
    assert "<http://localhost/enquiries/total-place/calendar.ics>" in body
    assert body.startswith("Our news.")

    send_all(newsletter)
    html = smtp.last_to("ada@example.org").html()
    assert '<a href="http://localhost/events/open-day"' in html
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_a_learning_digest_gathers_new_public_notes_by_line_of_enquiry(
    logged_in: Any, smtp: Any, reader: Any, make_event: Any, make_note: Any, make_enquiry: Any,
) -> None:
    enquiry = make_enquiry(questions=["Bid and pilot", "National bodies", "Sharing learning"])
    bid, national, _sharing = enquiry.questions
    ended = make_event(
        enquiry=enquiry, starts_at=utcnow() - timedelta(days=2),
        ends_at=utcnow() - timedelta(days=2) + timedelta(hours=2),
    )
    make_note(ended, title="Pots and pilots", questions=[bid])
    make_note(ended, title="Holding Whitehall to account", questions=[national])
    make_note(ended, title="Not yet public", visibility=NoteVisibility.ATTENDEES,
              questions=[bid])
    reader(email="ada@example.org")

    response = logged_in.post("/manage/news/digest")
    assert response.status_code == 303
    [digest] = services.all_newsletters()
    assert digest.kind == NewsletterKind.DIGEST
    body = digest.body
    # Each note is linked, named with its event and quoted from its start.
    assert re.search(r"## Bid and pilot\n\n- \[Pots and pilots\]\(.+\), from .+: What we", body)
    assert re.search(r"## National bodies\n\n- \[Holding Whitehall to account\]", body)
    assert "Sharing learning" not in body and "Not yet public" not in body
    send_all(digest)
    assert "Pots and pilots" in smtp.last_to("ada@example.org").text()

    make_note(ended, title="Learning shared later", questions=[bid])
    logged_in.post("/manage/news/digest")
    latest = services.all_newsletters()[0]
    assert "Learning shared later" in latest.body
    assert "Pots and pilots" not in latest.body and "Whitehall" not in latest.body


def test_the_archive_shows_what_went_out_without_personal_links(
    client: Any, smtp: Any, reader: Any, make_newsletter: Any, make_enquiry: Any,
) -> None:
    make_enquiry()
    reader(email="ada@example.org", name="Ada Lovelace")
    sent = make_newsletter(subject="Spring news")
    draft = make_newsletter(subject="Not yet")
    send_all(sent)

    home = client.get("/").get_data(as_text=True)
    assert 'href="/news/"' in home
    archive = client.get("/news/").get_data(as_text=True)
    assert "Spring news" in archive and "Not yet" not in archive
    assert client.get(f"/news/{draft.id}").status_code == 404

    mail = smtp.last_to("ada@example.org")
    [web] = [link for link in mail.links() if "/news/" in link]
    response = client.get(web.removeprefix("http://localhost"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Our <em>second</em> exploration" in page
    for personal in ("/newsletter/preferences/", "/newsletter/unsubscribe/", "/rsvp/",
                     "Ada", "ada@example.org", "Hello"):
        assert personal not in page
    assert response.headers.get("Set-Cookie") is None
