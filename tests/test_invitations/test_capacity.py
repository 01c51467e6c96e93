"""Capacity and the waiting list: positions, promotion, offers with a frozen clock."""

from datetime import timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.clock import utcnow
from placeevents.events.models import Event
from placeevents.extensions import db
from placeevents.invitations import attendance
from placeevents.invitations.models import Invitation, Rsvp, RsvpAnswer
from placeevents.jobs import load_jobs, run_due_jobs
from placeevents.mail.delivery import deliver_due
from tests.test_invitations.conftest import answer, path_of, rsvp_path


def _answer_of(invitation: Invitation) -> RsvpAnswer | None:
    db.session.expire_all()
    rsvp = db.session.scalar(select(Rsvp).where(Rsvp.invitation_id == invitation.id))
    return rsvp.answer if rsvp else None


def _places(event: Event) -> int:
    db.session.expire_all()
    return db.session.get(Event, event.id).places_taken


def _full_event(make_event: Any, make_invitation: Any, *, waiting: int, **kw: Any) -> tuple:
    event = make_event(capacity=2, **kw)
    people = [make_invitation(event=event, email=f"p{n}@example.org") for n in range(2 + waiting)]
    return event, people


def test_a_yes_when_full_waits_with_a_position(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event, people = _full_event(make_event, make_invitation, waiting=2)
    for person in people:
        assert answer(client, person, "yes").status_code == 302
    assert [_answer_of(p) for p in people] == [RsvpAnswer.YES] * 2 + [RsvpAnswer.WAITLISTED] * 2
    assert _places(event) == 2
    html = client.get(rsvp_path(people[3])).get_data(as_text=True)
    assert "on the waiting list: number 2 in line" in html
    assert ">Leave the waiting list</button>" in html
    # Someone not yet answering is told before pressing: a yes joins the waiting list.
    newcomer = make_invitation(event=event, email="late@example.org")
    html = client.get(rsvp_path(newcomer)).get_data(as_text=True)
    assert "Every place is taken. Say yes to join the waiting list" in html
    assert ">Join the waiting list</button>" in html and "Yes, I'll come" not in html
    mail = smtp.last_to("p3@example.org")
    assert "waiting list" in mail.subject and "number 2 in line" in mail.text()
    # Saying yes again keeps one's place in the queue.
    answer(client, people[2], "yes", question="Still keen")
    assert "number 1 in line" in client.get(rsvp_path(people[2])).get_data(as_text=True)
    # A maybe holds no place and leaves the queue.
    answer(client, people[2], "maybe")
    assert "number 1 in line" in client.get(rsvp_path(people[3])).get_data(as_text=True)


def test_a_no_promotes_the_first_in_line_and_tells_them(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event, people = _full_event(make_event, make_invitation, waiting=2)
    for person in people:
        answer(client, person, "yes")
    smtp.clear()
    # Asked first, since someone is waiting: nothing changes until they say so.
    asked = answer(client, people[0], "no")
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert "You'll give up your place; the next person on the waiting list gets it" in page
    assert _answer_of(people[0]) == RsvpAnswer.YES and smtp.messages == []
    done = answer(client, people[0], "no", give_up_place="y")
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Your place has gone to the next person on the waiting list" in after
    assert _answer_of(people[0]) == RsvpAnswer.NO
    assert _answer_of(people[2]) == RsvpAnswer.YES
    assert _answer_of(people[3]) == RsvpAnswer.WAITLISTED
    assert _places(event) == 2
    mail = smtp.last_to("p2@example.org")
    assert mail.subject.startswith("A place has come up")
    assert "you are now booked in person" in mail.text()
    assert smtp.to("p3@example.org") == []


def test_raising_the_capacity_promotes_through_the_service(
    make_event: Any, make_invitation: Any, client: FlaskClient, smtp: Any
) -> None:
    event, people = _full_event(make_event, make_invitation, waiting=3)
    for person in people:
        answer(client, person, "yes")
    event = db.session.get(Event, event.id)
    event.capacity = 4
    promoted = attendance.promote_waitlist(event)
    db.session.commit()
    assert [p.email for p in promoted] == ["p2@example.org", "p3@example.org"]
    assert [_answer_of(p) for p in people[2:]] == [
        RsvpAnswer.YES,
        RsvpAnswer.YES,
        RsvpAnswer.WAITLISTED,
    ]
    assert _places(event) == 4


def test_close_to_the_start_a_freed_place_is_an_offer_that_lapses_and_passes_on(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    start = utcnow().replace(microsecond=0) + timedelta(days=10)
    event, people = _full_event(make_event, make_invitation, waiting=2, starts_at=start)
    for person in people:
        answer(client, person, "yes")
    load_jobs()
    with time_machine.travel(start - timedelta(hours=40), tick=False):
        answer(client, people[0], "no", give_up_place="y")
        assert _answer_of(people[2]) == RsvpAnswer.OFFERED
        assert _places(event) == 2  # the offered place is held
        offer = smtp.last_to("p2@example.org")
        assert "holding it for you until" in offer.text()
        page = client.get(path_of(offer.links()[-1])).get_data(as_text=True)
        assert "Accept the place" in page

    with time_machine.travel(start - timedelta(hours=40) + timedelta(hours=11), tick=False):
        run_due_jobs()
        assert _answer_of(people[2]) == RsvpAnswer.OFFERED  # not yet lapsed

    with time_machine.travel(
        start - timedelta(hours=40) + timedelta(hours=12, minutes=5), tick=False
    ):
        too_late = client.post(rsvp_path(people[2]) + "/accept")
        assert too_late.status_code == 422
        run_due_jobs()
        deliver_due()  # as the worker does after running jobs
        assert _answer_of(people[2]) == RsvpAnswer.NO
        assert _answer_of(people[3]) == RsvpAnswer.OFFERED
        assert "passed on" in smtp.last_to("p2@example.org").subject
        assert _places(event) == 2
        accepted = client.post(rsvp_path(people[3]) + "/accept")
        assert accepted.status_code == 302
        assert _answer_of(people[3]) == RsvpAnswer.YES
        assert smtp.last_to("p3@example.org").subject.startswith("You're coming")
        assert _places(event) == 2


def test_a_confirmed_person_switching_online_frees_their_in_person_place(
    client: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    from placeevents.events.models import EventFormat

    event = make_event(format=EventFormat.HYBRID, capacity=1, join_url="https://meet.example/x")
    first, second = make_invitation(event=event), make_invitation(event=event)
    answer(client, first, "yes", mode="in_person")
    answer(client, second, "yes", mode="in_person")
    assert _answer_of(second) == RsvpAnswer.WAITLISTED
    answer(client, first, "yes", mode="online")
    assert _answer_of(first) == RsvpAnswer.YES and _answer_of(second) == RsvpAnswer.YES
    assert _places(event) == 1


def test_an_organiser_overbooks_only_explicitly_and_it_is_recorded(
    make_event: Any, make_invitation: Any, organiser: Any, client: FlaskClient
) -> None:
    from placeevents.audit.models import AuditEntry

    event = make_event(capacity=1)
    people = [make_invitation(event=event) for _ in range(3)]
    answer(client, people[0], "yes")
    yes = attendance.Answer(answer=RsvpAnswer.YES)
    waited = attendance.set_answer_for(invitation=people[1], answer=yes, organiser=organiser)
    assert waited.answer == RsvpAnswer.WAITLISTED and not waited.overbooked
    forced = attendance.set_answer_for(
        invitation=people[2], answer=yes, organiser=organiser, overbook=True
    )
    db.session.commit()
    assert forced.answer == RsvpAnswer.YES and forced.overbooked
    assert forced.set_by_organiser_id == organiser.id
    assert _places(event) == 2
    details = db.session.scalars(select(AuditEntry.detail)).all()
    assert any("overbooked" in d for d in details)
    # Over capacity, a no frees a place but nobody is promoted into an overbooked event.
    answer(client, people[0], "no")
    assert _answer_of(people[1]) == RsvpAnswer.WAITLISTED
    assert _places(event) == 1
