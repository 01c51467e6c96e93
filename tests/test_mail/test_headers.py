"""Headers that mail systems expect, on the mail the app sends (delivered through real SMTP).

Every mail is marked as automatic, so autoresponders and out-of-office replies stay quiet; mail
sent to many alike is `Precedence: bulk`; list mail carries a List-Id; and every invitation or
answer reminder offers a one-click way out (RFC 8058), subscriber or not.
"""

from typing import Any

from flask.testing import FlaskClient

from placeevents.events.models import EventFormat
from placeevents.newsletter.services import is_do_not_invite
from tests.test_invitations.conftest import answer


def _invite(client: FlaskClient, event: Any, pasted: str) -> None:
    form = {
        "subscribers": "none",
        "subject": "Join us",
        "body": "Please come.",
        "pasted": pasted,
        "action": "send",
        "confirmed": "y",
    }
    response = client.post(f"/manage/invitations/events/{event.id}/invite", data=form)
    assert response.status_code == 302


def test_every_mail_is_marked_automatic_and_bulk_mail_as_bulk(
    logged_in: FlaskClient,
    client: FlaskClient,
    make_event: Any,
    make_invitation: Any,
    smtp: Any,
) -> None:
    event = make_event()
    _invite(logged_in, event, "guest@example.org")
    invitation_mail = smtp.last_to("guest@example.org")
    invitation = make_invitation(event=event, email="answers@example.org")
    answer(client, invitation, "yes")
    confirmation = smtp.last_to("answers@example.org")

    for mail in (invitation_mail, confirmation):
        assert mail.message["Auto-Submitted"] == "auto-generated"
        assert mail.message["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert invitation_mail.message["Precedence"] == "bulk"
    # A confirmation answers one person's own action: not bulk.
    assert "Precedence" not in confirmation.message


def test_list_mail_carries_a_list_id(
    logged_in: FlaskClient, make_event: Any, make_subscriber: Any, smtp: Any
) -> None:
    make_subscriber(email="sub@example.org")
    _invite(logged_in, make_event(), "sub@example.org")
    list_id = str(smtp.last_to("sub@example.org").message["List-Id"])
    assert list_id == '"The Leadership Centre" <mailing-list.placeevents.example>'


def test_one_click_from_an_invitation_to_someone_not_on_the_list_stops_invitations(
    app: Any, logged_in: FlaskClient, make_event: Any, smtp: Any
) -> None:
    _invite(logged_in, make_event(), "guest@example.org")
    mail = smtp.last_to("guest@example.org")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = str(mail.message["List-Unsubscribe"]).strip("<>")

    # What a mail provider sends for RFC 8058: a POST with no cookie, no Origin, no CSRF token.
    anonymous = app.test_client()
    response = anonymous.post(
        url.removeprefix("http://localhost"), data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code in (200, 302, 303)
    with app.app_context():
        assert is_do_not_invite("guest@example.org")


def test_a_hybrid_confirmation_says_where_this_person_is_going(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = make_event(format=EventFormat.HYBRID, venue="Town Hall", address="1 High Street")
    in_person = make_invitation(event=event, email="room@example.org")
    online = make_invitation(event=event, email="screen@example.org")
    answer(client, in_person, "yes", mode="in_person")
    answer(client, online, "yes", mode="online")

    assert "Town Hall, 1 High Street" in smtp.last_to("room@example.org").text()
    assert "or online" not in smtp.last_to("room@example.org").text()
    assert "Where: Online" in smtp.last_to("screen@example.org").text()
