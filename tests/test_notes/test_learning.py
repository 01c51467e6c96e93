"""The "What we are learning" page: public notes grouped by the enquiry's questions."""

import re
from datetime import timedelta
from typing import Any

from conftest import count_queries
from sqlalchemy import select

from placeevents.clock import utcnow
from placeevents.demo import load_demo
from placeevents.enquiries.models import Enquiry
from placeevents.extensions import db
from placeevents.notes.models import Note, NoteVisibility


def _ended(make_event: Any, enquiry: Any, days_ago: int, **kw: Any) -> Any:
    starts = utcnow().replace(microsecond=0) - timedelta(days=days_ago)
    return make_event(enquiry=enquiry, starts_at=starts, ends_at=starts + timedelta(hours=2), **kw)


def _sections(html: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for block in re.findall(r'<section class="section learning-section".*?</section>', html, re.S):
        heading = re.search(r"<h2[^>]*>(.*?)</h2>", block, re.S).group(1).strip()
        found[heading] = [t.strip() for t in re.findall(r'class="note__title">(.*?)</h3>', block)]
    return found


def test_notes_are_grouped_by_question_newest_first(
    client: Any, make_enquiry: Any, make_event: Any, make_note: Any
) -> None:
    enquiry = make_enquiry(slug="learning", questions=["Bid and pilot", "National bodies", "Flow"])
    bid, national, _flow = enquiry.questions
    older = _ended(make_event, enquiry, 30, title="Older session")
    newer = _ended(make_event, enquiry, 3, title="Newer session")
    make_note(older, title="Old on bidding", questions=[bid])
    make_note(newer, title="New on bidding and bodies", questions=[bid, national])
    make_note(newer, title="Untagged thoughts")
    make_note(newer, title="Kept private", visibility=NoteVisibility.PRIVATE, questions=[bid])
    make_note(newer, title="Attendees only", visibility=NoteVisibility.ATTENDEES)
    other = _ended(make_event, make_enquiry(), 3)
    make_note(other, title="Another enquiry's note")

    response = client.get("/enquiries/learning/learning")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _sections(html) == {
        "Bid and pilot": ["New on bidding and bodies", "Old on bidding"],
        "National bodies": ["New on bidding and bodies"],
        "Flow": [],
        "Other learning": ["Untagged thoughts"],
    }
    assert "Nothing published on this line of enquiry yet." in html
    # A note under two questions appears twice: each copy has its own id (valid HTML).
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert "Newer session" in html and "Older session" in html
    for hidden in ("Kept private", "Attendees only", "Another enquiry"):
        assert hidden not in html
    assert client.get("/enquiries/nope/learning").status_code == 404


def test_an_enquiry_with_nothing_published_says_so(client: Any, make_enquiry: Any) -> None:
    make_enquiry(slug="quiet")
    html = client.get("/enquiries/quiet/learning").get_data(as_text=True)
    assert "Nothing has been published yet" in html


def test_learning_page_costs_the_same_for_a_year_of_notes(
    client: Any, make_enquiry: Any, make_event: Any, make_note: Any
) -> None:
    enquiry = make_enquiry(slug="busy")
    make_note(_ended(make_event, enquiry, 5), questions=enquiry.questions[:1])
    db.session.expire_all()
    with count_queries() as few:
        assert client.get("/enquiries/busy/learning").status_code == 200
    for days in range(10, 60, 5):
        event = _ended(make_event, enquiry, days)
        make_note(event, questions=enquiry.questions[:2], tags="x, y")
        make_note(event)
    db.session.expire_all()
    with count_queries() as many:
        assert client.get("/enquiries/busy/learning").status_code == 200
    assert len(many) == len(few)


def test_home_page_links_to_the_learning_page(client: Any, make_enquiry: Any) -> None:
    make_enquiry(slug="home-enquiry")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/enquiries/home-enquiry/learning">What we are learning</a>' in html


def test_the_demo_enquiry_shows_its_learning(client: Any, app: Any) -> None:
    load_demo()
    db.session.commit()
    enquiry = db.session.scalar(select(Enquiry).where(Enquiry.slug == "total-place-2"))
    notes = db.session.scalars(select(Note)).all()
    assert notes and all(n.event.ends_at < utcnow() for n in notes)
    html = client.get(f"/enquiries/{enquiry.slug}/learning").get_data(as_text=True)
    sections = _sections(html)
    assert list(sections) == [q.title for q in enquiry.questions]
    public = [n for n in notes if n.visibility == NoteVisibility.PUBLIC]
    for note in public:
        for question in note.questions:
            assert note.title in sections[question.title]
    assert "What we heard at the opening exploration" in sections[enquiry.questions[0].title]
    for note in notes:
        if note.visibility != NoteVisibility.PUBLIC:
            assert note.title not in html
    # The demo's public notes are unattributed: no author appears.
    assert "Kwame Asante" not in html
