"""Every invitations mail to a confirmed subscriber carries the list headers and footer links."""

from datetime import timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient

from placeevents.clock import utcnow
from placeevents.jobs import load_jobs, run_due_jobs
from placeevents.mail.delivery import deliver_due
from placeevents.newsletter.models import SubscriberStatus
from tests.test_invitations.conftest import answer, path_of


def _invite_pasted(client: FlaskClient, event: Any, pasted: str) -> Any:
    form = {
        "subscribers": "none",
        "subject": "Join us",
        "body": "Please come.",
        "pasted": pasted,
        "action": "send",
        "confirmed": "y",
    }
    return client.post(f"/manage/invitations/events/{event.id}/invite", data=form)


def _has_list_extras(client: FlaskClient, delivered: Any) -> bool:
    message = delivered.message
    if message["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click":
        return False
    unsubscribe = str(message["List-Unsubscribe"]).strip("<>")
    preferences = [u for u in delivered.links() if "/newsletter/preferences/" in u]
    html_has_link = all(u in delivered.html() for u in preferences)
    # The footer link opens the subscriber's own preferences page.
    page = client.get(path_of(preferences[0])) if preferences else None
    return (
        unsubscribe.startswith("http://localhost/newsletter/unsubscribe/")
        and page is not None
        and page.status_code == 200
        and html_has_link
    )


def test_a_pasted_address_of_a_confirmed_subscriber_gets_the_list_headers_and_footer(
    logged_in: FlaskClient, make_event: Any, make_subscriber: Any, smtp: Any
) -> None:
    make_subscriber(email="sub@example.org", name="Sue Subscriber")
    make_subscriber(email="pending@example.org", status=SubscriberStatus.PENDING)
    event = make_event()
    pasted = "Sue, SUB@example.org\nplain@example.org\npending@example.org"
    assert _invite_pasted(logged_in, event, pasted).status_code == 302

    assert _has_list_extras(logged_in, smtp.last_to("sub@example.org"))
    assert "mailing list preferences" in smtp.last_to("sub@example.org").text()
    for email in ("plain@example.org", "pending@example.org"):
        mail = smtp.last_to(email)
        # Not on the list: the one-click header stops invitations instead (RFC 8058).
        assert str(mail.message["List-Unsubscribe"]).startswith(
            "<http://localhost/invitations/stop/"
        )
        assert "List-Id" not in mail.message
        assert "mailing list" not in mail.text() and "mailing list" not in mail.html()
        assert "Don't send me invitations" in mail.text()


def test_answers_reminders_and_messages_to_a_subscriber_carry_the_list_extras(
    logged_in: FlaskClient,
    client: FlaskClient,
    make_event: Any,
    make_invitation: Any,
    make_subscriber: Any,
    smtp: Any,
) -> None:
    make_subscriber(email="sub@example.org")
    start = utcnow().replace(microsecond=0) + timedelta(days=10)
    event = make_event(starts_at=start, reminder_lead_hours=24, capacity=1)
    sub = make_invitation(event=event, email="sub@example.org")
    other = make_invitation(event=event, email="other@example.org")
    make_invitation(event=event, email="unsure@example.org")

    logged_in.post(f"/manage/invitations/events/{event.id}/remind", data={"invitations": [sub.id]})
    reminder = smtp.last_to("sub@example.org")
    assert reminder.subject.startswith("Reminder")
    assert _has_list_extras(logged_in, reminder)

    answer(client, other, "yes")
    answer(client, sub, "yes")
    waitlisted = smtp.last_to("sub@example.org")
    assert waitlisted.subject.startswith("You're on the waiting list")
    assert _has_list_extras(logged_in, waitlisted)
    answer(client, other, "no", give_up_place="y")
    promoted = smtp.last_to("sub@example.org")
    assert promoted.subject.startswith("A place has come up")
    assert _has_list_extras(logged_in, promoted)
    assert "List-Unsubscribe" not in smtp.last_to("other@example.org").message

    logged_in.post(
        f"/manage/invitations/events/{event.id}/message",
        data={
            "audience": "everyone",
            "subject": "Parking",
            "body": "Use the back gate.",
            "action": "send",
        },
    )
    assert smtp.last_to("sub@example.org").subject == "Parking"
    assert _has_list_extras(logged_in, smtp.last_to("sub@example.org"))
    assert "List-Unsubscribe" not in smtp.last_to("unsure@example.org").message

    load_jobs()
    smtp.clear()
    with time_machine.travel(start - timedelta(hours=23), tick=False):
        run_due_jobs()
        deliver_due()
    coming_up = smtp.last_to("sub@example.org")
    assert coming_up.subject.startswith("Coming up")
    assert _has_list_extras(logged_in, coming_up)
