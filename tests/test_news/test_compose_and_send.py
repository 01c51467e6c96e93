"""Compose → preview → test → send through the pages, with the mail checked as aiosmtpd got it."""

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.extensions import db
from placeevents.news.jobs import run_sends
from placeevents.news.models import Newsletter, NewsletterStatus
from placeevents.newsletter.links import PREFERENCES, UNSUBSCRIBE
from placeevents.newsletter.services import subscriber_from_token
from tests.test_news.conftest import BODY


def _link(text: str, path: str) -> str:
    [found] = {link for link in re.findall(r"https?://\S+", text) if path in link}
    return found


def test_compose_preview_test_and_send(
    logged_in: FlaskClient, smtp: Any, reader: Any, make_subscriber: Any
) -> None:
    ada = reader(email="ada@example.org", name="Ada Lovelace")
    bob = reader(email="bob@example.org", name="Bob Brown")
    make_subscriber(email="events-only@example.org")  # did not choose news

    response = logged_in.post(
        "/manage/news/new", data={"subject": "Spring news", "body": BODY, "interests": ["news"]}
    )
    assert response.status_code == 303
    newsletter = db.session.scalars(select(Newsletter)).one()
    page = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Spring news" in page
    assert "it would go to <strong>2</strong> subscribers" in page
    # The plain-text preview is written text; the HTML preview is served for a sandboxed frame.
    assert "Our second exploration is in Leeds (https://example.org/leeds)." in page
    framed = logged_in.get(f"/manage/news/{newsletter.id}/preview.html")
    assert "<em>second</em>" in framed.get_data(as_text=True)
    assert "sandbox" in framed.headers["Content-Security-Policy"]

    response = logged_in.post(
        f"/manage/news/{newsletter.id}/send",
        data={"subject": "Spring news", "body": BODY, "interests": ["news"], "action": "test"},
    )
    assert response.status_code == 303
    test = smtp.last_to("organiser@example.org")
    assert test.subject == "[Test] Spring news"
    assert smtp.to("ada@example.org") == []

    response = logged_in.post(
        f"/manage/news/{newsletter.id}/send",
        data={"subject": "Spring news", "body": BODY, "interests": ["news"], "action": "send"},
    )
    assert response.status_code == 303
    db.session.refresh(newsletter)
    assert newsletter.status == NewsletterStatus.SCHEDULED  # handed to the send job
    assert run_sends().startswith("1 started")
    logged_in.get("/manage/news/")  # the test client delivers after each request, as the worker
    page = logged_in.get(f"/manage/news/{newsletter.id}").get_data(as_text=True)

    db.session.refresh(newsletter)
    assert newsletter.status == NewsletterStatus.SENT
    assert re.search(r"<dt>Queued</dt><dd>2</dd>\s*<dt>Sent</dt><dd>2</dd>", page)
    assert smtp.to("events-only@example.org") == []
    for person in (ada, bob):
        mail = smtp.last_to(person.email)
        assert mail.subject == "Spring news"
        header = re.fullmatch(
            r"<(http://localhost/newsletter/unsubscribe/([^>]+))>", mail.message["List-Unsubscribe"]
        )
        assert header is not None
        unsubscribe, token = header.groups()
        assert subscriber_from_token(purpose=UNSUBSCRIBE, token=token).id == person.id
        assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = mail.text()
        assert text.startswith(f"Hello {person.name},")
        assert "Our second exploration is in Leeds (https://example.org/leeds)." in text
        assert "<" not in text
        assert f"http://localhost/news/{newsletter.id}" in text
        preferences = _link(text, "/newsletter/preferences/")
        token = preferences.rsplit("/", 1)[1]
        assert subscriber_from_token(purpose=PREFERENCES, token=token).id == person.id
        assert unsubscribe in text
        html = mail.html()
        assert "View in your browser" in html and preferences in html
    assert smtp.last_to("ada@example.org").message_id != smtp.last_to("bob@example.org").message_id
