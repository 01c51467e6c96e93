"""Every kind of mail the app sends, judged as it goes on the wire: headers that parse strictly,
the sender's name and the subject prefix from the settings, the headers mail systems expect of
automatic, bulk and list mail, and SpamAssassin's local rules scoring it at 1 or below."""

import email.policy
from collections.abc import Callable
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from placeevents.extensions import db
from placeevents.settings.services import current_settings, update_settings
from tests.conftest import require_tool
from tests.test_mail import spamassassin
from tests.test_mail.every_kind import every_kind_of_mail

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"
PREFIX = "[Total Place 2.0]"
# Mail sent to many alike, and so marked `Precedence: bulk`.
BULK = {"invitation", "reminder_answer", "reminder_event", "invitation_message", "note_share",
        "news", "event_changed"}  # fmt: skip
# Mail about the mailing list itself: the list's headers whoever it goes to.
LIST_MAIL = {"newsletter_confirm", "newsletter_already_subscribed", "newsletter_welcome", "news"}
# Invitations, reminders and newsletters offer a one-click way out (RFC 8058) to everyone.
ONE_CLICK = {"invitation", "reminder_answer", "reminder_event", "news", "event_changed"}


def _set_prefix() -> None:
    settings = current_settings()
    update_settings(**{
        **{name: getattr(settings, name) for name in settings.__dataclass_fields__},
        "subject_prefix": PREFIX,
    })  # fmt: skip


@pytest.fixture
def mails(make_app: Callable[..., Flask]) -> dict[str, EmailMessage]:
    """One message of every kind, with a subject prefix set, parsed with a strict policy."""
    app = make_app(
        PLACEEVENTS_BASE_URL="https://events.placeevents.org.uk",
        MAIL_DEFAULT_SENDER="Total Place 2.0 <enquiry@placeevents.org.uk>",
    )
    with app.app_context():
        _set_prefix()
        raw = {kind: row.raw for kind, row in every_kind_of_mail().items()}
        db.session.rollback()
    parser = BytesParser(policy=email.policy.strict)
    return {kind: parser.parsebytes(data) for kind, data in raw.items()}  # type: ignore[misc]


def test_every_kind_of_mail_is_built(mails: dict[str, Any]) -> None:
    templates = {p.name.removesuffix(".subject.txt") for p in TEMPLATES.glob("*.subject.txt")}
    assert set(mails) == templates


def test_every_kind_parses_strictly_and_carries_the_sender_and_the_prefix(
    mails: dict[str, EmailMessage],
) -> None:
    for kind, message in mails.items():
        assert not message.defects, (kind, message.defects)
        for name, value in message.items():
            assert not getattr(value, "defects", ()), (kind, name, value.defects)
        for name in ("From", "To", "Subject", "Date", "Message-ID"):
            assert message[name], (kind, name)
        [sender] = message["From"].addresses
        assert sender.display_name == "Total Place 2.0", kind
        subject = str(message["Subject"])
        assert subject.startswith(f"{PREFIX} ") and subject.count(PREFIX) == 1, (kind, subject)
        html = message.get_body(("html",))
        assert html is not None and message.get_body(("plain",)) is not None, kind
        # The HTML part's title is the subject as sent (filters score a different one).
        assert f"<title>{subject}</title>" in html.get_content().replace("&#39;", "'"), kind


def test_every_kind_carries_the_headers_mail_systems_expect(
    mails: dict[str, EmailMessage],
) -> None:
    for kind, message in mails.items():
        assert message["Auto-Submitted"] == "auto-generated", kind
        assert (message["Precedence"] == "bulk") == (kind in BULK), kind
        if kind in LIST_MAIL:
            assert message["List-Id"], kind
        if kind in ONE_CLICK:
            assert str(message["List-Unsubscribe"]).startswith("<https://"), kind
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", kind


def test_a_subject_that_already_starts_with_the_prefix_keeps_one(app: Flask) -> None:
    from placeevents.mail.outbox import build_message

    _set_prefix()
    once = build_message(to="a@example.org", subject=f"{PREFIX} Hello", text="Hi.")
    assert once["Subject"] == f"{PREFIX} Hello"
    added = build_message(to="a@example.org", subject="Hello", text="Hi.")
    assert added["Subject"] == f"{PREFIX} Hello"


def test_spamassassin_scores_every_kind_at_one_or_below(make_app: Callable[..., Flask]) -> None:
    require_tool(spamassassin.available(), "spamassassin")
    app = make_app(
        PLACEEVENTS_BASE_URL="https://events.placeevents.org.uk",
        MAIL_DEFAULT_SENDER="Total Place 2.0 <enquiry@placeevents.org.uk>",
    )
    with app.app_context():
        raw = {kind: row.raw for kind, row in every_kind_of_mail().items()}
        db.session.rollback()
    scores = spamassassin.score_all(raw)
    above = {s.kind: (s.score, [r[0] for r in s.rules]) for s in scores if s.score > 1.0}
    assert above == {}


def test_the_newsletter_preview_shows_the_subject_as_sent(
    logged_in: Any, organiser: Any
) -> None:
    from placeevents.news import services as news

    _set_prefix()
    newsletter = news.create_newsletter(
        data=news.NewsInput(subject="Spring news", body="Some news."), organiser=organiser
    )
    db.session.commit()
    page = logged_in.get(f"/manage/news/{newsletter.id}").get_data(as_text=True)
    assert f"<dd>{PREFIX} Spring news</dd>" in page
