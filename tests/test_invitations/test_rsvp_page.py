"""What the RSVP page says: the hybrid question, a cancelled event, the waiting list."""

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.events.models import EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations.models import Rsvp, RsvpAnswer
from tests.conftest import count_queries
from tests.test_invitations.conftest import answer, rsvp_path
from tests.test_invitations.test_rsvp import text


def _mode_fieldset(html: str) -> str:
    found = re.search(
        r'<div class="field[^"]*">\s*<fieldset[^>]*>\s*<legend>How will you take part\?'
        r".*?</fieldset>.*?</div>",
        html,
        re.S,
    )
    assert found, "no mode question on the page"
    return found.group(0)


def test_a_yes_to_a_hybrid_event_without_a_mode_is_flagged_beside_the_question(
    client: FlaskClient, make_invitation: Any, make_event: Any, smtp: Any
) -> None:
    invitation = make_invitation(event=make_event(format=EventFormat.HYBRID))
    question = _mode_fieldset(text(client.get(rsvp_path(invitation))))
    assert "(optional)" not in question

    response = answer(client, invitation, "yes", access_needs="A ramp")
    assert response.status_code == 422
    question = _mode_fieldset(text(response))
    assert "field--error" in question and "(optional)" not in question
    assert 'aria-describedby="mode-help mode-error"' in question
    assert re.search(
        r'<p class="error" id="mode-error">Choose whether you will come in person or join online.',
        question,
    )
    assert "A ramp" in text(response)  # what they typed is kept
    assert db.session.scalar(select(Rsvp)) is None
    assert smtp.messages == []

    # Other answers need no mode.
    assert answer(client, invitation, "maybe").status_code == 302


def test_the_page_of_a_cancelled_event_asks_nothing_and_books_nobody(
    client: FlaskClient, make_invitation: Any, make_event: Any
) -> None:
    event = make_event(format=EventFormat.HYBRID, capacity=10)
    invitation = make_invitation(event=event)
    answer(client, invitation, "yes", mode="in_person")
    event.status = EventStatus.CANCELLED
    event.cancellation_message = "The venue has flooded."
    db.session.commit()

    html = text(client.get(rsvp_path(invitation)))
    assert "This event has been cancelled. The venue has flooded." in html
    assert "This event is cancelled, so nothing is needed from you." in html
    assert "You're coming" not in html
    for label in ("Yes, I'll come", "Maybe", "No, I can't come", "Add to my calendar"):
        assert label not in html


def test_the_waiting_list_is_shown_as_a_neutral_notice_not_a_success(
    client: FlaskClient, make_invitation: Any, make_event: Any
) -> None:
    event = make_event(capacity=1)
    first = make_invitation(event=event)
    second = make_invitation(event=event)
    answer(client, first, "yes")
    client.get(rsvp_path(first))  # takes that answer's flash
    response = client.post(rsvp_path(second), data={"answer": "yes"}, follow_redirects=True)
    html = text(response)
    assert (
        db.session.scalar(select(Rsvp.answer).where(Rsvp.invitation_id == second.id))
        == RsvpAnswer.WAITLISTED
    )
    assert re.search(r'class="flash flash--neutral">All in-person places are taken', html)
    assert re.search(
        r'class="rsvp__status notice notice--neutral">\s*<p><strong>You\'re on the waiting list',
        html,
    )
    assert "flash--info" not in html


def test_the_rsvp_page_is_one_query_and_sets_no_cookie(
    client: FlaskClient, make_invitation: Any, smtp: Any
) -> None:
    invitation = make_invitation()
    assert answer(client, invitation, "yes").status_code == 302
    path, title = rsvp_path(invitation), invitation.event.title
    db.session.expunge_all()
    with count_queries() as statements:
        page = client.application.test_client().get(path)
    assert page.status_code == 200 and title in text(page)
    assert "Set-Cookie" not in page.headers
    page_queries = [s for s in statements if "outbox_message" not in s]
    # The invitation with its event, enquiry and answer in one query; then the settings.
    assert len(page_queries) == 2, page_queries
    assert "rsvp" in page_queries[0] and "event" in page_queries[0]
