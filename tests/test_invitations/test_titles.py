"""Titles that end in a question mark read well in every mail and page that names them."""

import re
from datetime import timedelta
from html import unescape
from typing import Any

import time_machine
from flask.testing import FlaskClient

from placeevents.clock import utcnow
from placeevents.events.models import EventAccess, EventStatus
from placeevents.extensions import db
from placeevents.invitations import event_changes
from placeevents.jobs import load_jobs, run_due_jobs
from placeevents.mail.delivery import deliver_due
from tests.test_invitations.conftest import path_of

DOUBLED = re.compile(r"\?(</[a-z]+>)?[.,:;]")


def _clean(text: str) -> bool:
    return DOUBLED.search(unescape(text)) is None


def test_a_question_for_a_title_never_meets_more_punctuation(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any, smtp: Any
) -> None:
    enquiry = make_enquiry(title="What would it take?")
    start = utcnow().replace(microsecond=0) + timedelta(days=10)
    event = make_event(
        enquiry=enquiry,
        title="How do lessons move between places?",
        access=EventAccess.OPEN,
        starts_at=start,
        reminder_lead_hours=24,
    )
    form = logged_in.get(f"/manage/invitations/events/{event.id}/invite").get_data(as_text=True)
    assert "How do lessons move between places?" in form and _clean(form)
    sent = logged_in.post(
        f"/manage/invitations/events/{event.id}/invite",
        data={
            "subscribers": "none",
            "pasted": "ann@example.org",
            "subject": f"Invitation: {event.title}",
            "body": "Please come.",
            "action": "send",
            "confirmed": "y",
        },
    )
    assert sent.status_code == 302
    rsvp_link = path_of(smtp.last_to("ann@example.org").links()[0])
    requested = logged_in.post(
        f"/events/{event.slug}/request-place", data={"name": "Bo", "email": "bo@example.org"}
    )
    page = requested.get_data(as_text=True)
    assert "How do lessons move between places?" in page and _clean(page)
    assert _clean(smtp.last_to("bo@example.org").text())
    # Someone already invited who asks for a place is mailed the link to their own page.
    logged_in.post(
        f"/events/{event.slug}/request-place", data={"name": "Ann", "email": "ann@example.org"}
    )

    logged_in.post(rsvp_link, data={"answer": "yes"})
    rsvp_page = logged_in.get(rsvp_link).get_data(as_text=True)
    assert _clean(rsvp_page)
    load_jobs()
    with time_machine.travel(start - timedelta(hours=23), tick=False):
        run_due_jobs()
        deliver_due()
    event.status = EventStatus.CANCELLED
    event.cancelled_at = utcnow()
    event.sequence += 1
    event_changes.queue_event_cancellation(event, message="Sorry.")
    db.session.commit()
    deliver_due()

    subjects = {m.subject.split(":")[0] for m in smtp.messages}
    assert {"Invitation", "Your link to answer", "You're coming", "Coming up", "Cancelled"} <= (
        subjects
    )
    for mail in smtp.messages:
        assert _clean(mail.subject), mail.subject
        assert _clean(mail.text()), mail.text()
        assert _clean(mail.html()), mail.subject
