"""Online places: a limit of their own, one waiting list per mode on a hybrid event, and a place
kept in one mode while waiting for the other."""

from datetime import timedelta
from html import unescape
from typing import Any

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.clock import utcnow
from placeevents.events.models import Event, EventAccess, EventFormat
from placeevents.extensions import db
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer
from tests.test_invitations.conftest import answer, rsvp_path

IN_PERSON, ONLINE = AttendanceMode.IN_PERSON, AttendanceMode.ONLINE
YES, WAITLISTED, OFFERED = RsvpAnswer.YES, RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED


def _row(invitation: Invitation) -> tuple:
    """(answer, mode, waiting for, offered) as stored."""
    db.session.expire_all()
    rsvp = db.session.scalar(select(Rsvp).where(Rsvp.invitation_id == invitation.id))
    assert rsvp is not None
    return rsvp.answer, rsvp.mode, rsvp.waiting_for, rsvp.offer_expires_at is not None


def _places(event: Event) -> tuple[int, int]:
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    return event.places_taken, event.online_places_taken


def _page(client: FlaskClient, invitation: Invitation) -> str:
    return unescape(client.get(rsvp_path(invitation)).get_data(as_text=True))


def _hybrid(make_event: Any, **kw: Any) -> Event:
    limits = {"capacity": 1, "online_capacity": 1, **kw}
    return make_event(format=EventFormat.HYBRID, join_url="https://meet.example.org/room", **limits)


def _people(make_invitation: Any, event: Event, n: int) -> list[Invitation]:
    return [make_invitation(event=event, email=f"p{i}@example.org") for i in range(n)]


def test_a_full_room_offers_online_now_or_the_in_person_waiting_list(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = _hybrid(make_event)
    ann, ben, cat = _people(make_invitation, event, 3)
    answer(client, ann, "yes", mode="in_person")

    page = _page(client, ben)
    assert "Every in-person place is taken. You can join online now, or join the in-person" in page
    assert ">Join online now</button>" in page
    assert ">Join the in-person waiting list</button>" in page
    assert "How will you take part?" not in page  # each button says its mode

    answer(client, ben, "yes_online")
    assert _row(ben) == (YES, ONLINE, None, False)
    assert _places(event) == (1, 1)
    assert smtp.last_to("p1@example.org").subject.startswith("You're coming")

    # Holding an online place, Ben asks to come in person: he keeps it while he waits.
    page = _page(client, ben)
    assert ">Wait for a place in person, keeping my online place</button>" in page
    response = answer(client, ben, "yes_in_person")
    after = unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "You keep your online place, and you are on the in-person waiting list" in after
    assert "You're coming online." in after
    assert "You're also on the in-person waiting list: number 1 in line." in after
    assert _row(ben) == (YES, ONLINE, IN_PERSON, False)
    assert _places(event) == (1, 1)
    mail = smtp.last_to("p1@example.org")
    assert mail.subject.startswith("You're on the waiting list")
    assert "on the in-person waiting list: number 1 in line" in mail.text()
    assert "You keep your online place while you wait" in mail.text()

    # Both full: Cat chooses which line to join.
    page = _page(client, cat)
    assert "Every in-person and every online place is taken." in page
    assert ">Join the online waiting list</button>" in page
    answer(client, cat, "yes_online")
    assert _row(cat) == (WAITLISTED, ONLINE, None, False)
    assert "on the online waiting list: number 1 in line" in smtp.last_to("p2@example.org").text()

    # Ann gives up her place: Ben moves in person, his online place goes on to Cat.
    smtp.clear()
    asked = answer(client, ann, "no")
    assert "You'll give up your place" in asked.get_data(as_text=True)
    answer(client, ann, "no", give_up_place="y")
    assert _row(ben) == (YES, IN_PERSON, None, False)
    assert _row(cat) == (YES, ONLINE, None, False)
    assert _places(event) == (1, 1)
    ben_mail = smtp.last_to("p1@example.org")
    assert ben_mail.subject.startswith("A place has come up")
    assert "booked in person" in ben_mail.text()
    assert smtp.last_to("p2@example.org").subject.startswith("A place has come up")
    assert "You're coming in person." in _page(client, ben)


def test_switching_from_in_person_to_online_gives_the_room_place_to_the_next_in_line(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = _hybrid(make_event, online_capacity=5)
    ann, ben = _people(make_invitation, event, 2)
    answer(client, ann, "yes", mode="in_person")
    answer(client, ben, "yes", mode="in_person")
    assert _row(ben) == (WAITLISTED, IN_PERSON, None, False)
    smtp.clear()

    answer(client, ann, "yes", mode="online")

    assert _row(ann) == (YES, ONLINE, None, False)
    assert _row(ben) == (YES, IN_PERSON, None, False)
    assert _places(event) == (1, 1)
    assert smtp.last_to("p1@example.org").subject.startswith("A place has come up")
    assert "https://meet.example.org/room" in smtp.last_to("p0@example.org").text()


def test_a_full_online_side_keeps_an_in_person_place_while_waiting(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = _hybrid(make_event, capacity=5)
    olu, ivy = _people(make_invitation, event, 2)
    answer(client, olu, "yes", mode="online")
    answer(client, ivy, "yes", mode="in_person")

    page = _page(client, ivy)
    assert "Every online place is taken. You can join in person now" in page
    assert ">Wait for a place online, keeping my in person place</button>" in page
    answer(client, ivy, "yes_online")
    assert _row(ivy) == (YES, IN_PERSON, ONLINE, False)

    # Stopping the wait keeps the place and leaves the line; nothing is mailed.
    smtp.clear()
    answer(client, ivy, "yes_in_person")
    assert _row(ivy) == (YES, IN_PERSON, None, False)
    assert smtp.to("p1@example.org") == []

    answer(client, ivy, "yes_online")
    # Olu is asked first: someone is waiting for the online place he would give up.
    asked = answer(client, olu, "no")
    assert "You'll give up your place" in asked.get_data(as_text=True)
    answer(client, olu, "no", give_up_place="y")
    assert _row(ivy) == (YES, ONLINE, None, False)
    assert _places(event) == (0, 1)


def test_close_to_the_start_the_switch_is_offered_and_the_old_place_kept_until_accepted(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    start = utcnow().replace(microsecond=0) + timedelta(days=10)
    event = _hybrid(make_event, starts_at=start)
    ann, ben, cat = _people(make_invitation, event, 3)
    answer(client, ann, "yes", mode="in_person")
    answer(client, ben, "yes", mode="online")
    answer(client, ben, "yes_in_person")
    answer(client, cat, "yes_online")

    with time_machine.travel(start - timedelta(hours=40), tick=False):
        answer(client, ann, "no", give_up_place="y")
        assert _row(ben) == (YES, ONLINE, IN_PERSON, True)
        assert _places(event) == (1, 1)  # both of Ben's places are held
        offer = smtp.last_to("p1@example.org")
        assert "holding it for you until" in offer.text()
        assert "you keep your online place" in offer.text()
        page = _page(client, ben)
        assert "A place in person has come up for you." in page
        assert ">Accept the place in person</button>" in page

        assert client.post(rsvp_path(ben) + "/accept").status_code == 302
        assert _row(ben) == (YES, IN_PERSON, None, False)
        # Ben's online place goes on to Cat, as an offer this close to the start.
        assert _row(cat) == (OFFERED, ONLINE, None, True)
        assert _places(event) == (1, 1)
        assert smtp.last_to("p1@example.org").subject.startswith("You're coming")
        assert "holding it for you" in smtp.last_to("p2@example.org").text()


def test_an_online_event_with_a_limit_waits_and_says_so_before(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = make_event(
        format=EventFormat.ONLINE,
        venue="",
        address="",
        join_url="https://meet.example.org/room",
        online_capacity=1,
        access=EventAccess.OPEN,
    )
    make_invitation(event, answer="yes")
    public = unescape(client.get(f"/events/{event.slug}").get_data(as_text=True))
    assert "0 of 1 online" in public
    assert "Online places are full: you'll join the online waiting list." in public
    response = client.post(
        f"/events/{event.slug}/request-place",
        data={"name": "Wendy Wait", "email": "wendy@example.org"},
    )
    page = unescape(response.get_data(as_text=True))
    assert "All online places are taken" in page
    invitation = db.session.scalars(
        select(Invitation).where(Invitation.email == "wendy@example.org")
    ).one()
    assert _row(invitation) == (WAITLISTED, ONLINE, None, False)
    assert _places(event) == (0, 1)
    assert "number 1 in line" in smtp.last_to("wendy@example.org").text()


def test_the_responses_page_shows_both_counts_and_both_lines(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    event = _hybrid(make_event)
    ann, ben, cat = _people(make_invitation, event, 3)
    answer(logged_in, ann, "yes", mode="in_person")
    answer(logged_in, ben, "yes", mode="online")
    answer(logged_in, ben, "yes_in_person")
    answer(logged_in, cat, "yes_online")
    html = unescape(
        logged_in.get(f"/manage/invitations/events/{event.id}/responses").get_data(as_text=True)
    )
    assert "<dt>In person</dt><dd>1 of 1 places taken</dd>" in html
    assert "<dt>Online</dt><dd>1 of 1 places taken</dd>" in html
    assert "<dt>Waiting list, in person</dt><dd>1</dd>" in html
    assert "<dt>Waiting list, online</dt><dd>1</dd>" in html
    assert "<td>online, waiting: in person</td>" in html
    assert "<td>waiting: online</td>" in html
    assert "<h2>Waiting list, in person</h2>" in html
    assert "p1@example.org): keeps their online place meanwhile" in html
    assert "<h2>Waiting list, online</h2>" in html


def test_an_organiser_overbooking_someone_who_waits_moves_them_and_frees_their_place(
    client: FlaskClient, make_event: Any, make_invitation: Any, organiser: Any
) -> None:
    from placeevents.invitations import attendance

    event = _hybrid(make_event, online_capacity=2)
    ann, ben, cat = _people(make_invitation, event, 3)
    answer(client, ann, "yes", mode="in_person")
    answer(client, ben, "yes", mode="online")
    answer(client, cat, "yes", mode="online")
    answer(client, ben, "yes_in_person")
    assert _places(event) == (1, 2)
    ben = db.session.get(Invitation, ben.id)
    attendance.set_answer_for(
        invitation=ben,
        answer=attendance.Answer(answer=YES, mode=IN_PERSON),
        organiser=organiser,
        overbook=True,
    )
    db.session.commit()
    assert _row(ben) == (YES, IN_PERSON, None, False)
    assert _places(event) == (2, 1)  # Ben's online place released once, Cat's kept
