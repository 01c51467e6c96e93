"""Several explorations at once, in Chromium: a person answers their other invitations of an
enquiry from one RSVP page, or registers for several open events from the enquiry's page. The
page confirms each answer; one summary mail follows, and one calendar invitation mail per event
with a place, each read by icalendar and ical.js. At 375 px by keyboard alone, at 1280 px by
pointer."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from placeevents.enquiries.timezones import format_range
from placeevents.events.models import EventAccess, EventFormat
from placeevents.extensions import db
from placeevents.invitations.models import AttendanceMode, Invitation, RsvpAnswer
from placeevents.mail.models import OutboxMessage
from tests.conftest import Delivered
from tests.test_calendar.conftest import parse_with_icaljs
from tests.test_invitations.conftest import links_to, rsvp_path
from tests.test_journeys.checks import WIDTHS, Hands, assert_page_ok

WIDTH_AND_HANDS = [("375", True), ("1280", False)]


def _days_ahead(days: int) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)


def _when(event: Any) -> str:
    """The event's time as its pages show it, in the enquiry's zone."""
    return format_range(event.starts_at, event.ends_at, event.enquiry.timezone)


def _delivered(address: str, smtp: Any) -> list[Delivered]:
    """Every mail the answer queued for `address` (read from the outbox, committed with the
    answers), once the live server's worker has delivered them all."""
    db.session.expire_all()
    queued = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.recipients.contains(address))
    )
    db.session.commit()  # no read transaction left open against the server's writes
    assert queued
    smtp.wait_for(address, count=queued)
    mails = smtp.to(address)
    assert len(mails) == queued
    return mails


def _split(mails: list[Delivered]) -> tuple[Delivered, dict[str, icalendar.Event]]:
    """The one summary mail, and each calendar mail's VEVENT by UID: one text/calendar part
    (METHOD:REQUEST) per mail, read alike by icalendar and by ical.js."""
    summaries, calendars = [], {}
    for mail in mails:
        parts = [p for p in mail.message.walk() if p.get_content_type() == "text/calendar"]
        if not parts:
            summaries.append(mail)
            continue
        [part] = parts
        assert part.get_param("method") == "REQUEST"
        data = part.get_payload(decode=True)
        calendar = icalendar.Calendar.from_ical(data)
        [vevent] = calendar.walk("VEVENT")
        parsed = parse_with_icaljs(data)
        assert parsed["method"] == "REQUEST"
        [js_event] = parsed["events"]
        uid = str(vevent["UID"])
        assert js_event["uid"] == uid
        assert js_event["summary"] == str(vevent["SUMMARY"])
        assert mail.subject.endswith(js_event["summary"])
        assert js_event["sequence"] == int(vevent["SEQUENCE"])
        assert js_event["dtstart"]["utc"].replace(".000Z", "Z") == (
            vevent.decoded("DTSTART").strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        assert uid not in calendars, f"two calendar mails for {uid}"
        calendars[uid] = vevent
    [summary] = summaries
    return summary, calendars


# --- from an RSVP page


@pytest.mark.browser
@pytest.mark.parametrize(("width", "keyboard"), WIDTH_AND_HANDS)
def test_answer_several_invitations_from_one_rsvp_page(
    live_server: Any,
    app: Any,
    journey_page: Any,
    smtp: Any,
    make_enquiry: Any,
    make_event: Any,
    make_invitation: Any,
    width: str,
    keyboard: bool,
) -> None:
    page = journey_page
    page.set_viewport_size(WIDTHS[width])
    hands = Hands(page, keyboard=keyboard)
    enquiry = make_enquiry(title="Housing enquiry")
    events = {
        "opening": make_event(enquiry=enquiry, title="Opening circle", starts_at=_days_ahead(8)),
        "roomy": make_event(
            enquiry=enquiry, title="Roomy walk", capacity=10, starts_at=_days_ahead(10)
        ),
        "full": make_event(
            enquiry=enquiry, title="Full workshop", capacity=1, starts_at=_days_ahead(15)
        ),
        "hybrid": make_event(
            enquiry=enquiry,
            title="Hybrid panel",
            format=EventFormat.HYBRID,
            capacity=5,
            join_url="https://meet.example.org/panel",
            starts_at=_days_ahead(20),
        ),
    }
    make_invitation(events["full"], answer="yes", email="bea@example.org")
    elsewhere = make_event(title="Another enquiry's talk")
    ann = {
        key: make_invitation(event, email="ann@example.org", name="Ann Answer")
        for key, event in [*events.items(), ("elsewhere", elsewhere)]
    }
    ids = {key: invitation.id for key, invitation in ann.items()}
    uids = {key: event.calendar_uid for key, event in events.items()}
    when = {key: _when(event) for key, event in events.items()}
    path = rsvp_path(ann["opening"])
    # Ends the test's transaction: an open one holds SQLite's lock against the server's writes.
    db.session.commit()

    # The RSVP page lists the other open invitations of the enquiry: date, mode, places left.
    page.goto(live_server.url + path)
    page.get_by_role("heading", name="Opening circle", level=1).wait_for()
    section = page.get_by_role("region", name="Other explorations you're invited to")
    expect(section).to_be_visible()
    roomy = section.get_by_role("group", name="Roomy walk", exact=True)
    full = section.get_by_role("group", name="Full workshop", exact=True)
    hybrid = section.get_by_role("group", name="Hybrid panel", exact=True)
    for group, key, facts in [
        (roomy, "roomy", ("Face-to-face", "10 places left")),
        (full, "full", ("Face-to-face", "Waiting list")),
        (hybrid, "hybrid", ("Hybrid", "5 places left")),
    ]:
        expect(group).to_contain_text(when[key])
        for fact in facts:
            expect(group).to_contain_text(fact)
        expect(group).to_contain_text("Not answered yet.")
    expect(section).not_to_contain_text("Another enquiry's talk")
    expect(section.get_by_role("group", name="Opening circle")).to_have_count(0)
    assert_page_ok(page, "rsvp page with other invitations")

    # One form: yes to the roomy one, yes to the full one, yes online to the hybrid one.
    hands.choose(roomy.get_by_role("radio", name="Yes", exact=True))
    hands.choose(full.get_by_role("radio", name="Yes", exact=True))
    hands.choose(hybrid.get_by_role("radio", name="Yes", exact=True))
    mode = hybrid.get_by_role("group", name="How will you take part in Hybrid panel?")
    hands.choose(mode.get_by_role("radio", name="Online", exact=True))
    hands.press(section.get_by_role("button", name="Send these answers"))

    page.get_by_role("heading", name="Your answers are recorded", level=1).wait_for()
    answers = page.get_by_role("listitem")
    expect(answers.filter(has_text="Roomy walk")).to_contain_text(
        "A place: you're coming in person"
    )
    expect(answers.filter(has_text="Full workshop")).to_contain_text(
        "Waiting list: number 1 in line"
    )
    expect(answers.filter(has_text="Hybrid panel")).to_contain_text("A place: you're coming online")
    expect(page.get_by_text("We've emailed a summary to ann@example.org")).to_be_visible()
    assert_page_ok(page, "answers recorded, from the rsvp page")

    # The rows: each answer went through attendance; the page's own invitation is left alone.
    db.session.expire_all()
    rsvps = {key: db.session.get(Invitation, id_).rsvp for key, id_ in ids.items()}
    assert rsvps["opening"] is None and rsvps["elsewhere"] is None
    assert (rsvps["roomy"].answer, rsvps["roomy"].mode) == (
        RsvpAnswer.YES, AttendanceMode.IN_PERSON,
    )  # fmt: skip
    assert rsvps["full"].answer == RsvpAnswer.WAITLISTED
    assert (rsvps["hybrid"].answer, rsvps["hybrid"].mode) == (
        RsvpAnswer.YES, AttendanceMode.ONLINE,
    )  # fmt: skip
    taken = {key: event.places_taken for key, event in events.items()}
    assert (taken["roomy"], taken["full"], taken["hybrid"]) == (1, 1, 0)
    invitations = {key: db.session.get(Invitation, id_) for key, id_ in ids.items()}

    # The mail, as delivered: one summary, and a calendar invitation per event with a place.
    summary, calendars = _split(_delivered("ann@example.org", smtp))
    assert summary.subject == "Your answers: 3 events"
    body = summary.text()
    assert "A place: you're coming in person" in body
    assert "Waiting list: number 1 in line" in body
    assert "A place: you're coming online" in body
    for key in ("roomy", "full", "hybrid"):
        assert any(links_to(link, invitations[key]) for link in summary.links()), key
    assert set(calendars) == {uids["roomy"], uids["hybrid"]}
    assert str(calendars[uids["roomy"]]["SUMMARY"]) == "Roomy walk"
    assert str(calendars[uids["hybrid"]]["SUMMARY"]) == "Hybrid panel"
    assert "https://meet.example.org/panel" in calendars[uids["hybrid"]].to_ical().decode()
    db.session.commit()


# --- from the enquiry's page


@pytest.mark.browser
@pytest.mark.parametrize(("width", "keyboard"), WIDTH_AND_HANDS)
def test_register_for_several_events_from_the_enquiry_page(
    live_server: Any,
    app: Any,
    journey_page: Any,
    smtp: Any,
    make_enquiry: Any,
    make_event: Any,
    make_invitation: Any,
    width: str,
    keyboard: bool,
) -> None:
    page = journey_page
    page.set_viewport_size(WIDTHS[width])
    hands = Hands(page, keyboard=keyboard)
    enquiry = make_enquiry(title="Open enquiry", slug="open-enquiry")

    def open_event(days: int, **kw: Any) -> Any:
        return make_event(
            enquiry=enquiry, access=EventAccess.OPEN, starts_at=_days_ahead(days), **kw
        )

    events = {
        "roomy": open_event(10, title="Roomy talk", capacity=20),
        "full": open_event(15, title="Full lab", capacity=1),
        "hybrid": open_event(
            20,
            title="Hybrid forum",
            format=EventFormat.HYBRID,
            capacity=3,
            join_url="https://meet.example.org/forum",
        ),
    }
    make_event(enquiry=enquiry, title="Invite-only salon", starts_at=_days_ahead(25))
    make_invitation(events["full"], answer="yes", email="early@example.org")
    ids = {key: event.id for key, event in events.items()}
    uids = {key: event.calendar_uid for key, event in events.items()}
    when = {key: _when(event) for key, event in events.items()}
    db.session.commit()

    # The enquiry's page: a box per open event, with its date, mode and places left.
    page.goto(f"{live_server.url}/enquiries/open-enquiry")
    page.get_by_role("heading", name="Open enquiry", level=1).wait_for()
    form = page.get_by_role("region", name="Register for several events")
    expect(form).to_be_visible()
    boxes = {
        key: form.get_by_role("checkbox", name=re.compile(f"^{title}"))
        for key, title in [
            ("roomy", "Roomy talk"),
            ("full", "Full lab"),
            ("hybrid", "Hybrid forum"),
        ]
    }
    for key, facts in [
        ("roomy", ("Face-to-face", "20 places left")),
        ("full", ("Face-to-face", "Waiting list")),
        ("hybrid", ("Hybrid", "3 places left")),
    ]:
        label = form.locator(f"label[for='events-{ids[key]}']")
        expect(boxes[key]).not_to_be_checked()
        expect(label).to_contain_text(when[key])
        for fact in facts:
            expect(label).to_contain_text(fact)
    expect(form).not_to_contain_text("Invite-only salon")
    assert_page_ok(page, "enquiry page with several open events")

    # Two events of three, by name and address; the hybrid one in person.
    hands.fill(form.get_by_label("Your name"), "Reg Many")
    hands.fill(form.get_by_label("Your email address"), "reg@example.org")
    hands.tick(boxes["roomy"])
    hands.tick(boxes["hybrid"])
    mode = form.get_by_role("group", name="How will you take part in Hybrid forum?")
    hands.choose(mode.get_by_role("radio", name="In person", exact=True))
    hands.press(form.get_by_role("button", name="Request places"))

    page.get_by_role("heading", name="Your answers are recorded", level=1).wait_for()
    answers = page.get_by_role("listitem")
    expect(answers.filter(has_text="Roomy talk")).to_contain_text(
        "A place: you're coming in person"
    )
    expect(answers.filter(has_text="Hybrid forum")).to_contain_text(
        "A place: you're coming in person"
    )
    expect(answers.filter(has_text="Full lab")).to_have_count(0)
    expect(page.get_by_text("We've emailed a summary to reg@example.org")).to_be_visible()
    assert_page_ok(page, "answers recorded, from the enquiry page")

    # The rows: an invitation with a yes per event ticked, none for the one left alone.
    db.session.expire_all()
    mine = {
        i.event_id: i
        for i in db.session.scalars(select(Invitation).where(Invitation.email == "reg@example.org"))
    }
    assert set(mine) == {ids["roomy"], ids["hybrid"]}
    roomy, hybrid = mine[ids["roomy"]], mine[ids["hybrid"]]
    assert (roomy.rsvp.answer, roomy.rsvp.mode) == (RsvpAnswer.YES, AttendanceMode.IN_PERSON)
    assert (hybrid.rsvp.answer, hybrid.rsvp.mode) == (RsvpAnswer.YES, AttendanceMode.IN_PERSON)
    assert [events[key].places_taken for key in ("roomy", "full", "hybrid")] == [1, 1, 1]

    # The mail, as delivered: one summary, and a calendar invitation per event.
    summary, calendars = _split(_delivered("reg@example.org", smtp))
    assert summary.subject == "Your places: 2 events"
    assert summary.text().count("A place: you're coming in person") == 2
    assert all(any(links_to(link, i) for link in summary.links()) for i in (roomy, hybrid))
    assert set(calendars) == {uids["roomy"], uids["hybrid"]}
    assert str(calendars[uids["roomy"]]["SUMMARY"]) == "Roomy talk"
    assert str(calendars[uids["hybrid"]]["SUMMARY"]) == "Hybrid forum"
    db.session.commit()
