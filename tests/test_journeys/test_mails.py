"""Journey 6, the mails: each kind's HTML part, rendered in Chromium at 375 px, does not scroll
sideways and keeps its paragraphs apart. The kinds tests/test_mail/test_design.py delivers are
reused (its `mails` fixture), with the kinds it does not send added here."""

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.mail.delivery import deliver_due
from placeevents.notes.models import Note, NoteVisibility
from tests.test_journeys.checks import PHONE
from tests.test_mail.test_design import event_form, mails  # noqa: F401 - fixtures reused

PARAGRAPHS = "First paragraph of the message.\r\n\r\nSecond paragraph, after a blank line."


@pytest.fixture
def every_mail(
    mails: dict[str, Any],  # noqa: F811 - the design test's fixture
    client: FlaskClient,
    logged_in: FlaskClient,
    make_event: Any,
    make_invitation: Any,
    smtp: Any,
) -> dict[str, Any]:
    """The design test's mails and the rest: welcome, offer, message, reminder, notes."""
    kinds = dict(mails)
    confirm = mails["signup confirmation"].links()[0]
    client.post(confirm.replace("http://localhost", ""))
    kinds["welcome"] = smtp.last_to("ada@example.org")

    full = make_event(capacity=1, title="A full room")
    make_invitation(full, answer="yes", email="in@example.org")
    make_invitation(full, answer="offered", email="offered@example.org")
    deliver_due()
    kinds["waiting list offer"] = smtp.last_to("offered@example.org")
    logged_in.post(
        f"/manage/invitations/events/{full.id}/message",
        data={"audience": "everyone", "subject": "Before we meet", "body": PARAGRAPHS,
              "action": "send", "confirmed": "y"},
    )  # fmt: skip
    kinds["message to attendees"] = smtp.last_to("in@example.org")
    quiet = make_invitation(full, email="quiet@example.org")
    logged_in.post(f"/manage/invitations/events/{full.id}/remind", data={"invitations": quiet.id})
    kinds["answer reminder"] = smtp.last_to("quiet@example.org")

    start = utcnow() - timedelta(days=3)
    past = make_event(starts_at=start, ends_at=start + timedelta(hours=2))
    make_invitation(past, attended=True, email="came@example.org")
    db.session.add(Note(event=past, title="What we heard", body=PARAGRAPHS.replace("\r", ""),
                        visibility=NoteVisibility.ATTENDEES))  # fmt: skip
    db.session.commit()
    logged_in.post(f"/manage/notes/events/{past.id}/share")
    deliver_due()
    kinds["session notes"] = smtp.last_to("came@example.org")
    assert len({mail.message_id for mail in kinds.values()}) == len(kinds), sorted(kinds)
    return kinds


@pytest.mark.browser
def test_every_kind_of_mail_reads_on_a_phone_paragraph_by_paragraph(
    every_mail: dict[str, Any], page: Any
) -> None:
    page.set_viewport_size(PHONE)
    for kind, mail in every_mail.items():
        page.set_content(mail.html())
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{kind} scrolls sideways: {width}px"
        paragraphs = [p.strip() for p in page.locator("p").all_inner_texts() if p.strip()]
        assert len(paragraphs) >= 2, f"{kind}: {paragraphs}"
        # The greeting is a paragraph of its own, not run into what follows.
        greeting = mail.text().replace("\r\n", "\n").strip().split("\n\n")[0].strip()
        if greeting.startswith(("Hello", "Dear")):
            assert greeting in paragraphs, f"{kind}: {greeting!r} not alone in {paragraphs[:3]}"
    for kind in ("message to attendees", "session notes"):
        page.set_content(every_mail[kind].html())
        shown = page.locator("p").all_inner_texts()
        assert "First paragraph of the message." in shown, kind
        assert "Second paragraph, after a blank line." in shown, kind
