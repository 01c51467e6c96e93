"""Several explorations at once: a person answers their other invitations of an enquiry from
one RSVP page, or registers for several open events from the enquiry's page.

Each answer goes through attendance (places, waiting list); the person gets one summary mail
and one calendar invitation mail per event where they have a place, each read by icalendar and
ical.js. Bad choices (an unknown event, another enquiry's, a closed one, a missing mode) are
refused with a message and change nothing.
"""

import re
from html import unescape
from typing import Any

import icalendar
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placeevents.events.models import EventAccess, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations.models import (
    AttendanceMode,
    Invitation,
    InvitationSource,
    Rsvp,
    RsvpAnswer,
)
from placeevents.mail.delivery import deliver_due
from placeevents.mail.models import OutboxMessage
from tests.conftest import Delivered, count_queries
from tests.test_calendar.conftest import parse_with_icaljs
from tests.test_invitations.conftest import links_to, rsvp_path
from tests.test_invitations.test_registration import refusing_smtp  # noqa: F401


def text(response: Any) -> str:
    return unescape(response.get_data(as_text=True))


def _counts() -> tuple[int, int, int]:
    db.session.expire_all()
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Invitation, Rsvp, OutboxMessage)
    )


def _calendar_mails(mails: list[Delivered]) -> dict[str, icalendar.Event]:
    """Each calendar mail's one VEVENT by SUMMARY, checked by icalendar and ical.js."""
    found = {}
    for mail in mails:
        parts = [p for p in mail.message.walk() if p.get_content_type() == "text/calendar"]
        if not parts:
            continue
        assert len(parts) == 1
        assert parts[0].get_param("method") == "REQUEST"
        data = parts[0].get_payload(decode=True)
        calendar = icalendar.Calendar.from_ical(data)
        (vevent,) = calendar.walk("VEVENT")
        parsed = parse_with_icaljs(data)
        assert parsed["method"] == "REQUEST"
        (js_event,) = parsed["events"]
        assert js_event["uid"] == str(vevent["UID"])
        assert js_event["summary"] == str(vevent["SUMMARY"])
        assert js_event["sequence"] == int(vevent["SEQUENCE"])
        found[str(vevent["SUMMARY"])] = vevent
    return found


def _summary(mails: list[Delivered]) -> Delivered:
    [summary] = [
        m for m in mails
        if not any(p.get_content_type() == "text/calendar" for p in m.message.walk())
    ]  # fmt: skip
    return summary


# --- from an RSVP page


@pytest.fixture
def three_invitations(make_enquiry: Any, make_event: Any, make_invitation: Any) -> Any:
    """Ann is invited to three events of one enquiry: a roomy one, a full one (someone else
    holds its one place) and a hybrid one; and to one event of another enquiry."""
    enquiry = make_enquiry(title="Housing enquiry")
    days = iter(range(10, 40, 5))

    def event(**kw: Any) -> Any:
        from datetime import UTC, datetime, timedelta

        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=next(days))
        return make_event(enquiry=enquiry, starts_at=start, **kw)

    first = event(title="Opening circle", capacity=10)
    roomy = event(title="Roomy walk", capacity=10)
    full = event(title="Full workshop", capacity=1)
    hybrid = event(
        title="Hybrid panel", format=EventFormat.HYBRID, capacity=5,
        join_url="https://meet.example.org/p",
    )  # fmt: skip
    make_invitation(full, answer="yes", email="bea@example.org")
    elsewhere = make_event(title="Other enquiry's event")
    ann = {
        e.title: make_invitation(e, email="ann@example.org", name="Ann Answer")
        for e in (first, roomy, full, hybrid, elsewhere)
    }
    return ann


def test_the_rsvp_page_lists_the_other_open_invitations_and_one_form_answers_them(
    client: FlaskClient, three_invitations: Any, smtp: Any
) -> None:
    ann = three_invitations
    page = text(client.get(rsvp_path(ann["Opening circle"])))
    section = page[page.index("Other explorations you're invited to") :]
    for title in ("Roomy walk", "Full workshop", "Hybrid panel"):
        assert title in section
    assert "Other enquiry's event" not in section and "Opening circle" not in section
    assert "10 places left" in section and "Waiting list" in section
    assert "Face-to-face" in section and "Hybrid" in section
    roomy, full, hybrid = (ann[t] for t in ("Roomy walk", "Full workshop", "Hybrid panel"))

    response = client.post(
        f"{rsvp_path(ann['Opening circle'])}/others",
        data={
            f"answer_{roomy.id}": "yes",
            f"answer_{full.id}": "yes",
            f"answer_{hybrid.id}": "yes",
            f"mode_{hybrid.id}": "online",
        },
    )

    assert response.status_code == 200, text(response)
    shown = text(response)
    assert "Your answers are recorded" in shown
    assert "Waiting list: number 1 in line" in shown
    db.session.expire_all()
    rsvps = {t: ann[t].rsvp for t in ann}
    assert rsvps["Opening circle"] is None  # the page's own invitation is left alone
    assert (rsvps["Roomy walk"].answer, rsvps["Roomy walk"].mode) == (
        RsvpAnswer.YES, AttendanceMode.IN_PERSON,
    )  # fmt: skip
    assert rsvps["Full workshop"].answer == RsvpAnswer.WAITLISTED
    assert (rsvps["Hybrid panel"].answer, rsvps["Hybrid panel"].mode) == (
        RsvpAnswer.YES, AttendanceMode.ONLINE,
    )  # fmt: skip
    assert ann["Roomy walk"].event.places_taken == 1
    assert ann["Full workshop"].event.places_taken == 1
    assert ann["Hybrid panel"].event.places_taken == 0

    mails = smtp.to("ann@example.org")
    assert len(mails) == 3  # one summary, two calendar invitations
    summary = _summary(mails)
    assert summary.subject == "Your answers: 3 events"
    body = summary.text()
    assert "A place: you're coming in person" in body
    assert "Waiting list: number 1 in line" in body
    assert "A place: you're coming online" in body
    for title in ("Roomy walk", "Full workshop", "Hybrid panel"):
        assert any(links_to(link, ann[title]) for link in summary.links())
    calendars = _calendar_mails([m for m in mails if m is not summary])
    assert set(calendars) == {"Roomy walk", "Hybrid panel"}
    assert calendars["Roomy walk"]["UID"] != calendars["Hybrid panel"]["UID"]
    assert calendars["Roomy walk"]["UID"] == ann["Roomy walk"].event.calendar_uid
    assert "https://meet.example.org/p" in calendars["Hybrid panel"].to_ical().decode()
    assert rsvps["Roomy walk"].calendar_sequence >= 1


def test_mixed_answers_take_back_a_calendar_entry_and_pass_a_place_on(
    client: FlaskClient, make_enquiry: Any, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    enquiry = make_enquiry()
    here = make_event(enquiry=enquiry, title="Here")
    kept = make_event(enquiry=enquiry, title="Kept", capacity=1)
    maybe = make_event(enquiry=enquiry, title="Maybe one")
    page_invitation = make_invitation(here, email="cy@example.org")
    holding = make_invitation(kept, email="cy@example.org")
    client.post(rsvp_path(holding), data={"answer": "yes"})
    waiting = make_invitation(kept, answer="waitlisted", email="dee@example.org")
    make_invitation(maybe, email="cy@example.org")
    smtp.clear()
    sequence_before = db.session.get(Rsvp, holding.rsvp.id).calendar_sequence
    maybe_invitation = db.session.scalars(
        select(Invitation).where(Invitation.event_id == maybe.id)
    ).one()

    response = client.post(
        f"{rsvp_path(page_invitation)}/others",
        data={f"answer_{holding.id}": "no", f"answer_{maybe_invitation.id}": "maybe"},
    )

    assert response.status_code == 200, text(response)
    db.session.expire_all()
    assert db.session.get(Invitation, holding.id).rsvp.answer == RsvpAnswer.NO
    assert db.session.get(Invitation, maybe_invitation.id).rsvp.answer == RsvpAnswer.MAYBE
    assert db.session.get(Invitation, waiting.id).rsvp.answer == RsvpAnswer.YES  # promoted
    mails = smtp.to("cy@example.org")
    assert len(mails) == 2  # the summary, and the cancellation of the entry sent before
    summary = next(m for m in mails if m.subject.startswith("Your answers"))
    assert "No, you're not coming" in summary.text() and "Maybe" in summary.text()
    [cancel] = [m for m in mails if m is not summary]
    part = next(p for p in cancel.message.walk() if p.get_content_type() == "text/calendar")
    assert part.get_param("method") == "CANCEL"
    (vevent,) = icalendar.Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    assert int(vevent["SEQUENCE"]) > sequence_before
    assert parse_with_icaljs(part.get_payload(decode=True))["method"] == "CANCEL"
    assert smtp.to("dee@example.org")  # the promotion is told as ever


@pytest.mark.parametrize("case", ["unknown", "other enquiry", "missing mode", "bad answer"])
def test_bad_answers_from_the_rsvp_page_are_refused_and_change_nothing(
    client: FlaskClient, three_invitations: Any, smtp: Any, case: str
) -> None:
    ann = three_invitations
    hybrid = ann["Hybrid panel"]
    data = {
        "unknown": {"answer_999999": "yes"},
        "other enquiry": {f"answer_{ann['Other enquiry' + chr(39) + 's event'].id}": "yes"},
        "missing mode": {f"answer_{hybrid.id}": "yes"},
        "bad answer": {f"answer_{hybrid.id}": "perhaps"},
    }[case]
    before = _counts()
    response = client.post(f"{rsvp_path(ann['Opening circle'])}/others", data=data)
    assert response.status_code == 422
    page = text(response)
    expected = {
        "unknown": "not one of your invitations here",
        "other enquiry": "not one of your invitations here",
        "missing mode": "Choose whether you will come in person or join online.",
        "bad answer": "Not a valid choice",
    }[case]
    assert expected in page
    assert _counts() == before and smtp.to("ann@example.org") == []


def test_a_closed_event_is_not_offered_nor_answered(
    client: FlaskClient, three_invitations: Any
) -> None:
    ann = three_invitations
    roomy = ann["Roomy walk"]
    roomy.event.status = EventStatus.CANCELLED
    db.session.commit()
    page = text(client.get(rsvp_path(ann["Opening circle"])))
    assert "Roomy walk" not in page
    response = client.post(
        f"{rsvp_path(ann['Opening circle'])}/others", data={f"answer_{roomy.id}": "yes"}
    )
    assert response.status_code == 422 and "its answers have closed" in text(response)
    db.session.expire_all()
    assert db.session.get(Invitation, roomy.id).rsvp is None


# --- from the enquiry's page


@pytest.fixture
def open_events(make_enquiry: Any, make_event: Any, make_invitation: Any) -> Any:
    from datetime import UTC, datetime, timedelta

    enquiry = make_enquiry(title="Open enquiry", slug="open-enquiry")
    now = datetime.now(UTC).replace(microsecond=0)

    def event(days: int, **kw: Any) -> Any:
        return make_event(
            enquiry=enquiry, access=EventAccess.OPEN, starts_at=now + timedelta(days=days), **kw
        )

    events = {
        "roomy": event(10, title="Roomy talk", capacity=20, ask_dietary_needs=True),
        "full": event(15, title="Full lab", capacity=1),
        "hybrid": event(
            20,
            title="Hybrid forum",
            format=EventFormat.HYBRID,
            capacity=3,
            join_url="https://meet.example.org/f",
        ),  # fmt: skip
        "closed": event(25, title="Invite-only salon"),
    }
    events["closed"].access = EventAccess.INVITATION
    db.session.commit()
    make_invitation(events["full"], answer="yes", email="early@example.org")
    return enquiry, events


def _register(client: FlaskClient, enquiry: Any, **data: Any) -> Any:
    return client.post(f"/enquiries/{enquiry.slug}/request-places", data=data)


def test_the_enquiry_page_registers_for_several_events_in_one_form(
    client: FlaskClient, open_events: Any, smtp: Any
) -> None:
    enquiry, events = open_events
    shown = client.get(f"/enquiries/{enquiry.slug}")
    assert "Set-Cookie" not in shown.headers
    page = text(shown)
    section = page[page.index("Register for several events") :]
    for title in ("Roomy talk", "Full lab", "Hybrid forum"):
        assert title in section
    assert "Invite-only salon" not in section
    assert "20 places left" in section and "Waiting list" in section
    assert "Any dietary needs?" in section

    response = _register(
        client, enquiry, name="Reg Many", email="Reg@Example.org", website="",
        events=[str(events[k].id) for k in ("roomy", "full", "hybrid")],
        **{f"mode_{events['hybrid'].id}": "in_person"}, dietary_needs="Vegan",
    )  # fmt: skip

    assert response.status_code == 200, text(response)
    assert "Set-Cookie" not in response.headers
    shown = text(response)
    assert "Your answers are recorded" in shown and "/rsvp/" not in shown
    db.session.expire_all()
    invitations = {
        i.event_id: i
        for i in db.session.scalars(select(Invitation).where(Invitation.email == "reg@example.org"))
    }
    assert len(invitations) == 3
    assert all(i.source == InvitationSource.REQUEST for i in invitations.values())
    roomy, full, hybrid = (invitations[events[k].id] for k in ("roomy", "full", "hybrid"))
    assert roomy.rsvp.answer == RsvpAnswer.YES and roomy.rsvp.dietary_needs == "Vegan"
    assert full.rsvp.answer == RsvpAnswer.WAITLISTED
    assert (hybrid.rsvp.answer, hybrid.rsvp.mode) == (RsvpAnswer.YES, AttendanceMode.IN_PERSON)
    assert hybrid.rsvp.dietary_needs == ""  # that event does not ask
    assert events["full"].places_taken == 1 and events["hybrid"].places_taken == 1

    mails = smtp.to("reg@example.org")
    assert len(mails) == 3
    summary = _summary(mails)
    assert summary.subject == "Your places: 3 events"
    assert "Waiting list: number 1 in line" in summary.text()
    assert all(any(links_to(link, i) for link in summary.links()) for i in (roomy, full, hybrid))
    calendars = _calendar_mails([m for m in mails if m is not summary])
    assert set(calendars) == {"Roomy talk", "Hybrid forum"}
    # The summary stands in for the mail round trip: refused, it releases every place.
    row = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.subject == summary.subject)
    ).one()
    assert row.kind == "registration"
    assert sorted(int(n) for n in row.batch_key.removeprefix("registration-").split(",")) == (
        sorted(i.id for i in (roomy, full, hybrid))
    )


def test_a_known_address_only_gets_its_links_again(
    client: FlaskClient, open_events: Any, make_invitation: Any, smtp: Any
) -> None:
    enquiry, events = open_events
    known = make_invitation(events["roomy"], answer="no", email="kim@example.org")
    before = _counts()
    response = _register(
        client, enquiry, name="Kim", email="kim@example.org",
        events=[str(events["roomy"].id), str(events["full"].id)],
    )  # fmt: skip
    assert response.status_code == 200
    assert "We have sent the details to that address" in text(response)
    invitations, rsvps, _ = _counts()
    assert (invitations, rsvps) == before[:2]
    db.session.expire_all()
    assert db.session.get(Invitation, known.id).rsvp.answer == RsvpAnswer.NO
    [mail] = smtp.to("kim@example.org")
    assert any(links_to(link, known) for link in mail.links())


def test_the_honeypot_writes_and_sends_nothing(
    client: FlaskClient, open_events: Any, smtp: Any
) -> None:
    enquiry, events = open_events
    before = _counts()
    response = _register(
        client, enquiry, name="Bot", email="bot@example.org", website="http://spam",
        events=[str(events["roomy"].id)],
    )  # fmt: skip
    assert response.status_code == 200
    assert "We have sent the details to that address" in text(response)
    assert _counts() == before and smtp.to("bot@example.org") == []


@pytest.mark.parametrize(
    "case", ["none", "unknown", "other enquiry", "closed", "missing mode", "not a number"]
)
def test_bad_registrations_are_refused_with_a_message_beside_the_field(
    client: FlaskClient, open_events: Any, make_event: Any, smtp: Any, case: str
) -> None:
    enquiry, events = open_events
    other = make_event(title="Elsewhere", access=EventAccess.OPEN)
    chosen = {
        "none": [],
        "unknown": ["999999"],
        "other enquiry": [str(other.id)],
        "closed": [str(events["closed"].id)],
        "missing mode": [str(events["hybrid"].id)],
        "not a number": ["x1"],
    }[case]
    before = _counts()
    response = _register(client, enquiry, name="Val", email="val@example.org", events=chosen)
    assert response.status_code == 422
    page = text(response)
    expected = {
        "none": "Choose at least one event.",
        "unknown": "not an event of this enquiry",
        "other enquiry": "not an event of this enquiry",
        "closed": "Invite-only salon: This event is by invitation only.",
        "missing mode": "Choose whether you will come in person or join online.",
        "not a number": "Choose at least one event.",
    }[case]
    assert expected in page
    if case == "missing mode":
        assert re.search(r'id="mode_\d+-error"', page)
    assert _counts() == before and smtp.to("val@example.org") == []


@pytest.mark.usefixtures("refusing_smtp")
def test_a_refused_summary_releases_every_place_it_stood_for(
    client: FlaskClient, open_events: Any
) -> None:
    enquiry, events = open_events
    client.delivering = False  # type: ignore[attr-defined]
    response = _register(
        client,
        enquiry,
        name="Gone Away",
        email="gone@example.org",
        events=[str(events["roomy"].id), str(events["full"].id)],
    )
    assert response.status_code == 200
    assert deliver_due().failed >= 1
    db.session.expire_all()
    rsvps = db.session.scalars(
        select(Rsvp).join(Invitation).where(Invitation.email == "gone@example.org")
    ).all()
    assert [r.answer for r in rsvps] == [RsvpAnswer.NO, RsvpAnswer.NO]
    assert events["roomy"].places_taken == 0 and events["full"].places_taken == 1


def test_an_odd_mode_beside_a_no_is_ignored(client: FlaskClient, three_invitations: Any) -> None:
    ann = three_invitations
    hybrid = ann["Hybrid panel"]
    response = client.post(
        f"{rsvp_path(ann['Opening circle'])}/others",
        data={f"answer_{hybrid.id}": "no", f"mode_{hybrid.id}": "teleport"},
    )
    assert response.status_code == 200
    db.session.expire_all()
    rsvp = db.session.get(Invitation, hybrid.id).rsvp
    assert (rsvp.answer, rsvp.mode) == (RsvpAnswer.NO, None)


def test_the_sections_cost_the_same_queries_however_many_events(
    client: FlaskClient, make_enquiry: Any, make_event: Any, make_invitation: Any
) -> None:
    def queries_for(n: int) -> tuple[int, int]:
        enquiry = make_enquiry()
        events = [
            make_event(enquiry=enquiry, access=EventAccess.OPEN, capacity=5) for _ in range(n)
        ]
        mine = [make_invitation(e, email=f"q{n}@example.org") for e in events]
        make_invitation(events[0], answer="yes")
        client.get(rsvp_path(mine[1]))  # warm: another page of the same shape
        path = rsvp_path(mine[0])
        with count_queries() as rsvp_page:  # its first view, built (nothing kept for it yet)
            assert "Other explorations" in text(client.get(path))
        with count_queries() as enquiry_page:
            page = text(client.get(f"/enquiries/{enquiry.slug}"))
            assert "Register for several events" in page
        return len(rsvp_page), len(enquiry_page)

    assert queries_for(2) == queries_for(8)


def test_with_one_open_event_the_enquiry_page_leaves_the_form_to_that_event(
    client: FlaskClient, make_enquiry: Any, make_event: Any
) -> None:
    enquiry = make_enquiry(title="Housing enquiry", slug="housing")
    make_event(
        enquiry=enquiry, title="The only open one", slug="only-open", capacity=10,
        access=EventAccess.OPEN,
    )  # fmt: skip
    make_event(enquiry=enquiry, title="By invitation", access=EventAccess.INVITATION)
    page = text(client.get(f"/enquiries/{enquiry.slug}"))
    assert "The only open one" in page
    assert "Register for several events" not in page
    assert "Request a place" in text(client.get("/events/only-open"))


def test_the_registration_section_shows_the_events_as_they_are_now(
    client: FlaskClient, open_events: Any, smtp: Any
) -> None:
    # The section is rendered once for what it shows: each change shows on the next view.
    enquiry, events = open_events

    def section() -> str:
        page = text(client.get(f"/enquiries/{enquiry.slug}"))
        return page[page.index("Register for several events") :]

    assert "20 places left" in section() and "Roomy talk" in section()
    response = _register(
        client, enquiry, name="Reg One", email="reg1@example.org", website="",
        events=[str(events["roomy"].id)],
    )  # fmt: skip
    assert response.status_code == 200, text(response)
    assert "19 places left" in section() and "20 places left" not in section()

    events["roomy"].title = "Roomy talk, renamed"
    db.session.commit()
    assert "Roomy talk, renamed" in section()

    events["roomy"].access = EventAccess.INVITATION
    db.session.commit()
    assert "Roomy talk" not in section()


def test_the_other_invitations_fields_follow_a_renamed_or_reformatted_event(
    client: FlaskClient, three_invitations: Any
) -> None:
    # Each invitation's blank fields are rendered once per process: an edit shows at once.
    ann = three_invitations
    path, hybrid = rsvp_path(ann["Opening circle"]), ann["Hybrid panel"]
    page = text(client.get(path))
    assert "How will you take part in Hybrid panel?" in page
    assert f'name="mode_{hybrid.id}"' in page

    hybrid.event.title = "Hybrid forum"
    db.session.commit()
    page = text(client.get(path))
    assert "How will you take part in Hybrid forum?" in page
    assert "Hybrid panel" not in page

    hybrid.event.format = EventFormat.ONLINE
    db.session.commit()
    page = text(client.get(path))
    assert f'name="answer_{hybrid.id}"' in page and f'name="mode_{hybrid.id}"' not in page
