"""What the calendar mails say: the person's own RSVP link, and why an entry is removed."""

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from placeevents.clock import utcnow
from placeevents.events.models import EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations import event_changes
from placeevents.mail.delivery import deliver_due
from tests.test_calendar.conftest import calendar_part
from tests.test_invitations.conftest import answer, links_to


def test_update_and_cancellation_mails_link_to_the_persons_rsvp_page(
    client: FlaskClient, smtp: Any, make_event: Any, make_invitation: Any
) -> None:
    event = make_event(title="Who decides?", format=EventFormat.HYBRID)
    invitation = make_invitation(event=event, email="a@example.org")
    answer(client, invitation, "yes", mode="in_person")
    smtp.clear()

    event.starts_at += timedelta(hours=1)
    event.ends_at += timedelta(hours=1)
    event.sequence += 1
    event_changes.queue_event_update(event, change_summary="It starts an hour later.")
    db.session.commit()
    deliver_due()
    update = smtp.last_to("a@example.org")
    assert update.subject.startswith("Changed: Who decides?")
    assert any(links_to(link, invitation) for link in update.links())
    assert "the link in your invitation email" not in update.text()

    smtp.clear()
    event.status = EventStatus.CANCELLED
    event.cancelled_at = utcnow()
    event.sequence += 1
    event_changes.queue_event_cancellation(event, message="The venue flooded.")
    db.session.commit()
    deliver_due()
    cancelled = smtp.last_to("a@example.org")
    assert cancelled.subject.startswith("Cancelled: Who decides?")
    assert any(links_to(link, invitation) for link in cancelled.links())
    assert "Nothing is needed from you." in cancelled.text()
    page = client.get(f"/rsvp/{cancelled.links()[0].rsplit('/rsvp/', 1)[1]}")
    assert "nothing is needed from you" in page.get_data(as_text=True)


def test_yes_then_maybe_says_the_place_is_released_not_that_they_cannot_come(
    client: FlaskClient, smtp: Any, make_event: Any, make_invitation: Any
) -> None:
    invitation = make_invitation(event=make_event(capacity=3), email="a@example.org")
    answer(client, invitation, "yes")
    answer(client, invitation, "maybe")
    mail = smtp.last_to("a@example.org")
    calendar = calendar_part(mail.message).get_content().replace("\r\n ", "")
    for said in (mail.text(), calendar):
        assert "no longer come" not in said and "can't come" not in said
    assert "your place is released" in mail.text()
    assert "changed your answer to maybe" in calendar

    answer(client, invitation, "yes")
    answer(client, invitation, "no")
    mail = smtp.last_to("a@example.org")
    calendar = calendar_part(mail.message).get_content().replace("\r\n ", "")
    assert "You told us you can't come" in calendar.replace("\\,", ",")
