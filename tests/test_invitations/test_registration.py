"""Registration in one form: "Request a place" answers at once on the page, the mail follows.

A new address is invited and answers yes in one transaction: the page says "You're coming" or
"You're on the waiting list" with its number, and the confirmation (personal link, calendar
invitation) is delivered. An address already invited is mailed its own link and nothing else
changes; an erased or bounced address, and a filled honeypot, get the same page and nothing.
A registration whose confirmation the mail server refuses gives its place to the next in line.
"""

import http.client
import threading
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import urlencode, urlsplit

import icalendar
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import func, select

from placeevents.audit.models import AuditEntry
from placeevents.clock import utcnow
from placeevents.erasure import erase_person
from placeevents.events.models import Event, EventAccess, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations.models import (
    AttendanceMode,
    Invitation,
    InvitationSource,
    Rsvp,
    RsvpAnswer,
)
from placeevents.invitations.sending import PLACE_REQUEST
from placeevents.mail.bounces import record_bounce
from placeevents.mail.delivery import deliver_due
from placeevents.mail.models import Bounce, MailRequest, OutboxMessage, OutboxStatus
from placeevents.mail.requests import request_mail
from tests.conftest import Delivered, FreePortController
from tests.test_invitations.conftest import answer, links_to, path_of
from tests.test_mail.conftest import ScriptedHandler, ScriptedServer

NEUTRAL = "We have sent the details to that address"


def text(response: Any) -> str:
    return unescape(response.get_data(as_text=True))


def _path(event: Any) -> str:
    return f"/events/{event.slug}/request-place"


def _form(email: str, name: str = "Rita Request", **more: str) -> dict[str, str]:
    return {"name": name, "email": email, **more}


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        model.__tablename__: _count(model)
        for model in (Invitation, Rsvp, OutboxMessage, MailRequest, AuditEntry)
    }


def _invitation(email: str) -> Invitation:
    db.session.expire_all()
    return db.session.scalars(select(Invitation).where(Invitation.email == email)).one()


def _calendar(mail: Delivered) -> icalendar.Calendar:
    parts = [p for p in mail.message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in mail.message.walk()]
    assert parts[0].get_param("method") == "REQUEST"
    return icalendar.Calendar.from_ical(parts[0].get_payload(decode=True))


def test_a_new_person_is_coming_at_once_and_the_confirmation_follows(
    client: FlaskClient, make_event: Any, smtp: Any
) -> None:
    event = make_event(
        title="Bid and pilot", access=EventAccess.OPEN, capacity=10, ask_dietary_needs=True
    )
    shown = client.get(f"/events/{event.slug}")
    form = text(shown)
    assert "Set-Cookie" not in shown.headers
    assert "You'll see straight away whether you have a place" in form
    for label in ("Your name", "Your email address", "Any access needs", "Any dietary needs",
                  "The question you bring", "Leave this empty"):  # fmt: skip
        assert label in form
    assert ">Request a place</button>" in form
    assert "How will you take part?" not in form  # in person only

    response = client.post(
        _path(event),
        data=_form("Rita@Example.org", access_needs="Step-free access", question="How?",
                   dietary_needs="Vegetarian", website=""),
    )  # fmt: skip

    page = text(response)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "<h1>You're coming</h1>" in page
    assert "We've emailed the confirmation to rita@example.org with a calendar invitation" in page
    assert "Town Hall" in page
    assert "/rsvp/" not in page  # the personal link travels only by mail
    invitation = _invitation("rita@example.org")
    assert invitation.source == InvitationSource.REQUEST and invitation.name == "Rita Request"
    rsvp = invitation.rsvp
    assert rsvp.answer == RsvpAnswer.YES and rsvp.mode == AttendanceMode.IN_PERSON
    assert (rsvp.access_needs, rsvp.dietary_needs, rsvp.question) == (
        "Step-free access", "Vegetarian", "How?",
    )  # fmt: skip
    assert invitation.event.places_taken == 1

    [mail] = smtp.to("rita@example.org")
    assert mail.subject == "You're coming: Bid and pilot"
    assert any(links_to(link, invitation) for link in mail.links())
    (vevent,) = _calendar(mail).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Bid and pilot"
    assert "rita@example.org" in str(vevent["ATTENDEE"]).lower()
    row = db.session.scalars(select(OutboxMessage)).one()
    assert (row.kind, row.batch_key) == ("registration", f"registration-{invitation.id}")

    link = path_of(next(link for link in mail.links() if links_to(link, invitation)))
    assert "You're coming in person." in text(client.get(link))


def test_a_full_event_says_so_before_and_puts_the_person_on_the_waiting_list(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = make_event(access=EventAccess.OPEN, capacity=1)
    make_invitation(event, answer="yes")
    make_invitation(event, answer="waitlisted")

    form = text(client.get(_path(event)))
    assert "In-person places are full: you'll join the waiting list." in form
    assert ">Join the waiting list</button>" in form
    assert ">Request a place</button>" not in form

    response = client.post(_path(event), data=_form("wendy@example.org", name="Wendy Wait"))

    page = text(response)
    assert response.status_code == 200
    assert "<h1>You're on the waiting list</h1>" in page and "You're number 2." in page
    assert "/rsvp/" not in page
    invitation = _invitation("wendy@example.org")
    assert invitation.rsvp.answer == RsvpAnswer.WAITLISTED
    assert invitation.event.places_taken == 1
    [mail] = smtp.to("wendy@example.org")
    assert mail.subject.startswith("You're on the waiting list")
    assert "number 2 in line" in mail.text()
    assert any(links_to(link, invitation) for link in mail.links())


def test_a_hybrid_event_needs_the_mode_and_online_without_a_limit_is_never_full(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = make_event(
        access=EventAccess.OPEN,
        format=EventFormat.HYBRID,
        capacity=1,
        join_url="https://meet.example.org/x",
    )
    make_invitation(event, answer="yes", mode=AttendanceMode.IN_PERSON)
    form = text(client.get(_path(event)))
    assert "How will you take part?" in form
    assert "In-person places are full: in person, you'll join the waiting list" in form
    assert ">Request a place</button>" in form
    before = _counts()

    missing = client.post(_path(event), data=_form("olu@example.org"))
    assert missing.status_code == 422
    assert "Choose whether you will come in person or join online." in text(missing)
    assert _counts() == before and smtp.to("olu@example.org") == []

    online = client.post(_path(event), data=_form("olu@example.org", mode="online"))
    assert online.status_code == 200
    assert "<h1>You're coming</h1>" in text(online) and "you're coming online" in text(online)
    rsvp = _invitation("olu@example.org").rsvp
    assert rsvp.answer == RsvpAnswer.YES and rsvp.mode == AttendanceMode.ONLINE
    assert "https://meet.example.org/x" in smtp.last_to("olu@example.org").text()
    assert "https://meet.example.org/x" not in text(online)

    in_person = client.post(_path(event), data=_form("ivy@example.org", mode="in_person"))
    assert "You're number 1." in text(in_person)


@pytest.mark.parametrize("state", [None, "yes", "waitlisted", "no", "registered"])
def test_an_address_already_invited_gets_its_own_link_and_nothing_changes(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any, state: str | None
) -> None:
    event = make_event(access=EventAccess.OPEN, capacity=1)
    if state == "waitlisted":
        make_invitation(event, answer="yes")
    if state == "registered":
        client.post(_path(event), data=_form("kim@example.org", name="Kim Known"))
        smtp.clear()
    else:
        make_invitation(event, answer=state, email="kim@example.org", name="Kim Known")
    known = _invitation("kim@example.org")
    answer_before = known.rsvp.answer if known.rsvp else None
    places_before = known.event.places_taken
    rows_before = _counts()

    response = client.post(
        _path(event), data=_form("KIM@example.org", name="Someone Else", mode="online",
                                 question="Changed?")
    )  # fmt: skip

    page = text(response)
    assert response.status_code == 200
    assert f"<h1>{NEUTRAL}</h1>" in page
    for secret in ("Kim", "Someone Else", "coming", "waiting list", "number", "/rsvp/"):
        assert secret not in page, secret
    after = _invitation("kim@example.org")
    assert after.name == "Kim Known" and after.id == known.id
    assert (after.rsvp.answer if after.rsvp else None) == answer_before
    assert after.rsvp is None or after.rsvp.question == ""
    assert after.event.places_taken == places_before
    # One more row: the mail with the person's own link.
    assert _counts() == {**rows_before, "outbox_message": rows_before["outbox_message"] + 1}
    # (A waiting list's own mail, left in the outbox by make_invitation, goes out too.)
    [mail] = [m for m in smtp.to("kim@example.org") if "waiting list" not in m.subject]
    assert mail.subject.startswith("Your link to answer")
    assert any(links_to(link, after) for link in mail.links())


@pytest.mark.parametrize("who", ["erased", "bounced", "robot"])
def test_an_erased_or_bounced_address_and_a_robot_get_the_same_page_and_nothing(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any, who: str
) -> None:
    event = make_event(access=EventAccess.OPEN, capacity=5)
    # Someone waits for nothing: a place freed by the erasure below is not for them to lose.
    email = f"{who}@example.org"
    if who == "erased":
        make_invitation(event, answer="yes", email=email)
        erase_person(email=email)
    if who == "bounced":
        record_bounce(email=email, reason="550 no such user")
    db.session.commit()
    before = _counts()

    data = _form(email, website="https://spam.example" if who == "robot" else "")
    response = client.post(_path(event), data=data)

    assert response.status_code == 200
    assert f"<h1>{NEUTRAL}</h1>" in text(response)
    assert _counts() == before
    assert smtp.to(email) == []


def test_a_filled_honeypot_wins_over_every_other_field(
    client: FlaskClient, make_event: Any, smtp: Any
) -> None:
    event = make_event(access=EventAccess.OPEN, format=EventFormat.HYBRID)
    before = _counts()
    response = client.post(_path(event), data={"email": "nope", "website": "x"})
    assert response.status_code == 200 and f"<h1>{NEUTRAL}</h1>" in text(response)
    assert _counts() == before and smtp.messages == []


def test_bad_input_is_refused_beside_the_field_and_writes_nothing(
    client: FlaskClient, make_event: Any, smtp: Any
) -> None:
    event = make_event(access=EventAccess.OPEN)
    before = _counts()
    for data, message in (
        (_form("not-an-address"), "Enter a valid email address."),
        (_form("ann@example.org", name=""), "Enter your name."),
        (_form(""), "This field is required."),
        (_form("ann@example.org", name="Ann\nBcc: x@example.org"), "control characters"),
    ):
        response = client.post(_path(event), data=data)
        assert response.status_code == 422, data
        page = text(response)
        assert message in page and 'class="error"' in page, (data, page)
    assert _counts() == before and smtp.messages == []


@pytest.mark.parametrize(
    ("change", "title", "says"),
    [
        ({"access": EventAccess.INVITATION}, "Places by invitation", "by invitation only"),
        ({"status": EventStatus.CANCELLED}, "Requests are closed", "has been cancelled"),
        ({"started": True}, "Requests are closed", "has already started"),
        ({"deadline": True}, "Requests are closed", "Answers closed on"),
    ],
)
def test_an_event_not_taking_registrations_says_why(
    client: FlaskClient,
    make_event: Any,
    smtp: Any,
    change: dict[str, Any],
    title: str,
    says: str,
) -> None:
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    fields: dict[str, Any] = {"access": EventAccess.OPEN, "starts_at": start}
    fields.update({k: v for k, v in change.items() if k in ("access", "status")})
    if change.get("deadline"):
        fields["rsvp_deadline"] = utcnow() - timedelta(hours=1)
    event = make_event(**fields)
    when = start + timedelta(minutes=5) if change.get("started") else utcnow()
    before = _counts()
    with time_machine.travel(when, tick=False):
        shown = client.get(_path(event))
        response = client.post(_path(event), data=_form("ann@example.org"))
        event_page = text(client.get(f"/events/{event.slug}"))
    assert shown.status_code == 200 and response.status_code == 422
    for page in (text(shown), text(response)):
        assert f"<h1>{title}</h1>" in page and says in page and 'name="email"' not in page
    assert "Request a place</h2>" not in event_page
    assert _counts() == before and smtp.messages == []


def test_the_limits_of_request_a_place_still_apply(app: Flask, make_event: Any, smtp: Any) -> None:
    event = make_event(access=EventAccess.OPEN)
    statuses = [
        app.test_client().post(_path(event), data=_form("same@example.org")).status_code
        for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    assert len(smtp.to("same@example.org")) == 5  # the confirmation, then her link four times
    assert app.test_client().post(_path(event), data=_form("other@example.org")).status_code == 200


def test_a_request_queued_before_the_change_is_still_answered(make_event: Any, smtp: Any) -> None:
    event = make_event(access=EventAccess.OPEN)
    request_mail(
        kind=PLACE_REQUEST, email="old@example.org", payload={"event_id": event.id, "name": "Old"}
    )
    db.session.commit()

    assert deliver_due().requests == 1
    deliver_due()

    invitation = _invitation("old@example.org")
    assert invitation.source == InvitationSource.REQUEST and invitation.rsvp is None
    assert any(links_to(link, invitation) for link in smtp.last_to("old@example.org").links())


# --- a confirmation the mail server refuses


@pytest.fixture
def refusing_smtp(app: Flask) -> Iterator[ScriptedServer]:
    """The app's mail goes to a server that refuses gone@example.org (550 at RCPT)."""
    handler = ScriptedHandler()
    handler.rcpt_replies = {"gone@example.org": "550 5.1.1 No such mailbox"}
    controller = FreePortController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        yield ScriptedServer("127.0.0.1", controller.port, handler)
    finally:
        controller.stop()


def _to(server: ScriptedServer, address: str) -> list[Delivered]:
    return [d for d in server.handler.received if address in d.rcpt_tos]


def test_a_refused_confirmation_gives_the_place_to_the_next_in_line(
    client: Any, make_event: Any, refusing_smtp: ScriptedServer
) -> None:
    event = make_event(access=EventAccess.OPEN, capacity=1, title="Bid and pilot")
    client.delivering = False  # the worker comes after both have registered
    taken = client.post(_path(event), data=_form("gone@example.org", name="Gone Away"))
    waiting = client.post(_path(event), data=_form("next@example.org", name="Nell Next"))
    assert "<h1>You're coming</h1>" in text(taken)
    assert "You're number 1." in text(waiting)

    report = deliver_due()
    deliver_due()  # the promotion mail queued by the first pass

    assert report.failed == 1
    gone, nell = _invitation("gone@example.org"), _invitation("next@example.org")
    assert gone.rsvp.answer == RsvpAnswer.NO and gone.rsvp.mode is None
    assert nell.rsvp.answer == RsvpAnswer.YES
    assert gone.event.places_taken == 1
    assert _to(refusing_smtp, "gone@example.org") == []
    waitlisted, promoted = _to(refusing_smtp, "next@example.org")
    assert promoted.subject == "A place has come up: Bid and pilot"
    assert any(links_to(link, nell) for link in promoted.links())
    refused = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
    ).one()
    assert refused.batch_key == f"registration-{gone.id}" and "550" in refused.last_error
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "registration.released")
    ).one()
    assert entry.actor == "system" and entry.target == f"event:{event.id}"
    assert "gone@example.org: the confirmation mail was refused (gone@example.org: 550" in (
        entry.detail
    )
    assert db.session.scalar(select(Bounce.email)) == "gone@example.org"
    # Asking again later changes nothing: the address is known not to take our mail.
    again = client.post(_path(event), data=_form("gone@example.org"))
    assert f"<h1>{NEUTRAL}</h1>" in text(again)


def test_a_refused_waiting_list_registration_leaves_the_line(
    client: Any, make_event: Any, make_invitation: Any, refusing_smtp: ScriptedServer
) -> None:
    event = make_event(access=EventAccess.OPEN, capacity=1)
    make_invitation(event, answer="yes")
    page = client.post(_path(event), data=_form("gone@example.org"))
    assert "You're number 1." in text(page)
    db.session.expire_all()
    gone = _invitation("gone@example.org")
    assert gone.rsvp.answer == RsvpAnswer.NO and gone.event.places_taken == 1
    assert "You're number 1." in text(client.post(_path(event), data=_form("w@example.org")))


def test_a_refused_confirmation_of_an_invitee_releases_nothing(
    client: Any, make_event: Any, make_invitation: Any, refusing_smtp: ScriptedServer
) -> None:
    event = make_event(access=EventAccess.OPEN, capacity=1)
    invited = make_invitation(event, email="gone@example.org")
    assert answer(client, invited, "yes").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.status)) == OutboxStatus.FAILED
    assert _invitation("gone@example.org").rsvp.answer == RsvpAnswer.YES
    assert _count(AuditEntry) == 0


# --- at once


def _register(base: str, path: str, email: str) -> tuple[int, str]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    conn.request(
        "POST",
        path,
        body=urlencode({"name": "Crowd Person", "email": email}),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": base,
            "Sec-Fetch-Site": "same-origin",
        },
    )
    response = conn.getresponse()
    result = response.status, unescape(response.read().decode())
    conn.close()
    return result


def test_simultaneous_registrations_take_the_places_exactly(
    live_server: Any, make_event: Any
) -> None:
    event = make_event(access=EventAccess.OPEN, capacity=5)
    path, event_id = _path(event), event.id
    db.session.close()
    emails = [f"crowd{n}@example.org" for n in range(24)] + ["twice@example.org"] * 2
    start = threading.Barrier(len(emails))
    pages: dict[str, list[tuple[int, str]]] = {}
    lock = threading.Lock()

    def register(email: str) -> None:
        start.wait()
        outcome = _register(live_server.url, path, email)
        with lock:
            pages.setdefault(email, []).append(outcome)

    threads = [threading.Thread(target=register, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert all(status == 200 for outcomes in pages.values() for status, _ in outcomes)
    twice = sorted("You're" in page for _, page in pages["twice@example.org"])
    assert twice == [False, True]  # one registration; the other was sent the link
    db.session.expire_all()
    answers = dict(
        db.session.execute(select(Rsvp.answer, func.count()).group_by(Rsvp.answer)).all()
    )
    assert answers == {RsvpAnswer.YES: 5, RsvpAnswer.WAITLISTED: 20}
    assert db.session.get(Event, event_id).places_taken == 5
    shown = [page for outcomes in pages.values() for _, page in outcomes]
    assert sum("<h1>You're coming</h1>" in page for page in shown) == 5
    assert sum("<h1>You're on the waiting list</h1>" in page for page in shown) == 20


# --- in the browser


@pytest.mark.browser
def test_register_from_the_event_page_by_its_labels(
    live_server: Any, page: Any, make_event: Any, smtp: Any
) -> None:
    event = make_event(
        title="Sharing the learning", access=EventAccess.OPEN, capacity=20,
        format=EventFormat.HYBRID,
    )  # fmt: skip
    slug = event.slug
    db.session.close()

    page.goto(f"{live_server.url}/events/{slug}")
    form = page.get_by_role("region", name="Request a place")
    form.get_by_label("Your name").fill("Bea Browser")
    form.get_by_label("Your email address").fill("bea@example.org")
    form.get_by_label("In person").check()
    form.get_by_label("Any access needs we should plan for?").fill("A hearing loop")
    form.get_by_role("button", name="Request a place").click()

    expect(page.get_by_role("heading", name="You're coming")).to_be_visible()
    expect(page.get_by_text("We've emailed the confirmation to bea@example.org")).to_be_visible()
    mail = smtp.wait_for("bea@example.org")
    assert mail.subject == "You're coming: Sharing the learning"
    rsvp = db.session.scalars(select(Rsvp)).one()
    assert rsvp.mode == AttendanceMode.IN_PERSON and rsvp.access_needs == "A hearing loop"


def test_the_event_page_shows_its_registration_as_it_is_now(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    # The section is rendered once for what it shows: each change shows on the next view.
    event = make_event(access=EventAccess.OPEN, capacity=1, ask_dietary_needs=False)

    def section() -> str:
        return text(client.get(f"/events/{event.slug}"))

    assert ">Request a place</button>" in section() and "Any dietary needs?" not in section()
    response = client.post(_path(event), data=_form("first@example.org"))
    assert response.status_code == 200
    shown = section()
    assert ">Join the waiting list</button>" in shown and ">Request a place</button>" not in shown

    event.ask_dietary_needs = True
    db.session.commit()
    assert "Any dietary needs?" in section()

    event.access = EventAccess.INVITATION
    db.session.commit()
    assert "Request a place</h2>" not in section()
