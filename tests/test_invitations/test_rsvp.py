"""The invitee's personal RSVP page: answering, changing, links, GET/HEAD safety."""

from datetime import timedelta
from html import unescape
from typing import Any

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placeevents.clock import utcnow
from placeevents.events.models import EventAccess, EventFormat
from placeevents.extensions import db
from placeevents.invitations.links import STOP_PURPOSE, rsvp_token, stop_token
from placeevents.invitations.models import (
    AttendanceMode,
    Invitation,
    InvitationSource,
    Rsvp,
    RsvpAnswer,
)
from placeevents.mail.models import OutboxMessage
from placeevents.newsletter.models import DoNotInvite
from placeevents.tokens import make_token
from tests.test_invitations.conftest import answer, links_to, path_of, rsvp_path


def text(response: Any) -> str:
    """A page's text with HTML entities decoded."""
    return unescape(response.get_data(as_text=True))


def _rsvp(invitation: Invitation) -> Rsvp | None:
    db.session.expire_all()
    return db.session.scalar(select(Rsvp).where(Rsvp.invitation_id == invitation.id))


def _outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_the_page_shows_the_event_and_whose_invitation_it_is(
    client: FlaskClient, make_invitation: Any, make_event: Any
) -> None:
    event = make_event(title="Bid and pilot", venue="Leeds Civic Hall", hosts="A. Host")
    invitation = make_invitation(event=event, name="Ada Person")
    response = client.get(rsvp_path(invitation))
    html = text(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Bid and pilot" in html and "Leeds Civic Hall" in html and "A. Host" in html
    assert "Invitation for Ada Person" in html
    assert "not you?" not in html  # invitation-only event
    for label in (
        "Yes, I'll come",
        "Maybe",
        "No, I can't come",
        "send me the session notes",
    ):
        assert label in html
    assert "Any access needs" in html and "The question you bring" in html


def test_open_events_offer_to_request_your_own(
    client: FlaskClient, make_invitation: Any, make_event: Any
) -> None:
    event = make_event(access=EventAccess.OPEN)
    invitation = make_invitation(event=event, name="Ada Person")
    html = text(client.get(rsvp_path(invitation)))
    assert "Invitation for Ada Person — not you?" in html
    assert f"/events/{event.slug}/request-place" in html


def test_get_and_head_change_nothing(client: FlaskClient, make_invitation: Any) -> None:
    invitation = make_invitation()
    for method in ("GET", "HEAD"):
        for path in (
            rsvp_path(invitation),
            f"/invitations/stop/{stop_token(invitation)}",
        ):
            response = client.open(path, method=method)
            assert response.status_code == 200, (method, path)
            assert response.headers["Cache-Control"] == "no-store"
    assert _rsvp(invitation) is None
    assert _outbox_count() == 0
    assert db.session.scalar(select(func.count()).select_from(DoNotInvite)) == 0
    assert invitation.event.places_taken == 0


def test_yes_takes_a_place_and_mails_a_confirmation(
    client: FlaskClient, make_invitation: Any, make_event: Any, smtp: Any
) -> None:
    event = make_event(capacity=5)
    invitation = make_invitation(event=event, email="ada@example.org", name="Ada Person")
    response = answer(
        client, invitation, "yes", access_needs="Step-free access", question="How do we scale?"
    )
    assert response.status_code == 302
    rsvp = _rsvp(invitation)
    assert rsvp is not None and rsvp.answer == RsvpAnswer.YES
    assert rsvp.mode == AttendanceMode.IN_PERSON
    assert rsvp.access_needs == "Step-free access" and rsvp.question == "How do we scale?"
    assert rsvp.set_by_organiser_id is None
    assert invitation.event.places_taken == 1

    mail = smtp.last_to("ada@example.org")
    assert mail.subject == f"You're coming: {event.title}"
    body = mail.text()
    assert "booked in person" in body
    assert "place to change your answer" in body
    assert any(links_to(link, invitation) for link in mail.links())
    page = text(client.get(response.headers["Location"]))
    assert "You're coming in person" in page
    assert "Thank you: your place is confirmed" in page


def test_updating_only_ones_details_does_not_resend_the_confirmation(
    client: FlaskClient, make_invitation: Any, make_event: Any, smtp: Any
) -> None:
    event = make_event(capacity=5, format=EventFormat.HYBRID, join_url="https://meet.example.org")
    invitation = make_invitation(event=event, email="ada@example.org")
    answer(client, invitation, "yes", mode="in_person")
    assert len(smtp.to("ada@example.org")) == 1

    response = answer(client, invitation, "yes", mode="in_person", access_needs="A hearing loop")
    assert _rsvp(invitation).access_needs == "A hearing loop"
    assert len(smtp.to("ada@example.org")) == 1
    page = text(client.get(response.headers["Location"]))
    assert "your details are updated, and your place is unchanged" in page
    assert invitation.event.places_taken == 1

    # Changing how one comes is a new confirmation, with its own calendar entry.
    answer(client, invitation, "yes", mode="online", access_needs="A hearing loop")
    assert len(smtp.to("ada@example.org")) == 2
    assert "online" in smtp.last_to("ada@example.org").text()


def test_changing_to_no_frees_the_place_and_maybe_holds_none(
    client: FlaskClient, make_invitation: Any, make_event: Any
) -> None:
    event = make_event(capacity=2)
    invitation = make_invitation(event=event)
    answer(client, invitation, "yes")
    assert invitation.event.places_taken == 1
    answer(client, invitation, "maybe")
    db.session.expire_all()
    assert _rsvp(invitation).answer == RsvpAnswer.MAYBE
    assert invitation.event.places_taken == 0
    answer(client, invitation, "yes")
    answer(client, invitation, "no_notes")
    rsvp = _rsvp(invitation)
    assert rsvp.answer == RsvpAnswer.NO and rsvp.wants_notes
    assert rsvp.access_needs == "" and rsvp.mode is None
    assert invitation.event.places_taken == 0
    assert db.session.scalar(select(func.count()).select_from(Rsvp)) == 1


def test_hybrid_asks_how_and_only_online_attendees_see_the_join_link(
    client: FlaskClient, make_invitation: Any, make_event: Any, smtp: Any
) -> None:
    event = make_event(
        format=EventFormat.HYBRID, capacity=1, join_url="https://meet.example.org/xyz"
    )
    invitation = make_invitation(event=event, email="hy@example.org")
    html = text(client.get(rsvp_path(invitation)))
    assert "How will you take part?" in html and "meet.example.org" not in html

    missing = answer(client, invitation, "yes")
    assert missing.status_code == 422
    assert "Choose whether you will come in person or join online." in text(missing)
    assert _rsvp(invitation) is None

    answer(client, invitation, "yes", mode="in_person")
    assert "meet.example.org" not in text(client.get(rsvp_path(invitation)))
    assert "meet.example.org" not in smtp.last_to("hy@example.org").text()
    assert invitation.event.places_taken == 1

    answer(client, invitation, "yes", mode="online")
    db.session.expire_all()
    assert invitation.event.places_taken == 0
    html = text(client.get(rsvp_path(invitation)))
    assert "https://meet.example.org/xyz" in html
    assert "https://meet.example.org/xyz" in smtp.last_to("hy@example.org").text()

    public = text(client.get(f"/events/{event.slug}"))
    assert "meet.example.org" not in public


def test_the_deadline_closes_changes_but_a_confirmed_person_can_say_no(
    client: FlaskClient, make_invitation: Any, make_event: Any
) -> None:
    event = make_event(capacity=3, rsvp_deadline=utcnow() + timedelta(days=1))
    confirmed = make_invitation(event=event)
    undecided = make_invitation(event=event)
    answer(client, confirmed, "yes")
    answer(client, undecided, "maybe")
    with time_machine.travel(utcnow() + timedelta(days=2), tick=False):
        late = answer(client, undecided, "yes")
        assert late.status_code == 422
        assert "The deadline for answers has passed" in text(late)
        assert _rsvp(undecided).answer == RsvpAnswer.MAYBE
        page = text(client.get(rsvp_path(confirmed)))
        assert "Can't come after all?" in page and "Yes, I'll come" not in page
        assert answer(client, confirmed, "no").status_code == 302
        assert _rsvp(confirmed).answer == RsvpAnswer.NO
        assert confirmed.event.places_taken == 0


def test_a_token_reaches_only_its_own_invitation(
    client: FlaskClient, make_invitation: Any, make_event: Any
) -> None:
    event = make_event()
    mine = make_invitation(event=event, name="Mine Person")
    theirs = make_invitation(event=event, name="Their Person")
    html = text(client.get(rsvp_path(mine)))
    assert "Mine Person" in html and "Their Person" not in html

    forged = [
        make_token("rsvp", theirs.id, mine.token_nonce),  # my nonce, their row
        make_token(STOP_PURPOSE, mine.id, mine.token_nonce),  # another purpose
        rsvp_token(mine)[:-3] + "abc",  # tampered signature
        "not-a-token",
    ]
    for token in forged:
        response = client.get(f"/rsvp/{token}")
        assert response.status_code == 404, token
        body = text(response)
        assert "This link does not work" in body and "Send me a fresh link" in body
        assert client.post(f"/rsvp/{token}", data={"answer": "yes"}).status_code == 404
    assert _rsvp(theirs) is None and _rsvp(mine) is None

    # Rotating the nonce kills old links.
    old = rsvp_path(mine)
    mine.token_nonce = "rotated"
    db.session.commit()
    assert client.get(old).status_code == 404


def test_links_expire_thirty_days_after_the_event_and_a_fresh_link_can_be_asked_for(
    client: FlaskClient, make_invitation: Any, make_event: Any, smtp: Any
) -> None:
    event = make_event()
    invitation = make_invitation(event=event, email="late@example.org")
    path = rsvp_path(invitation)
    with time_machine.travel(event.ends_at + timedelta(days=29), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(event.ends_at + timedelta(days=31), tick=False):
        expired = client.get(path)
        assert expired.status_code == 410
        assert "This link has expired" in text(expired)
        assert expired.headers["Cache-Control"] == "no-store"

    # A fresh link for a still-reachable invitation; the same answer for unknown addresses.
    sent = client.post("/rsvp/fresh-link", data={"email": "Late@Example.org"})
    unknown = client.post("/rsvp/fresh-link", data={"email": "nobody@example.org"})
    assert sent.status_code == unknown.status_code == 200
    assert text(sent) == text(unknown)
    assert smtp.to("nobody@example.org") == []
    mail = smtp.last_to("late@example.org")
    assert any(links_to(link, invitation) for link in mail.links())
    bad = client.post("/rsvp/fresh-link", data={"email": "not an address"})
    assert bad.status_code == 422 and "Enter a valid email address." in text(bad)


def test_do_not_invite_is_a_button_not_a_link(client: FlaskClient, make_invitation: Any) -> None:
    invitation = make_invitation(email="Quiet@Example.org")
    path = f"/invitations/stop/{stop_token(invitation)}"
    page = client.get(path)
    assert "Stop sending me invitations" in text(page)
    assert db.session.scalar(select(func.count()).select_from(DoNotInvite)) == 0
    assert client.post(path).status_code == 302
    assert client.post(path).status_code == 302  # twice is harmless
    emails = db.session.scalars(select(DoNotInvite.email)).all()
    assert emails == ["quiet@example.org"]
    assert "we will not send invitations" in text(client.get(path))
    # The RSVP token is not a stop token.
    assert client.post(f"/invitations/stop/{rsvp_token(invitation)}").status_code == 404


def test_request_a_place_books_at_once_and_mails_the_personal_page(
    client: FlaskClient, make_event: Any, smtp: Any
) -> None:
    event = make_event(access=EventAccess.OPEN, capacity=10)
    form = text(client.get(f"/events/{event.slug}/request-place"))
    assert "Request a place" in form and 'for="email"' in form

    first = client.post(
        f"/events/{event.slug}/request-place",
        data={"name": "Rita Request", "email": "Rita@Example.org"},
    )
    again = client.post(
        f"/events/{event.slug}/request-place",
        data={"name": "Someone Else", "email": "rita@example.org"},
    )
    assert first.status_code == again.status_code == 200
    assert "You're coming" in text(first)
    assert "We have sent the details to that address" in text(again)
    invitations = db.session.scalars(select(Invitation)).all()
    assert len(invitations) == 1
    assert invitations[0].source == InvitationSource.REQUEST
    assert invitations[0].name == "Rita Request" and invitations[0].email == "rita@example.org"
    assert _rsvp(invitations[0]).answer == RsvpAnswer.YES  # booked without a round trip

    confirmation, link_again = smtp.to("rita@example.org")
    assert confirmation.subject.startswith("You're coming")
    link = path_of(link_again.links()[0])
    assert links_to(link_again.links()[0], invitations[0])
    page = text(client.get(link))
    assert "Invitation for Rita Request" in page and "You're coming in person." in page
    assert client.post(link, data={"answer": "no"}).status_code == 302
    assert _rsvp(invitations[0]).answer == RsvpAnswer.NO


def test_request_a_place_checks_the_form_and_the_event(
    client: FlaskClient, make_event: Any
) -> None:
    open_event = make_event(access=EventAccess.OPEN)
    bad = client.post(
        f"/events/{open_event.slug}/request-place", data={"name": "", "email": "nope"}
    )
    assert bad.status_code == 422
    assert "Enter a valid email address." in text(bad)
    closed = make_event(access=EventAccess.INVITATION)
    refused = client.post(
        f"/events/{closed.slug}/request-place", data={"name": "A", "email": "a@example.org"}
    )
    assert refused.status_code == 422
    assert "This event is by invitation only" in text(refused)
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0
