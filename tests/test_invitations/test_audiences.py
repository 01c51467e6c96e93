"""Writing to an audience by attendance, and inviting the people of chosen earlier events: the
counts on the page match the rows, the right people get the mail, bad choices are refused."""

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placeevents.clock import utcnow
from placeevents.events.models import EventFormat
from placeevents.extensions import db
from placeevents.invitations import attendance
from placeevents.invitations.audiences import audience_counts
from placeevents.invitations.models import EventMailing, Invitation, InvitationSource
from placeevents.mail.bounces import record_bounce
from placeevents.mail.models import OutboxMessage
from placeevents.newsletter.models import DoNotInvite, Suppression
from placeevents.newsletter.services import suppression_hash
from tests.conftest import count_queries
from tests.test_invitations.conftest import answer
from tests.test_invitations.test_rsvp import text


def _count(model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _message_url(event: Any) -> str:
    return f"/manage/invitations/events/{event.id}/message"


def _write(client: FlaskClient, event: Any, audience: str, action: str = "send") -> Any:
    data = {
        "audience": audience,
        "subject": "Thank you",
        "body": "What came of it.",
        "action": action,
    }
    return client.post(_message_url(event), data=data)


@pytest.fixture
def ended(make_event: Any, make_invitation: Any, app: Any) -> dict[str, Any]:
    """An event that ended yesterday, check-in closed: who came, who did not, who said no."""
    starts = utcnow().replace(microsecond=0) - timedelta(days=1, hours=3)
    event = make_event(starts_at=starts, ends_at=starts + timedelta(hours=2), capacity=10)
    people = {
        "came": [
            make_invitation(event, attended=True, email=f"came{n}@example.org") for n in (1, 2)
        ],
        "absent": [make_invitation(event, answer="yes", email="absent@example.org")],
        "notes": [make_invitation(event, answer="no", wants_notes=True, email="notes@example.org")],
        "no": [make_invitation(event, answer="no", email="no@example.org")],
        "maybe": [make_invitation(event, answer="maybe", email="maybe@example.org")],
        "silent": [make_invitation(event, email=f"silent{n}@example.org") for n in (1, 2)],
    }
    # Came, but mail to them bounced: counted nowhere, sent nothing.
    make_invitation(event, attended=True, email="bounced@example.org")
    record_bounce(email="bounced@example.org", reason="550 no such user")
    attendance.close_check_in(event=event, organiser=None)
    db.session.commit()
    return {"event": event, **{k: {i.email for i in v} for k, v in people.items()}}


def test_after_the_event_each_audience_shows_its_count_and_reaches_those_people(
    logged_in: FlaskClient, ended: dict[str, Any], smtp: Any
) -> None:
    event = ended["event"]
    everyone = set().union(
        *(ended[k] for k in ("came", "absent", "notes", "no", "maybe", "silent"))
    )
    expected = {
        "confirmed": ended["came"] | ended["absent"],
        "came": ended["came"],
        "did_not_come": ended["absent"],
        "wants_notes": ended["notes"],
        "everyone": everyone,
    }
    page = text(logged_in.get(_message_url(event)))
    for label, key in (
        ("Everyone with a place", "confirmed"),
        ("The people who came", "came"),
        ("The people who had a place and did not come", "did_not_come"),
        ("The people who said no but want the notes", "wants_notes"),
        ("Everyone invited", "everyone"),
    ):
        assert f"{label} ({len(expected[key])})" in page, label
    # Waiting lists and the silent are for before the event.
    assert 'value="waitlisted"' not in page and 'value="no_answer"' not in page

    for audience, people in expected.items():
        smtp.clear()
        response = _write(logged_in, event, audience)
        assert response.status_code == 302, audience
        assert {m.rcpt_tos[0] for m in smtp.messages} == people, audience
        mailing = db.session.scalars(select(EventMailing).order_by(EventMailing.id.desc())).first()
        assert mailing.recipients == len(people)
        progress = text(logged_in.get(response.headers["Location"]))
        assert f"<dt>Queued</dt><dd>{len(people)}</dd>" in progress
    assert "bounced@example.org" not in {m.rcpt_tos[0] for m in smtp.messages}


def test_the_counts_come_from_one_query_whatever_the_number_of_people(
    app: Any, ended: dict[str, Any], make_invitation: Any
) -> None:
    event = ended["event"]
    db.session.refresh(event)
    with count_queries() as queries:
        counts = {c.key: c.count for c in audience_counts(event)}
    assert len(queries) == 1
    assert counts == {"confirmed": 3, "came": 2, "did_not_come": 1, "wants_notes": 1, "everyone": 8}
    for _ in range(5):
        make_invitation(event, attended=True)
    db.session.refresh(event)
    with count_queries() as queries:
        counts = {c.key: c.count for c in audience_counts(event)}
    assert len(queries) == 1 and counts["came"] == 7


def test_before_the_event_the_waiting_list_and_the_silent_are_counted_and_written_to(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = make_event(capacity=1, format=EventFormat.HYBRID, join_url="https://meet.example/x")
    coming = make_invitation(event, answer="yes", email="coming@example.org")
    online = make_invitation(event, answer="yes", mode="online", email="online@example.org")
    waiting = [
        make_invitation(event, answer="waitlisted", email=f"wait{n}@example.org") for n in (1, 2)
    ]
    make_invitation(event, answer="waitlisted", email="bounced@example.org")
    record_bounce(email="bounced@example.org", reason="550 no such user")
    notes = make_invitation(event, answer="no", wants_notes=True, email="notes@example.org")
    silent = make_invitation(event, email="silent@example.org")
    db.session.commit()
    smtp.clear()

    page = text(logged_in.get(_message_url(event)))
    for label, count in (
        ("Everyone with a place", 2),
        ("The in-person waiting list", 2),
        ("The online waiting list", 0),
        ("The people invited who have not answered", 1),
        ("The people who said no but want the notes", 1),
        ("Everyone invited", 6),
    ):
        assert f"{label} ({count})" in page, label
    # Nobody can have come, or not come, yet.
    assert 'value="came"' not in page and 'value="did_not_come"' not in page

    for audience, people in (
        ("waitlisted", {w.email for w in waiting}),
        ("waitlisted_online", set()),
        ("no_answer", {silent.email}),
        ("wants_notes", {notes.email}),
        ("confirmed", {coming.email, online.email}),
    ):
        smtp.clear()
        preview = _write(logged_in, event, audience, action="preview")
        assert preview.status_code == 200
        assert f"<dt>Will receive it</dt><dd>{len(people)} (" in text(preview), audience
        response = _write(logged_in, event, audience)
        assert response.status_code == 302, audience
        assert {m.rcpt_tos[0] for m in smtp.messages} == people, audience


@pytest.mark.parametrize(
    "audience",
    ["waitlisted", "no_answer", "bogus", "did_not_come", "x" * 5000],
)
def test_an_audience_the_page_does_not_offer_is_refused_with_a_message(
    audience: str, logged_in: FlaskClient, ended: dict[str, Any], smtp: Any
) -> None:
    event = ended["event"]
    # Check-in reopened: who did not come is not known any more.
    attendance.reopen_check_in(event=event, organiser=None)
    db.session.commit()
    smtp.clear()
    outbox = _count(OutboxMessage)
    response = _write(logged_in, event, audience)
    assert response.status_code == 422
    assert "Choose whom to write to from the groups listed." in text(response)
    assert _count(EventMailing) == 0 and _count(OutboxMessage) == outbox
    assert smtp.messages == []


def test_a_message_cannot_go_once_the_links_in_it_have_expired(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    starts = utcnow().replace(microsecond=0) - timedelta(days=31)
    event = make_event(starts_at=starts, ends_at=starts + timedelta(hours=2))
    make_invitation(event, attended=True)
    page = logged_in.get(_message_url(event))
    assert "This event ended more than 30 days ago" in text(page)
    assert _write(logged_in, event, "came").status_code == 409
    assert smtp.messages == []


# --- inviting the people of chosen earlier events


def _invite(client: FlaskClient, event: Any, **data: Any) -> Any:
    form = {"subscribers": "none", "subject": "Join us", "body": "Come along.", "action": "send",
            "confirmed": "y", **data}  # fmt: skip
    return client.post(f"/manage/invitations/events/{event.id}/invite", data=form)


def _invited(event: Any) -> dict[str, InvitationSource]:
    db.session.expire_all()
    rows = db.session.scalars(select(Invitation).where(Invitation.event_id == event.id))
    return {i.email: i.source for i in rows}


@pytest.fixture
def series(make_enquiry: Any, make_event: Any, make_invitation: Any, app: Any) -> dict[str, Any]:
    """An upcoming event, two earlier ones of its enquiry and one of another enquiry."""
    enquiry = make_enquiry()
    now = utcnow().replace(microsecond=0)
    first = make_event(enquiry=enquiry, title="First", starts_at=now - timedelta(days=60))
    second = make_event(enquiry=enquiry, title="Second", starts_at=now - timedelta(days=30))
    upcoming = make_event(enquiry=enquiry, title="Third", starts_at=now + timedelta(days=14))
    elsewhere = make_event(title="Elsewhere", starts_at=now - timedelta(days=20))
    for event, email, attended in (
        (first, "both@example.org", True),
        (first, "first@example.org", True),
        (first, "no-show@example.org", False),
        (first, "bounced@example.org", True),
        (first, "quiet@example.org", True),
        (first, "erased@example.org", True),
        (second, "BOTH@example.org", True),
        (second, "second@example.org", True),
        (elsewhere, "elsewhere@example.org", True),
    ):
        make_invitation(event, answer="yes", attended=attended, email=email.lower())
    make_invitation(first, answer="no", email="declined@example.org")
    record_bounce(email="bounced@example.org", reason="550 no such user")
    db.session.add(DoNotInvite(email="quiet@example.org"))
    db.session.add(Suppression(email_hash=suppression_hash("erased@example.org"), reason="erased"))
    db.session.commit()
    return {"first": first, "second": second, "upcoming": upcoming, "elsewhere": elsewhere}


def test_the_invite_page_lists_earlier_events_with_how_many_came(
    logged_in: FlaskClient, series: dict[str, Any]
) -> None:
    page = text(logged_in.get(f"/manage/invitations/events/{series['upcoming'].id}/invite"))
    assert ": 5 came, 6 had a place</label>" in page and "First, " in page
    assert ": 2 came, 2 had a place</label>" in page and "Second, " in page
    assert "Elsewhere" not in page
    # Newest first.
    assert page.index("Second, ") < page.index("First, ")


def test_inviting_those_who_came_to_chosen_events_previews_then_invites_each_once(
    logged_in: FlaskClient, series: dict[str, Any], smtp: Any
) -> None:
    upcoming = series["upcoming"]
    chosen = {"past_events": [str(series["first"].id), str(series["second"].id)]}
    preview = _invite(logged_in, upcoming, action="preview", **chosen)
    html = text(preview)
    assert preview.status_code == 200
    assert '<th scope="row">People who came to earlier events</th><td>3</td>' in html
    assert '<th scope="row">Will be invited</th><td>3</td>' in html
    for skipped in ("Bounced before", "Asked not to be invited", "Erased on request"):
        assert f'<th scope="row">{skipped}</th><td>1</td>' in html
    assert _invited(upcoming) == {}

    response = _invite(logged_in, upcoming, **chosen)
    assert response.status_code == 302
    invited = {"both@example.org", "first@example.org", "second@example.org"}
    assert _invited(upcoming) == dict.fromkeys(invited, InvitationSource.ATTENDEE)
    assert {m.rcpt_tos[0] for m in smtp.messages} == invited
    assert len(smtp.messages) == 3
    mailing = db.session.scalars(select(EventMailing)).one()
    assert mailing.audience == "people who came to 2 earlier events"

    # Everyone who had a place at the first: only the no-show is new.
    smtp.clear()
    again = _invite(logged_in, upcoming, past_events=str(series["first"].id), past_presence="place")
    assert again.status_code == 302
    assert set(_invited(upcoming)) == invited | {"no-show@example.org"}
    assert [m.rcpt_tos[0] for m in smtp.messages] == ["no-show@example.org"]
    last = db.session.scalars(select(EventMailing).order_by(EventMailing.id.desc())).first()
    assert (last.recipients, last.already_invited) == (1, 2)


NOT_EARLIER = "Choose earlier events of this enquiry from the list: 1 of those chosen"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"past_events": "elsewhere"}, NOT_EARLIER),
        ({"past_events": "upcoming"}, NOT_EARLIER),
        ({"past_events": "2147483000"}, NOT_EARLIER),
        ({"past_events": "abc"}, "could not be coerced"),
        ({"past_events": "first", "past_presence": "bogus"}, "Not a valid choice"),
    ],
)
def test_an_event_that_is_not_an_earlier_one_of_the_enquiry_is_refused(
    data: dict[str, str], message: str, logged_in: FlaskClient, series: dict[str, Any], smtp: Any
) -> None:
    upcoming = series["upcoming"]
    form = {
        k: str(series[v].id) if k == "past_events" and v in series else v for k, v in data.items()
    }
    response = _invite(logged_in, upcoming, **form)
    assert response.status_code == 422
    assert message in text(response)
    assert _invited(upcoming) == {} and smtp.messages == []


def test_each_waiting_list_counts_people_keeping_a_place_in_the_other_mode(
    logged_in: FlaskClient, client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    """A hybrid event with one place in the room and one online: the in-person line holds
    someone keeping their online place while they wait, the online line someone with none."""
    event = make_event(
        capacity=1,
        online_capacity=1,
        format=EventFormat.HYBRID,
        join_url="https://meet.example.org/room",
    )
    ann, ben, cat = (make_invitation(event=event, email=f"{n}@example.org") for n in "abc")
    answer(client, ann, "yes", mode="in_person")
    answer(client, ben, "yes_online")
    answer(client, ben, "yes_in_person")  # keeps the online place, waits for the room
    answer(client, cat, "yes_online")  # online is full: the online waiting list
    smtp.clear()

    page = text(logged_in.get(_message_url(event)))
    assert "The in-person waiting list (1)" in page
    assert "The online waiting list (1)" in page
    assert "Everyone with a place (2)" in page

    for audience, person in (("waitlisted", ben), ("waitlisted_online", cat)):
        smtp.clear()
        assert _write(logged_in, event, audience).status_code == 302
        assert [m.rcpt_tos[0] for m in smtp.messages] == [person.email], audience
