"""Attendance has one owner: the defects found when answers and places were written from several
domains, each proven through the pages and services people use."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.events.models import Event
from placeevents.extensions import db
from placeevents.invitations import attendance
from placeevents.invitations.errors import AnswersClosed
from placeevents.invitations.models import (
    AttendanceMode,
    Invitation,
    InvitationSource,
    Rsvp,
    RsvpAnswer,
)
from placeevents.mail.delivery import deliver_due
from placeevents.notes.services import share_recipients
from tests.conftest import attendance_writer

START = datetime(2030, 6, 4, 9, 30, tzinfo=UTC)
YES = attendance.Answer(answer=RsvpAnswer.YES, mode=AttendanceMode.IN_PERSON)


@pytest.fixture
def event(make_event: Any) -> Any:
    return make_event(starts_at=START, ends_at=START + timedelta(hours=3), capacity=1)


def _person(event: Any, n: int, *, answer: attendance.Answer | None = None) -> Invitation:
    invitation = Invitation(
        event=event,
        email=f"person{n}@example.org",
        name=f"Person {n}",
        source=InvitationSource.PASTED,
    )
    db.session.add(invitation)
    db.session.flush()
    if answer is not None:
        attendance.answer_invitation(invitation=invitation, answer=answer)
    db.session.commit()
    return invitation


def _answer(invitation_id: int) -> RsvpAnswer | None:
    db.session.expire_all()
    return db.session.scalar(select(Rsvp.answer).where(Rsvp.invitation_id == invitation_id))


def _places(event: Any) -> int:
    db.session.expire_all()
    return db.session.get(Event, event.id).places_taken  # type: ignore[union-attr]


def test_erasing_a_confirmed_person_gives_their_place_to_the_next_in_line(
    logged_in: FlaskClient, auth: Any, event: Any, smtp: Any
) -> None:
    with time_machine.travel(START - timedelta(days=10), tick=False):
        auth.login()  # sessions end after 12 hours idle: sign in on the day
        holder = _person(event, 1, answer=YES)
        waiting = _person(event, 2, answer=YES)
        assert _answer(waiting.id) == RsvpAnswer.WAITLISTED
        logged_in.post("/manage/newsletter/erase", data={"email": holder.email})
        deliver_due()
        assert _answer(waiting.id) == RsvpAnswer.YES
        assert _places(event) == 1
        assert not db.session.scalar(select(Invitation.id).where(Invitation.email == holder.email))
        subjects = [m.subject for m in smtp.to(waiting.email)]
        assert any(s.startswith("A place has come up") for s in subjects), subjects

        # With nobody waiting, the place shows as free again on the public page.
        logged_in.post("/manage/newsletter/erase", data={"email": waiting.email})
        assert _places(event) == 0
        html = logged_in.get(f"/events/{event.slug}").get_data(as_text=True)
        assert "<dt>Places left</dt><dd>1 of 1 in person" in html


def test_check_in_and_undo_never_move_the_calendar_version(
    logged_in: FlaskClient, event: Any
) -> None:
    walk_in = _person(event, 1)
    version = event.calendar_changed_at
    url = f"/manage/exports/events/{event.id}/check-in/{walk_in.id}"
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        logged_in.post(url)
        logged_in.post(url + "/undo")
    db.session.expire_all()
    assert db.session.get(Event, event.id).calendar_changed_at == version  # type: ignore[union-attr]


def test_finishing_check_in_turns_a_yes_without_check_in_into_did_not_come(
    logged_in: FlaskClient, auth: Any, event: Any
) -> None:
    with time_machine.travel(START - timedelta(days=10), tick=False):
        came = _person(event, 1, answer=YES)
        event.capacity = 3
        db.session.commit()
        absent = _person(event, 2, answer=YES)
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        auth.login()  # sessions end after 12 hours idle: sign in on the day
        logged_in.post(f"/manage/exports/events/{event.id}/check-in/{came.id}")
    after = START + timedelta(days=1)
    with time_machine.travel(after, tick=False):
        auth.login()
        # Before check-in is finished, whether the other yes came is not known.
        assert {i.email for i in share_recipients(event)} == {came.email, absent.email}
        page = logged_in.get(f"/manage/exports/events/{event.id}/check-in")
        assert "Check-in finished</button>" in page.get_data(as_text=True)
        assert '<span class="badge">Said yes (not checked in)</span>' in page.get_data(
            as_text=True
        )
        logged_in.post(f"/manage/exports/events/{event.id}/check-in/close")
        db.session.expire_all()
        assert [i.email for i in share_recipients(event)] == [came.email]
        html = logged_in.get(f"/manage/exports/events/{event.id}/check-in").get_data(as_text=True)
        assert "Check-in finished" in html and "Reopen check-in" in html
        assert '<span class="badge">Did not come</span>' in html
        rsvp = db.session.scalar(select(Rsvp).where(Rsvp.invitation_id == absent.id))
        ended = db.session.get(Event, event.id)
        assert attendance.presence(ended, rsvp.answer, rsvp.attended) == (  # type: ignore[union-attr,arg-type]
            attendance.Presence.DID_NOT_COME
        )


def test_app_code_outside_attendance_writing_places_is_caught() -> None:
    # The statement of an UPDATE from anywhere in the app but the attendance module.
    statement = "UPDATE event SET places_taken=(event.places_taken + ?) WHERE event.id = ?"
    outsider = {"__name__": "placeevents.exports.services", "check": attendance_writer}
    caught = eval("check(s)", outsider, {"s": statement})  # noqa: S307
    assert caught is not None and caught.startswith("placeevents.exports.services")
    owner = {"__name__": "placeevents.invitations.attendance", "check": attendance_writer}
    assert eval("check(s)", owner, {"s": statement}) is None  # noqa: S307
    for other in ("DELETE FROM rsvp WHERE rsvp.id = ?", "INSERT INTO rsvp (answer) VALUES (?)"):
        assert eval("check(s)", outsider, {"s": other}) is not None  # noqa: S307
    assert eval("check(s)", outsider, {"s": "UPDATE event SET title=?"}) is None  # noqa: S307


def test_the_guard_sees_bulk_updates_through_the_session(
    app: Any, attendance_writes_guarded: Any
) -> None:
    table = Event.__table__
    namespace = {"__name__": "placeevents.demo", "db": db, "sa": sa, "table": table}
    exec(  # noqa: S102
        "def bump():\n"
        "    db.session.execute(table.update().values(places_taken=table.c.places_taken + 1))\n",
        namespace,
    )
    namespace["bump"]()
    assert attendance_writes_guarded and attendance_writes_guarded[0].startswith("placeevents.demo")
    attendance_writes_guarded.clear()


def test_an_answer_settled_by_check_in_does_not_change_until_the_check_in_is_undone(
    event: Any, organiser: Any
) -> None:
    # Found by the state machine: a checked-in person who then answered yes when full was
    # both on the waiting list and checked in.
    early = START - timedelta(minutes=30)
    with time_machine.travel(early, tick=False):
        person = _person(event, 1)
        attendance.check_in(event=event, invitation=person, organiser=organiser)
        db.session.commit()
        maybe = attendance.Answer(answer=RsvpAnswer.MAYBE)
        with pytest.raises(AnswersClosed, match="checked in"):
            attendance.answer_invitation(invitation=person, answer=maybe)
        with pytest.raises(AnswersClosed, match="Undo the check-in"):
            attendance.set_answer_for(invitation=person, answer=maybe, organiser=organiser)
        db.session.rollback()
        attendance.undo_check_in(event=event, invitation=person, organiser=organiser)
        attendance.set_answer_for(invitation=person, answer=maybe, organiser=organiser)
        db.session.commit()
    assert _answer(person.id) == RsvpAnswer.MAYBE and _places(event) == 0
