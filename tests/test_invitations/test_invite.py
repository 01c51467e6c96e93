"""Inviting: each kind of recipient list, skips and duplicates, preview, test send, progress."""

import re
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.events.models import EventFormat
from placeevents.extensions import db
from placeevents.invitations.models import EventMailing, Invitation, InvitationSource
from placeevents.mail.bounces import record_bounce
from placeevents.newsletter.models import DoNotInvite, SubscriberStatus, Suppression
from placeevents.newsletter.services import suppression_hash
from tests.test_invitations.conftest import path_of

SUBJECT = "Join us in Leeds"
BODY = "We would love you to come.\n\nBring a colleague's question."


def _invite(client: FlaskClient, event: Any, action: str = "send", **data: Any) -> Any:
    # A send here is the confirmed one: the page asking "Send N invitations?" is tested apart.
    form = {"subscribers": "none", "subject": SUBJECT, "body": BODY, "action": action,
            "confirmed": "y", **data}  # fmt: skip
    return client.post(f"/manage/invitations/events/{event.id}/invite", data=form)


def _invited(event: Any) -> dict[str, InvitationSource]:
    db.session.expire_all()
    rows = db.session.scalars(select(Invitation).where(Invitation.event_id == event.id))
    return {i.email: i.source for i in rows}


def test_the_form_starts_with_a_sensible_invitation(
    logged_in: FlaskClient, make_event: Any
) -> None:
    event = make_event(title="Bid and pilot")
    html = logged_in.get(f"/manage/invitations/events/{event.id}/invite").get_data(as_text=True)
    assert "Invitation: Bid and pilot" in html
    assert "We would like to invite you to this event:\n\nBid and pilot\n\n" in html
    for label in ("Preview", "Send a test to me", "Send invitations"):
        assert label in html


def test_sending_shows_the_counts_per_source_and_asks_first(
    logged_in: FlaskClient, make_event: Any, make_subscriber: Any, smtp: Any
) -> None:
    event = make_event()
    make_subscriber(email="sub@example.org")
    make_subscriber(email="both@example.org")
    record_bounce(email="gone@example.org", reason="550 no such user")
    db.session.commit()
    pasted = "both@example.org\nnew@example.org\ngone@example.org"
    data = {"subscribers": "all", "pasted": pasted, "subject": SUBJECT, "body": BODY}
    url = f"/manage/invitations/events/{event.id}/invite"

    asked = logged_in.post(url, data={**data, "action": "send"})
    assert asked.status_code == 200
    html = asked.get_data(as_text=True)
    # Counted by source (a person once, under the first that reached them), exclusions too.
    assert re.search(r"<th scope=\"row\">Subscribers</th><td>2</td>", html)
    assert re.search(r"<th scope=\"row\">Pasted addresses</th><td>1</td>", html)
    assert re.search(r"<th scope=\"row\">Bounced before</th><td>1</td>", html)
    assert "Send 3 invitations?" in html and ">Yes, send 3 invitations</button>" in html
    assert html.index("What they get") < html.index("Preview") < html.index("Yes, send 3")
    assert _invited(event) == {} and smtp.messages == []

    # "No, change something" is a preview: it does not carry the confirmation with it.
    changed = logged_in.post(url, data={**data, "action": "preview", "confirmed": "y"})
    assert 'name="confirmed" type="hidden" value=""' in changed.get_data(as_text=True)
    assert _invited(event) == {}

    sent = logged_in.post(url, data={**data, "action": "send", "confirmed": "y"})
    assert sent.status_code == 302
    assert set(_invited(event)) == {"sub@example.org", "both@example.org", "new@example.org"}
    assert len(smtp.messages) == 3


def test_inviting_subscribers_by_interest_through_smtp(
    logged_in: FlaskClient, make_event: Any, make_subscriber: Any, smtp: Any
) -> None:
    event = make_event(format=EventFormat.ONLINE, join_url="https://meet.example/x")
    make_subscriber(email="online@example.org", name="Olu Online", wants_in_person=False)
    make_subscriber(email="room@example.org", wants_online=False)
    make_subscriber(email="pending@example.org", status=SubscriberStatus.PENDING)
    response = _invite(logged_in, event, subscribers="interest")
    assert response.status_code == 302
    assert _invited(event) == {"online@example.org": InvitationSource.SUBSCRIBER}

    mail = smtp.last_to("online@example.org")
    assert mail.subject == SUBJECT
    body = mail.text()
    assert "Hello Olu Online" in body and "Bring a colleague's question." in body
    assert "Where: Online" in body and "meet.example" not in body
    links = [path_of(link) for link in mail.links()]
    assert links[0].startswith("/rsvp/") and links[1].startswith("/invitations/stop/")
    page = logged_in.get(links[0]).get_data(as_text=True)
    assert "Invitation for Olu Online" in page

    progress = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "<dt>Queued</dt><dd>1</dd>" in progress and "<dt>Sent</dt><dd>1</dd>" in progress


def test_inviting_all_subscribers_and_past_attendees_and_pasted_addresses(
    logged_in: FlaskClient,
    make_event: Any,
    make_enquiry: Any,
    make_subscriber: Any,
    make_invitation: Any,
    smtp: Any,
) -> None:
    enquiry = make_enquiry()
    event = make_event(enquiry=enquiry)
    earlier = make_event(enquiry=enquiry, starts_at=event.starts_at - timedelta(days=60))
    elsewhere = make_event(starts_at=event.starts_at - timedelta(days=60))
    for past, email, attended in (
        (earlier, "came@example.org", True),
        (earlier, "stayed-away@example.org", False),
        (elsewhere, "other-enquiry@example.org", True),
    ):
        make_invitation(past, answer="yes", attended=attended, email=email, name="")
    make_subscriber(email="sub@example.org", wants_in_person=False, wants_online=False)

    response = _invite(
        logged_in,
        event,
        subscribers="all",
        past_events=str(earlier.id),
        pasted="Pat Pasted, PAT@example.org\nsub@example.org\n\nplain@example.org",
    )
    assert response.status_code == 302
    assert _invited(event) == {
        "sub@example.org": InvitationSource.SUBSCRIBER,
        "came@example.org": InvitationSource.ATTENDEE,
        "pat@example.org": InvitationSource.PASTED,
        "plain@example.org": InvitationSource.PASTED,
    }
    names = {i.email: i.name for i in db.session.scalars(select(Invitation))}
    assert names["pat@example.org"] == "Pat Pasted"
    for email in ("sub@example.org", "came@example.org", "pat@example.org", "plain@example.org"):
        assert len(smtp.to(email)) == 1
    # Pasted invitees get the same mail without the list's headers: their one click stops
    # invitations instead of leaving a list they are not on.
    pasted = smtp.last_to("pat@example.org").message
    assert "List-Id" not in pasted
    assert "/invitations/stop/" in str(pasted["List-Unsubscribe"])


def test_skipped_addresses_are_counted_and_nobody_is_invited_twice(
    logged_in: FlaskClient, make_event: Any, smtp: Any
) -> None:
    event = make_event()
    record_bounce(email="bounced@example.org", reason="550 no such user")
    db.session.add(DoNotInvite(email="quiet@example.org"))
    db.session.add(Suppression(email_hash=suppression_hash("erased@example.org"), reason="erased"))
    db.session.commit()
    pasted = "\n".join(
        ["bounced@example.org", "Quiet@example.org", "erased@example.org", "ok@example.org"]
    )
    response = _invite(logged_in, event, pasted=pasted)
    assert response.status_code == 302
    assert set(_invited(event)) == {"ok@example.org"}
    mailing = db.session.scalars(select(EventMailing)).one()
    assert (mailing.recipients, mailing.skipped_bounced) == (1, 1)
    assert (mailing.skipped_do_not_invite, mailing.skipped_erased) == (1, 1)
    progress = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 bounced, 1 erased, 1 asked not to be invited" in progress

    again = _invite(logged_in, event, pasted="ok@example.org\nnew@example.org")
    assert again.status_code == 302
    assert set(_invited(event)) == {"ok@example.org", "new@example.org"}
    assert len(smtp.to("ok@example.org")) == 1
    last = db.session.scalars(select(EventMailing).order_by(EventMailing.id.desc())).first()
    assert last.already_invited == 1 and last.recipients == 1


def test_pasted_errors_are_listed_per_line_and_nothing_is_stored(
    logged_in: FlaskClient, make_event: Any
) -> None:
    event = make_event()
    response = _invite(logged_in, event, pasted="good@example.org\nnot-an-address\nA, b@")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Line 2: “not-an-address” is not an email address." in html
    assert "Line 3: “A, b@” is not an email address." in html
    assert _invited(event) == {}
    empty = _invite(logged_in, event)
    assert empty.status_code == 422
    assert "Choose at least one group of people, or paste addresses." in empty.get_data(
        as_text=True
    )


def test_preview_shows_what_one_person_gets_and_stores_nothing(
    logged_in: FlaskClient, make_event: Any, smtp: Any
) -> None:
    event = make_event()
    response = _invite(logged_in, event, action="preview", pasted="Ann Preview, ann@example.org")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "What Ann Preview will get" in html and "Hello Ann Preview," in html
    assert "<th scope=\"row\">Will be invited</th><td>1</td>" in html
    assert _invited(event) == {} and smtp.messages == []


def test_send_a_test_to_yourself(
    logged_in: FlaskClient, make_event: Any, organiser: Any, smtp: Any
) -> None:
    event = make_event()
    response = _invite(logged_in, event, action="test", pasted="someone@example.org")
    assert response.status_code == 200
    mail = smtp.last_to("organiser@example.org")
    assert mail.subject == f"[Test] {SUBJECT}"
    assert "This is a test." in mail.text()
    assert [path_of(link) for link in mail.links()][-1] == f"/events/{event.slug}"
    assert _invited(event) == {} and smtp.to("someone@example.org") == []


def test_addresses_pasted_as_mail_programs_copy_them_are_invited_with_their_names(
    logged_in: FlaskClient, make_event: Any, smtp: Any
) -> None:
    event = make_event()
    pasted = "\n".join(
        [
            "Ann Able <ANN@example.org>",
            '"Bob, Jr" <bob@example.org>',
            "Cat Cole, cat@example.org",
            "<dan@example.org>",
        ]
    )
    response = _invite(logged_in, event, pasted=pasted)
    assert response.status_code == 302
    names = {
        i.email: i.name
        for i in db.session.scalars(select(Invitation).where(Invitation.event_id == event.id))
    }
    assert names == {
        "ann@example.org": "Ann Able",
        "bob@example.org": "Bob, Jr",
        "cat@example.org": "Cat Cole",
        "dan@example.org": "",
    }
    assert "Hello Ann Able," in smtp.last_to("ann@example.org").text()
    bad = _invite(logged_in, event, pasted="Eve <not an address>")
    assert bad.status_code == 422
    assert "Line 1: “Eve &lt;not an address&gt;” is not an email address." in bad.get_data(
        as_text=True
    )


def test_typed_paragraphs_reach_the_mail_as_the_preview_showed_them(
    logged_in: FlaskClient, make_event: Any, smtp: Any
) -> None:
    """Browsers send CRLF: the text's two paragraphs are two paragraphs in the preview (the
    text part, a blank line apart), in the text part sent and in the HTML part sent."""
    event = make_event()
    body = "First paragraph, typed.\r\n\r\nSecond paragraph,\r\non two lines."
    preview = _invite(
        logged_in, event, action="preview", pasted="ann@example.org", body=body
    ).get_data(as_text=True)
    assert _invite(logged_in, event, pasted="ann@example.org", body=body).status_code == 302
    mail = smtp.wait_for("ann@example.org")

    def between(text: str) -> str:
        return text[text.index("First paragraph, typed.") : text.index("Second paragraph,")]

    shown = preview[preview.index('<pre class="mail-preview">') :]
    # (The text part travels with CRLF line ends, as SMTP requires.)
    sent_text = mail.text().replace("\r\n", "\n")
    assert between(shown) == between(sent_text) == "First paragraph, typed.\n\n"
    html = between(mail.html())
    assert "</p>" in html and "<p" in html, html
