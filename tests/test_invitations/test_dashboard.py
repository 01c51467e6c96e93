"""The responses dashboard, reminders to non-responders, answers set by organisers, messages."""

from datetime import timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.audit.models import AuditEntry
from placeevents.clock import utcnow
from placeevents.events.models import EventFormat
from placeevents.extensions import db
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer
from tests.conftest import count_queries
from tests.test_invitations.conftest import answer


def _people(make_invitation: Any, event: Any, n: int, prefix: str = "p") -> list[Invitation]:
    return [
        make_invitation(event=event, email=f"{prefix}{i}@example.org", name=f"{prefix.upper()} {i}")
        for i in range(n)
    ]


def test_organiser_pages_need_login(client: FlaskClient, make_invitation: Any) -> None:
    invitation = make_invitation()
    event_id = invitation.event_id
    for method, path in (
        ("GET", f"/manage/invitations/events/{event_id}/responses"),
        ("GET", f"/manage/invitations/events/{event_id}/invite"),
        ("POST", f"/manage/invitations/events/{event_id}/invite"),
        ("POST", f"/manage/invitations/events/{event_id}/remind"),
        ("POST", f"/manage/invitations/events/{event_id}/message"),
        ("POST", f"/manage/invitations/{invitation.id}/answer"),
        ("POST", f"/manage/invitations/{invitation.id}/remove"),
    ):
        response = client.open(path, method=method, data={"answer": "yes"})
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert db.session.scalar(select(Rsvp)) is None


def test_the_dashboard_counts_answers_and_shows_positions_and_questions(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    event = make_event(format=EventFormat.HYBRID, capacity=1, ask_dietary_needs=True)
    a, b, c, d, e, f = _people(make_invitation, event, 6)
    answer(logged_in, a, "yes", mode="in_person", access_needs="Hearing loop")
    answer(logged_in, b, "yes", mode="online", question="What would national bodies change?")
    answer(logged_in, c, "yes", mode="in_person", dietary_needs="Vegan")
    answer(logged_in, d, "maybe")
    answer(logged_in, e, "no_notes")
    response = logged_in.get(f"/manage/invitations/events/{event.id}/responses")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "<dt>Invited</dt><dd>6</dd>" in html
    assert "<dd>2 (1 in person, 1 online)</dd>" in html
    assert "<dt>Waiting list, in person</dt><dd>1</dd>" in html
    assert "<dt>Waiting list, online</dt><dd>0</dd>" in html
    assert "<dt>Maybe</dt><dd>1</dd>" in html
    assert "<dd>1 (1 want the notes)</dd>" in html
    assert "<dt>No answer</dt><dd>1</dd>" in html
    assert "<dt>In person</dt><dd>1 of 1 places taken</dd>" in html
    assert "<dt>Online</dt><dd>1 taken, no limit</dd>" in html
    assert "Hearing loop" in html and "Vegan" in html
    assert "What would national bodies change?" in html
    assert '<td class="num">1</td>' in html  # c's waiting-list position
    assert f'id="remind-{f.id}"' in html and f'id="remind-{a.id}"' not in html


def test_the_dashboard_query_count_does_not_grow_with_invitations(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    def queries_for(n: int) -> int:
        event = make_event(capacity=2)
        for person in _people(make_invitation, event, n, prefix=f"e{event.id}x"):
            answer(logged_in, person, "yes")
        url = f"/manage/invitations/events/{event.id}/responses"
        logged_in.get(url)
        with count_queries() as statements:
            assert logged_in.get(url).status_code == 200
        return len(statements)

    assert queries_for(3) == queries_for(25)


def test_reminding_non_responders_at_most_once_a_day(
    logged_in: FlaskClient, auth: Any, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = make_event()
    silent, chosen_not, answered = _people(make_invitation, event, 3)
    answer(logged_in, answered, "maybe")
    url = f"/manage/invitations/events/{event.id}/remind"
    ids = [silent.id, answered.id]
    first = logged_in.post(url, data={"invitations": ids})
    assert first.status_code == 302
    assert len(smtp.to("p0@example.org")) == 1
    assert smtp.to("p1@example.org") == []  # not chosen
    assert len(smtp.to("p2@example.org")) == 1  # only the "maybe" confirmation, no reminder
    assert "not heard from you" in smtp.last_to("p0@example.org").text()

    logged_in.post(url, data={"invitations": ids})
    assert len(smtp.to("p0@example.org")) == 1
    with time_machine.travel(utcnow() + timedelta(hours=25), tick=False):
        auth.login()  # sessions end after 12 hours idle
        logged_in.post(url, data={"invitations": ids})
    assert len(smtp.to("p0@example.org")) == 2

    nobody = logged_in.post(url, data={})
    assert nobody.status_code == 302


def test_setting_an_answer_on_someones_behalf(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any, organiser: Any
) -> None:
    event = make_event(format=EventFormat.HYBRID, capacity=1)
    held, asked, forced = _people(make_invitation, event, 3)
    answer(logged_in, held, "yes", mode="in_person")
    page = logged_in.get(f"/manage/invitations/{asked.id}/answer")
    assert page.status_code == 200 and "overbook" in page.get_data(as_text=True)

    no_mode = logged_in.post(f"/manage/invitations/{asked.id}/answer", data={"answer": "yes"})
    assert no_mode.status_code == 422
    assert "Choose whether you will come in person or join online." in no_mode.get_data(
        as_text=True
    )
    waited = logged_in.post(
        f"/manage/invitations/{asked.id}/answer",
        data={"answer": "yes", "mode": "in_person", "notify": "y"},
    )
    assert waited.status_code == 302
    over = logged_in.post(
        f"/manage/invitations/{forced.id}/answer",
        data={"answer": "yes", "mode": "in_person", "overbook": "y"},
    )
    assert over.status_code == 302
    db.session.expire_all()
    rsvps = {r.invitation_id: r for r in db.session.scalars(select(Rsvp))}
    assert rsvps[asked.id].answer == RsvpAnswer.WAITLISTED
    assert rsvps[asked.id].set_by_organiser_id == organiser.id
    assert rsvps[forced.id].answer == RsvpAnswer.YES and rsvps[forced.id].overbooked
    assert rsvps[forced.id].mode == AttendanceMode.IN_PERSON
    assert "waiting list" in smtp.last_to(asked.email).subject
    assert smtp.to(forced.email) == []  # not notified: the box was unticked
    actions = db.session.scalars(select(AuditEntry.detail)).all()
    assert any(forced.email in d and "overbooked" in d for d in actions)
    html = logged_in.get(f"/manage/invitations/events/{event.id}/responses").get_data(as_text=True)
    assert "set by organiser" in html and "overbooked" in html


def test_removing_someone_frees_their_place(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = make_event(capacity=1)
    held, waiting = _people(make_invitation, event, 2)
    answer(logged_in, held, "yes")
    answer(logged_in, waiting, "yes")
    response = logged_in.post(f"/manage/invitations/{held.id}/remove")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Invitation, held.id) is None
    assert db.session.scalar(select(Rsvp.answer)) == RsvpAnswer.YES
    assert smtp.last_to(waiting.email).subject.startswith("A place has come up")


def test_writing_to_attendees(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = make_event(capacity=1)
    coming, waiting, silent = _people(make_invitation, event, 3)
    answer(logged_in, coming, "yes")
    answer(logged_in, waiting, "yes")
    smtp.clear()
    url = f"/manage/invitations/events/{event.id}/message"
    assert logged_in.get(url).status_code == 200
    for audience, expected in (
        ("confirmed", {coming.email}),
        ("waitlisted", {waiting.email}),
        ("everyone", {coming.email, waiting.email, silent.email}),
    ):
        smtp.clear()
        data = {"audience": audience, "subject": "Room change", "body": "Now in room 2."}
        response = logged_in.post(url, data={**data, "action": "send"})
        assert response.status_code == 302
        got = {m.rcpt_tos[0] for m in smtp.messages}
        assert got == expected, audience
        assert "Now in room 2." in smtp.messages[0].text()
    bad = logged_in.post(url, data={"audience": "everyone", "subject": "A\r\nBcc: x@y.z"})
    assert bad.status_code == 422


def test_only_the_questions_the_event_asks_are_listed(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    asks_access = make_event(ask_access_needs=True, ask_dietary_needs=False, ask_question=False)
    answer(logged_in, make_invitation(event=asks_access), "yes", access_needs="Step-free")
    html = logged_in.get(f"/manage/invitations/events/{asks_access.id}/responses").get_data(
        as_text=True
    )
    assert "<h3>Access needs</h3>" in html and "Step-free" in html
    assert "Dietary needs" not in html and "The questions they bring" not in html

    asks_nothing = make_event(ask_access_needs=False, ask_dietary_needs=False, ask_question=False)
    html = logged_in.get(f"/manage/invitations/events/{asks_nothing.id}/responses").get_data(
        as_text=True
    )
    assert "Answers to the questions" not in html and "None." not in html
