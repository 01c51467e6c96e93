"""Check-in on the day: search, mark attendance, undo; a phone-sized journey in Chromium."""

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import select

from placeevents.audit.models import AuditEntry
from placeevents.events.models import Event, EventFormat
from placeevents.extensions import db
from placeevents.invitations import attendance
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer
from tests.conftest import ORGANISER_PASSWORD, count_queries

ON_THE_DAY = datetime(2024, 6, 4, 9, 5, tzinfo=UTC)


@pytest.fixture
def event(make_event: Any, make_invitation: Any) -> Any:
    """Two in-person places, one of them already Zoe's."""
    event = make_event(
        slug="bid-and-pilot-leeds",
        starts_at=datetime(2024, 6, 4, 9, 30, tzinfo=UTC),
        ends_at=datetime(2024, 6, 4, 12, 30, tzinfo=UTC),
        capacity=2,
    )
    make_invitation(event, answer="yes", name="Zoe Early")
    return event


def _rsvp(invitation_id: int) -> Rsvp | None:
    db.session.expire_all()
    return db.session.scalar(select(Rsvp).where(Rsvp.invitation_id == invitation_id))


def test_the_list_shows_confirmed_people_and_search_finds_anyone(
    logged_in: FlaskClient, event: Any, make_invitation: Any
) -> None:
    make_invitation(event, answer="yes", name="Ada Lovelace", organisation="Analytical Council")
    make_invitation(event, answer="maybe", name="Adam Maybe")
    make_invitation(event, name="Grace Hopper", organisation="Navy")
    make_invitation(event, answer="no", name="Ed Declined")
    url = f"/manage/exports/events/{event.id}/check-in"
    html = logged_in.get(url).get_data(as_text=True)
    assert "Ada Lovelace" in html and "Grace Hopper" not in html and "Adam Maybe" not in html
    assert "<strong>0</strong> checked in · 2 confirmed" in html
    html = logged_in.get(url, query_string={"q": "ada"}).get_data(as_text=True)
    assert "Ada Lovelace" in html and "Adam Maybe" in html and "Grace Hopper" not in html
    html = logged_in.get(url, query_string={"q": "navy"}).get_data(as_text=True)
    assert "Grace Hopper" in html and '<span class="badge">No answer</span>' in html
    html = logged_in.get(url, query_string={"q": "100%_"}).get_data(as_text=True)
    assert "Nobody invited matches that." in html


def test_check_in_and_undo(
    logged_in: FlaskClient, event: Any, make_invitation: Any, organiser: Any
) -> None:
    ada = make_invitation(event, answer="yes", name="Ada Lovelace")
    url = f"/manage/exports/events/{event.id}"
    with time_machine.travel(ON_THE_DAY, tick=False):
        response = logged_in.post(f"{url}/check-in/{ada.id}", data={"q": "ada"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{url}/check-in?q=ada#person-{ada.id}"
    rsvp = _rsvp(ada.id)
    assert rsvp is not None and rsvp.attended and rsvp.checked_in_at == ON_THE_DAY
    assert rsvp.answer == RsvpAnswer.YES
    html = logged_in.get(f"{url}/check-in").get_data(as_text=True)
    assert "<strong>1</strong> checked in · 2 confirmed" in html
    assert "Checked in Tue 4 June 2024, 10:05 BST" in html
    assert 'aria-label="Undo check-in of Ada Lovelace"' in html

    # A second tap (two phones at the door) changes nothing.
    logged_in.post(f"{url}/check-in/{ada.id}")
    assert _rsvp(ada.id).checked_in_at == ON_THE_DAY  # type: ignore[union-attr]

    logged_in.post(f"{url}/check-in/{ada.id}/undo")
    rsvp = _rsvp(ada.id)
    assert rsvp is not None and not rsvp.attended and rsvp.checked_in_at is None
    assert rsvp.answer == RsvpAnswer.YES
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor) for e in entries] == [
        ("check-in", organiser.email),
        ("check-in.undone", organiser.email),
    ]
    assert "Ada Lovelace" in entries[0].detail


def test_a_maybe_who_comes_takes_a_place_and_undo_gives_their_maybe_back(
    logged_in: FlaskClient, event: Any, make_invitation: Any
) -> None:
    dee = make_invitation(event, answer="maybe", name="Dee")
    logged_in.post(f"/manage/exports/events/{event.id}/check-in/{dee.id}")
    rsvp = _rsvp(dee.id)
    assert rsvp is not None and rsvp.attended and rsvp.answer == RsvpAnswer.YES
    assert rsvp.mode == AttendanceMode.IN_PERSON
    assert db.session.get(Event, event.id).places_taken == 2  # type: ignore[union-attr]
    logged_in.post(f"/manage/exports/events/{event.id}/check-in/{dee.id}/undo")
    rsvp = _rsvp(dee.id)
    assert rsvp is not None and not rsvp.attended and rsvp.answer == RsvpAnswer.MAYBE
    assert db.session.get(Event, event.id).places_taken == 1  # type: ignore[union-attr]


def test_a_waitlisted_person_who_arrives_takes_the_free_place_and_leaves_the_list(
    logged_in: FlaskClient, event: Any, make_invitation: Any, organiser: Any
) -> None:
    hal = make_invitation(event, answer="yes", name="Hal")
    wes = make_invitation(event, answer="waitlisted", name="Wes")
    # Hal drops out once the event has begun: too late for his place to be offered to Wes.
    attendance.set_answer_for(
        invitation=hal,
        answer=attendance.Answer(RsvpAnswer.NO),
        organiser=organiser,
        notify=False,
    )
    db.session.commit()
    logged_in.post(f"/manage/exports/events/{event.id}/check-in/{wes.id}")
    rsvp = _rsvp(wes.id)
    assert rsvp is not None and rsvp.attended and rsvp.answer == RsvpAnswer.YES
    assert not rsvp.overbooked
    assert db.session.get(Event, event.id).places_taken == 2  # type: ignore[union-attr]
    html = logged_in.get(f"/manage/exports/events/{event.id}/check-in").get_data(as_text=True)
    assert "<strong>1</strong> checked in · 2 confirmed" in html
    assert "2 of 2 in-person places taken" in html


def test_someone_without_an_answer_is_recorded_as_yes_and_undo_removes_it(
    logged_in: FlaskClient, event: Any, make_invitation: Any, organiser: Any
) -> None:
    fay = make_invitation(event, name="Fay")
    url = f"/manage/exports/events/{event.id}/check-in/{fay.id}"
    with time_machine.travel(ON_THE_DAY, tick=False):
        logged_in.post(url)
    rsvp = _rsvp(fay.id)
    assert rsvp is not None and rsvp.attended and rsvp.answer == RsvpAnswer.YES
    assert rsvp.mode == AttendanceMode.IN_PERSON
    assert rsvp.set_by_organiser_id == organiser.id and not rsvp.overbooked
    assert db.session.get(Event, event.id).places_taken == 2  # type: ignore[union-attr]
    assert "no answer before" in db.session.scalar(select(AuditEntry.detail))

    with time_machine.travel(ON_THE_DAY.replace(minute=20), tick=False):
        logged_in.post(url + "/undo")
    assert _rsvp(fay.id) is None
    assert db.session.get(Event, event.id).places_taken == 1  # type: ignore[union-attr]


def test_a_walk_in_beyond_capacity_is_checked_in_only_as_an_explicit_overbooking(
    logged_in: FlaskClient, event: Any, make_invitation: Any
) -> None:
    make_invitation(event, answer="yes", name="Hal")
    gus = make_invitation(event, name="Gus")
    url = f"/manage/exports/events/{event.id}/check-in/{gus.id}"
    asked = logged_in.post(url)
    assert _rsvp(gus.id) is None
    html = logged_in.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Every in-person place is taken" in html
    assert "Check in anyway (overbook)" in html
    logged_in.post(url, data={"overbook": "1"})
    rsvp = _rsvp(gus.id)
    assert rsvp is not None and rsvp.attended and rsvp.overbooked
    assert db.session.get(Event, event.id).places_taken == 3  # type: ignore[union-attr]
    assert "overbooked" in db.session.scalar(
        select(AuditEntry.detail).where(AuditEntry.action == "check-in")
    )


def test_online_events_check_people_in_online(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    event = make_event(format=EventFormat.ONLINE, venue="", address="")
    ola = make_invitation(event, name="Ola")
    logged_in.post(f"/manage/exports/events/{event.id}/check-in/{ola.id}")
    rsvp = _rsvp(ola.id)
    assert rsvp is not None and rsvp.mode == AttendanceMode.ONLINE
    assert db.session.get(Event, event.id).places_taken == 0  # type: ignore[union-attr]


def test_people_of_another_event_cannot_be_checked_in(
    logged_in: FlaskClient, event: Any, make_event: Any, make_invitation: Any
) -> None:
    stranger = make_invitation(make_event(), answer="yes", name="Stranger")
    response = logged_in.post(f"/manage/exports/events/{event.id}/check-in/{stranger.id}")
    assert response.status_code == 303
    assert not _rsvp(stranger.id).attended  # type: ignore[union-attr]
    html = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "That person is not on this event&#39;s list." in html


def test_check_in_needs_a_post_with_csrf(
    app: Any, logged_in: FlaskClient, event: Any, make_invitation: Any
) -> None:
    ada = make_invitation(event, answer="yes", name="Ada")
    app.config["WTF_CSRF_ENABLED"] = True
    client = logged_in
    assert client.get(f"/manage/exports/events/{event.id}/check-in/{ada.id}").status_code == 405
    assert client.post(f"/manage/exports/events/{event.id}/check-in/{ada.id}").status_code == 400
    assert not _rsvp(ada.id).attended  # type: ignore[union-attr]


def test_the_check_in_page_runs_a_fixed_number_of_queries(
    logged_in: FlaskClient, event: Any, make_invitation: Any
) -> None:
    event.capacity = None  # room for everyone
    counts = []
    for people in (3, 40):
        while (
            db.session.scalar(
                select(db.func.count(Invitation.id)).where(Invitation.event_id == event.id)
            )
            < people
        ):
            make_invitation(event, answer="yes")
        with count_queries() as queries:
            logged_in.get(f"/manage/exports/events/{event.id}/check-in")
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.browser
def test_check_in_on_a_phone(
    live_server: Any, page: Any, make_organiser: Any, make_event: Any, make_invitation: Any
) -> None:
    with live_server.app.app_context():
        make_organiser(email="door@example.org", name="Door Keeper")
        event = make_event(title="Bid and pilot: Leeds")
        make_invitation(event, answer="yes", name="Ada Lovelace")
        make_invitation(event, answer="yes", name="Bea Baker")
        silent = make_invitation(event, name="Grace Hopper", organisation="Navy")
        event_id, silent_id = event.id, silent.id
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill("door@example.org")
    page.get_by_label("Password").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/manage/exports/events/{event_id}/check-in")
    expect(page.get_by_text("0 checked in · 2 confirmed")).to_be_visible()
    # Nothing spills sideways on a narrow screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.get_by_role("button", name="Check in Ada Lovelace").click()
    page.get_by_role("button", name="Undo check-in of Ada Lovelace").wait_for()
    expect(page.get_by_text("1 checked in · 2 confirmed")).to_be_visible()

    page.get_by_label("Find someone").fill("grace")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Check in Grace Hopper").click()
    page.get_by_role("button", name="Undo check-in of Grace Hopper").wait_for()
    assert "q=grace" in page.url

    page.get_by_role("button", name="Undo check-in of Grace Hopper").click()
    page.get_by_role("button", name="Check in Grace Hopper").wait_for()

    with live_server.app.app_context():
        ada = db.session.scalar(select(Invitation).where(Invitation.name == "Ada Lovelace"))
        assert ada is not None and ada.rsvp is not None and ada.rsvp.attended
        assert db.session.get(Invitation, silent_id).rsvp is None  # type: ignore[union-attr]
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["check-in", "check-in", "check-in.undone"]


def test_the_list_says_how_each_person_attends(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    hybrid = make_event(format=EventFormat.HYBRID, join_url="https://meet.example.org/x")
    ada = make_invitation(hybrid, answer="yes", name="Ada Room", mode=AttendanceMode.IN_PERSON)
    bea = make_invitation(hybrid, answer="yes", name="Bea Screen", mode=AttendanceMode.ONLINE)
    html = logged_in.get(f"/manage/exports/events/{hybrid.id}/check-in").get_data(as_text=True)
    ada_item = html[html.index(f'id="person-{ada.id}"') :]
    bea_item = html[html.index(f'id="person-{bea.id}"') :]
    assert '<span class="badge badge--mode">In person</span>' in ada_item.split("</li>")[0]
    assert '<span class="badge badge--mode">Online</span>' in bea_item.split("</li>")[0]


def test_badges_use_peoples_words_for_each_answer(
    logged_in: FlaskClient, event: Any, make_invitation: Any
) -> None:
    # Whoever is offered a place was first in line.
    for answer in ("yes", "offered", "waitlisted", "maybe", "no", None):
        make_invitation(event, answer=answer, name=f"Pat {answer or 'silent'}")
    with time_machine.travel(ON_THE_DAY, tick=False):
        html = logged_in.get(
            f"/manage/exports/events/{event.id}/check-in", query_string={"q": "pat"}
        ).get_data(as_text=True)
    badges = re.findall(r'<span class="badge">([^<]+)</span>', html)
    assert sorted(badges) == sorted(
        ["Coming", "Waiting list", "Offered a place", "Maybe", "Not coming", "No answer"]
    )


@pytest.mark.browser
def test_the_printed_sign_in_sheet_leaves_out_the_organiser_menu(
    live_server: Any, page: Any, make_organiser: Any, make_event: Any, make_invitation: Any
) -> None:
    with live_server.app.app_context():
        make_organiser(email="desk@example.org")
        event = make_event(title="Bid and pilot: Leeds")
        make_invitation(event, answer="yes", name="Ada Lovelace")
        event_id = event.id
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill("desk@example.org")
    page.get_by_label("Password").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/manage/exports/events/{event_id}/")
    page.get_by_role("button", name="Printable sign-in sheet").click()
    # On a busy machine the sheet may still be loading when the click returns.
    page.wait_for_url("**/sign-in-sheet*")
    expect(page.get_by_role("navigation", name="Organiser")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Organiser")).not_to_be_visible()
    expect(page.locator(".site-header")).not_to_be_visible()
    expect(page.get_by_role("heading", level=1, name="Bid and pilot: Leeds")).to_be_visible()
    expect(page.get_by_role("cell", name="Ada Lovelace")).to_be_visible()


def test_the_page_shows_the_events_date_and_warns_on_another_day(
    logged_in: FlaskClient, event: Any
) -> None:
    url = f"/manage/exports/events/{event.id}/check-in"
    warning = "This event is not today."
    # 23:30 in London the evening before is still another day; 00:30 BST on the day is not.
    with time_machine.travel(datetime(2024, 6, 3, 22, 30, tzinfo=UTC), tick=False):
        html = logged_in.get(url).get_data(as_text=True)
    assert "Tue 4 June 2024" in html and warning in html
    with time_machine.travel(datetime(2024, 6, 3, 23, 30, tzinfo=UTC), tick=False):
        assert warning not in logged_in.get(url).get_data(as_text=True)
    with time_machine.travel(ON_THE_DAY, tick=False):
        assert warning not in logged_in.get(url).get_data(as_text=True)
