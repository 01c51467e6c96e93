"""Control characters never reach a mail header: refused or stripped where they are typed.

Stored, one in an event title answered every yes to that event with a 500, and one in a
pasted name stopped the whole invitation send (mail headers refuse control characters).
"""

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.events.models import Event
from placeevents.extensions import db
from placeevents.invitations.models import Invitation, RsvpAnswer
from tests.test_invitations.conftest import answer, path_of

EVENT_FORM = {
    "format": "in_person",
    "starts_at": "2030-05-14T10:00",
    "ends_at": "2030-05-14T12:30",
    "venue": "The Station",
    "access": "invitation",
}


def test_an_event_title_with_a_control_character_never_reaches_a_yes(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    enquiry = make_enquiry()
    created = logged_in.post(
        f"/manage/events/new?enquiry={enquiry.id}",
        data={**EVENT_FORM, "title": "Bid\x07 and pilot"},
    )
    assert created.status_code == 422
    assert "Remove line breaks and other control characters." in created.get_data(as_text=True)
    assert db.session.scalars(select(Event)).all() == []

    event = make_event(enquiry=enquiry, title="Bid and pilot")
    edited = logged_in.post(
        f"/manage/events/{event.id}/edit", data={**EVENT_FORM, "title": "Bid\x1b and pilot"}
    )
    assert edited.status_code == 422
    db.session.expire_all()
    assert event.title == "Bid and pilot"

    invitation = make_invitation(event=event, email="ada@example.org")
    assert answer(logged_in, invitation, "yes").status_code == 302
    assert invitation.rsvp.answer == RsvpAnswer.YES
    assert smtp.last_to("ada@example.org").subject == "You're coming: Bid and pilot"


def test_a_pasted_name_with_control_characters_is_invited_without_them(
    logged_in: FlaskClient, make_event: Any, smtp: Any
) -> None:
    event = make_event()
    pasted = "Ann\x07 Example <ann@example.org>\nBo\x1bb\tBuilder, bob@example.org\r\n"
    response = logged_in.post(
        f"/manage/invitations/events/{event.id}/invite",
        data={
            "subscribers": "none",
            "pasted": pasted,
            "subject": "Join us",
            "body": "Please come.\x0c",
            "action": "send",
            "confirmed": "y",
        },
    )
    assert response.status_code == 302
    names = {i.email: i.name for i in db.session.scalars(select(Invitation))}
    assert names == {"ann@example.org": "Ann Example", "bob@example.org": "Bob Builder"}
    assert str(smtp.last_to("ann@example.org").message["To"]) == (
        "Ann Example <ann@example.org>"
    )
    assert "Hello Bob Builder" in smtp.last_to("bob@example.org").text()
    progress = logged_in.get(path_of(response.headers["Location"])).get_data(as_text=True)
    assert "<dt>Sent</dt><dd>2</dd>" in progress


def test_a_subject_with_a_control_character_is_refused_beside_the_field(
    logged_in: FlaskClient, make_event: Any, smtp: Any
) -> None:
    event = make_event()
    response = logged_in.post(
        f"/manage/invitations/events/{event.id}/invite",
        data={
            "subscribers": "none",
            "pasted": "ann@example.org",
            "subject": "Join\x9b us",
            "body": "Please come.",
            "action": "send",
            "confirmed": "y",
        },
    )
    assert response.status_code == 422
    assert "Remove line breaks and other control characters." in response.get_data(as_text=True)
    assert db.session.scalars(select(Invitation)).all() == [] and smtp.messages == []
