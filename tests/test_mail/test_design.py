"""One mail design: every kind the journeys send shares the base layout, reads on a phone and
keeps the organiser's paragraphs (delivered through real SMTP, rendered in Chromium)."""

from typing import Any

import pytest
from flask.testing import FlaskClient

from placeevents.events.models import EventStatus
from tests.test_events import conftest as events_conftest
from tests.test_invitations.conftest import answer

PHONE = {"width": 375, "height": 740}
# The events tests' form data, as a fixture here too.
event_form = events_conftest.event_form


@pytest.fixture
def mails(
    client: FlaskClient,
    logged_in: FlaskClient,
    make_event: Any,
    make_invitation: Any,
    event_form: Any,
    smtp: Any,
) -> dict[str, Any]:
    """One delivered mail of each kind the guest and organiser journeys send, by kind."""
    client.post(
        "/newsletter/signup",
        data={"signup-name": "Ada Lovelace", "signup-email": "ada@example.org",
              "signup-wants_news": "y"},
    )  # fmt: skip
    event = make_event(status=EventStatus.PUBLISHED, capacity=1)
    # A browser sends CRLF between the paragraphs it was given.
    body = "First paragraph of the invitation.\r\n\r\nSecond paragraph, after a blank line."
    logged_in.post(
        f"/manage/invitations/events/{event.id}/invite",
        data={"subscribers": "none", "pasted": "grace@example.org", "subject": "Join us",
              "body": body, "action": "send", "confirmed": "y"},
    )  # fmt: skip
    coming = make_invitation(event, email="coming@example.org")
    waiting = make_invitation(event, email="waiting@example.org")
    answer(client, coming, "yes")
    answer(client, waiting, "yes")
    logged_in.post(
        f"/manage/events/{event.id}/edit",
        data=event_form(starts_at="2030-05-14T14:00", ends_at="2030-05-14T16:30", capacity="1"),
    )
    cancel = {"message": "Snowed in.\r\n\r\nSorry."}
    logged_in.post(f"/manage/events/{event.id}/cancel", data=cancel)
    kinds = {
        "signup confirmation": smtp.to("ada@example.org")[0],
        "invitation": smtp.to("grace@example.org")[0],
        "confirmation": smtp.to("coming@example.org")[0],
        "waiting list": smtp.to("waiting@example.org")[0],
        "calendar update": smtp.to("coming@example.org")[1],
        "change notice": smtp.to("waiting@example.org")[1],
        "calendar cancellation": smtp.to("coming@example.org")[-1],
        "cancellation notice": smtp.to("grace@example.org")[-1],
    }
    return kinds


def test_every_kind_of_mail_uses_the_one_design(mails: dict[str, Any]) -> None:
    assert len({mail.message_id for mail in mails.values()}) == len(mails)
    for kind, mail in mails.items():
        html = mail.html()
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html, kind
        assert "max-width: 600px" in html and "font-family: Arial, Helvetica, sans-serif" in html
        assert html.count("<html") == 1 and html.count("<body") == 1, kind
        assert mail.text().strip() and "<p>" not in mail.text(), kind


@pytest.mark.browser
def test_every_kind_of_mail_reads_on_a_phone(mails: dict[str, Any], page: Any) -> None:
    page.set_viewport_size(PHONE)
    for kind, mail in mails.items():
        page.set_content(mail.html())
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{kind} scrolls sideways: {width}px"
    page.set_content(mails["invitation"].html())
    paragraphs = page.locator("p").all_inner_texts()
    assert "First paragraph of the invitation." in paragraphs
    assert "Second paragraph, after a blank line." in paragraphs
    page.set_content(mails["cancellation notice"].html())
    assert {"Snowed in.", "Sorry."} <= set(page.locator("p").all_inner_texts())


def test_every_mail_template_extends_the_one_base() -> None:
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "templates" / "email"
    layouts = {'{% extends "email/_base.html" %}', '{% extends "email/invitation_layout.html" %}'}
    mails = [p for p in folder.glob("*.html") if (folder / f"{p.stem}.subject.txt").exists()]
    assert len(mails) > 20
    for path in mails:
        assert path.read_text().splitlines()[0] in layouts, path.name
