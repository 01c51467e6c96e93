"""iMIP mails: the yes invitation part, updates and cancellations, delivered through SMTP."""

from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from sqlalchemy.orm.attributes import set_committed_value

from placeevents.events.models import EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations import attendance, calendar_parts, event_changes
from placeevents.invitations.attendance import claim_calendar_sequence
from placeevents.invitations.calendar_parts import NotConfirmed
from placeevents.invitations.models import AttendanceMode, Rsvp, RsvpAnswer
from placeevents.mail.bounces import record_bounce
from placeevents.mail.delivery import deliver_due
from placeevents.mail.outbox import batch_progress, build_message, enqueue
from tests.conftest import count_queries
from tests.test_calendar.conftest import Parsed, calendar_part, parse_all, utc

FROM = "enquiry@placeevents.example"
NOW = utc(2025, 3, 1, 9, 15)
JOIN = "https://meet.example/room-42"


def _request_part(invitation: Any) -> bytes:
    # As attendance does before a confirmation: claim the SEQUENCE, then build the part.
    sequence = claim_calendar_sequence(invitation)
    return calendar_parts.calendar_part_for_confirmation(invitation, sequence=sequence)


def _cancel_part(invitation: Any) -> bytes:
    sequence = claim_calendar_sequence(invitation)
    return calendar_parts.cancel_part_for_declined(invitation, sequence=sequence)


def _mail_confirmation(invitation: Any) -> None:
    """What the invitations domain does on a yes: a mail with the REQUEST part, then commit."""
    part = _request_part(invitation)
    enqueue(
        build_message(
            to=invitation.email,
            subject="You have a place",
            text="You have a place. Use your RSVP page to change your answer.",
            html="<p>You have a place.</p>",
            calendar=part,
            calendar_method="REQUEST",
        ),
        kind="rsvp_confirmation",
    )
    db.session.commit()
    deliver_due()


def _set_answer(invitation: Any, answer: RsvpAnswer, organiser: Any) -> None:
    """Change an answer as the app does, without its mail: these tests build their own."""
    attendance.set_answer_for(
        invitation=invitation,
        answer=attendance.Answer(answer, mode=AttendanceMode.IN_PERSON),
        organiser=organiser,
        notify=False,
    )


def _received(smtp: Any, email: str) -> list[EmailMessage]:
    return [d.message for d in smtp.to(email)]


def _part(message: EmailMessage) -> Parsed:
    return parse_all(calendar_part(message).get_content().encode("utf-8"))


def _assert_imip_tree(message: EmailMessage, method: str) -> None:
    assert message.get_content_type() == "multipart/alternative"
    parts = message.get_payload()
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html", "text/calendar"]
    calendar = parts[2]
    assert calendar.get_param("method") == method
    assert calendar.get_param("charset") == "UTF-8"


def _the_event(parsed: Parsed) -> Any:
    (vevent,) = parsed.ical_events()
    return vevent


@pytest.fixture
def event(make_event: Callable[..., Any], make_enquiry: Callable[..., Any]) -> Any:
    with time_machine.travel(NOW - timedelta(days=10), tick=False):
        enquiry = make_enquiry(slug="total-place", title="Total Place 2.0")
        return make_event(
            enquiry=enquiry,
            slug="bid-and-pilot",
            title="Bid, pilot; repeat",
            format=EventFormat.HYBRID,
            join_url=JOIN,
            starts_at=utc(2025, 3, 30, 1, 30),
        )


def test_yes_confirmation_carries_an_accepted_request(
    app: Flask, smtp: Any, event: Any, make_attendee: Callable[..., Any]
) -> None:
    invitation = make_attendee(event, email="ann@example.org", name="Ann Other, MBE")
    with time_machine.travel(NOW, tick=False):
        _mail_confirmation(invitation)
    (message,) = _received(smtp, "ann@example.org")
    _assert_imip_tree(message, "REQUEST")

    parsed = _part(message)
    assert str(parsed.icalendar["METHOD"]) == "REQUEST"
    vevent = _the_event(parsed)
    assert str(vevent["UID"]) == event.calendar_uid
    assert vevent["SEQUENCE"] == 1
    assert vevent["DTSTAMP"].dt == NOW  # when the message was made, not the event's last change
    assert vevent["DTSTART"].dt == utc(2025, 3, 30, 1, 30)
    assert str(vevent["ORGANIZER"]) == f"mailto:{FROM}"
    assert message["From"].addresses[0].addr_spec == FROM
    attendee = vevent["ATTENDEE"]
    assert str(attendee) == "mailto:ann@example.org"
    assert attendee.params["PARTSTAT"] == "ACCEPTED"
    assert attendee.params["RSVP"] == "FALSE"
    assert attendee.params["CN"] == "Ann Other, MBE"

    js = parsed.icaljs
    assert js["method"] == "REQUEST"
    assert js["events"][0]["organizer"]["address"] == f"mailto:{FROM}"
    assert js["events"][0]["attendees"] == [
        {
            "address": "mailto:ann@example.org",
            "cn": "Ann Other, MBE",
            "partstat": "ACCEPTED",
            "rsvp": "FALSE",
        }
    ]
    assert parsed.vobject.method.value == "REQUEST"
    assert parsed.vobject.vevent.attendee.params["PARTSTAT"] == ["ACCEPTED"]
    # In person at a hybrid event: the venue, and no join link.
    assert str(vevent["LOCATION"]) == "Town Hall, 1 High Street, Leeds"
    assert JOIN not in parsed.raw.decode()

    db.session.refresh(invitation)
    assert invitation.rsvp.calendar_sequence == 1


def test_online_attendees_get_the_join_link(
    app: Flask, smtp: Any, event: Any, make_attendee: Callable[..., Any]
) -> None:
    online = make_attendee(event, email="remote@example.org", mode=AttendanceMode.ONLINE)
    _mail_confirmation(online)
    parsed = _part(smtp.last_to("remote@example.org").message)
    vevent = _the_event(parsed)
    assert str(vevent["LOCATION"]) == "Online"
    assert f"Join online: {JOIN}" in str(vevent["DESCRIPTION"])
    assert parsed.icaljs["events"][0]["conference"] == JOIN
    assert f"Join online: {JOIN}" in parsed.icaljs["events"][0]["description"]

    personal = parse_all(calendar_parts.personal_ics_for(online))
    assert f"Join online: {JOIN}" in str(_the_event(personal)["DESCRIPTION"])
    assert personal.icaljs["events"][0]["uid"] == event.calendar_uid


def test_personal_file_is_for_confirmed_people_and_changes_nothing(
    app: Flask, event: Any, make_attendee: Callable[..., Any]
) -> None:
    maybe = make_attendee(event, answer=RsvpAnswer.MAYBE)
    with pytest.raises(NotConfirmed):
        calendar_parts.personal_ics_for(maybe)
    person = make_attendee(event, email="p@example.org", name="P Person")
    first = calendar_parts.personal_ics_for(person)
    # Stable bytes: DTSTAMP is the last change.
    assert calendar_parts.personal_ics_for(person) == first
    parsed = parse_all(first)
    vevent = _the_event(parsed)
    assert str(vevent["ATTENDEE"]) == "mailto:p@example.org"
    assert str(vevent["ORGANIZER"]) == f"mailto:{FROM}"
    assert "METHOD" not in parsed.icalendar
    assert JOIN not in first.decode()
    db.session.refresh(person)
    assert person.rsvp.calendar_sequence == 0


def test_a_change_mails_every_confirmed_attendee_an_update(
    app: Flask, smtp: Any, event: Any, make_attendee: Callable[..., Any]
) -> None:
    event.capacity = 2  # a@ and gone@ take both places in the room, so wait@ waits
    in_person = make_attendee(event, email="a@example.org")
    online = make_attendee(event, email="b@example.org", mode=AttendanceMode.ONLINE)
    bounced = make_attendee(event, email="gone@example.org")
    make_attendee(event, email="wait@example.org", answer=RsvpAnswer.WAITLISTED)
    make_attendee(event, email="no@example.org", answer=RsvpAnswer.NO)
    make_attendee(event, email="maybe@example.org", answer=RsvpAnswer.MAYBE)
    record_bounce(email="gone@example.org", reason="550 no such user")
    _mail_confirmation(in_person)
    _mail_confirmation(online)
    smtp.clear()

    # What the events domain does when an organiser moves a published event.
    event.starts_at = utc(2025, 3, 30, 9, 0)
    event.ends_at = utc(2025, 3, 30, 11, 0)
    event.sequence += 1
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        queued = event_changes.queue_event_update(
            event, change_summary="The start time changed from 02:30 to 10:00 BST."
        )
        db.session.commit()
    assert queued == 2
    deliver_due()

    assert {r for m in smtp.messages for r in m.rcpt_tos} == {"a@example.org", "b@example.org"}
    assert batch_progress(event_changes.update_batch_key(event)).sent == 2
    for address in ("a@example.org", "b@example.org"):
        delivered = smtp.last_to(address)
        _assert_imip_tree(delivered.message, "REQUEST")
        assert delivered.subject.startswith("Changed: Bid, pilot; repeat")
        assert "The start time changed from 02:30 to 10:00 BST." in delivered.text()
        assert "The start time changed from 02:30 to 10:00 BST." in delivered.html()
        assert "use your RSVP page" in delivered.text()
        assert "not your calendar's Accept or Decline buttons" in delivered.text()
        parsed = _part(delivered.message)
        vevent = _the_event(parsed)
        assert str(vevent["UID"]) == event.calendar_uid
        assert vevent["SEQUENCE"] == 2  # above the 1 of the confirmation
        assert vevent["DTSTART"].dt == utc(2025, 3, 30, 9, 0)
        assert vevent["DTSTAMP"].dt == NOW + timedelta(hours=1)
        assert "The start time changed" in str(vevent["DESCRIPTION"])
        assert parsed.icaljs["events"][0]["dtstart"]["utc"] == "2025-03-30T09:00:00.000Z"
        assert parsed.icaljs["events"][0]["sequence"] == 2
    assert JOIN in smtp.last_to("b@example.org").text()
    assert JOIN not in smtp.last_to("a@example.org").text()
    assert JOIN not in calendar_part(smtp.last_to("a@example.org").message).get_content()

    for invitation in (in_person, online):
        db.session.refresh(invitation.rsvp)
        assert invitation.rsvp.calendar_sequence == 2
    db.session.refresh(bounced.rsvp)
    assert bounced.rsvp.calendar_sequence == 0


def test_sequence_rises_with_every_mail(
    app: Flask, smtp: Any, event: Any, make_attendee: Callable[..., Any]
) -> None:
    invitation = make_attendee(event, email="a@example.org")
    _mail_confirmation(invitation)
    for change in range(3):
        # A change that did not raise the event's own SEQUENCE still mails a higher one.
        event_changes.queue_event_update(event, change_summary=f"Change {change}.")
        db.session.commit()
    deliver_due()
    sequences = [_the_event(_part(m))["SEQUENCE"] for m in _received(smtp, "a@example.org")]
    assert sequences == [1, 2, 3, 4]


def test_cancelling_the_event_mails_a_cancel(
    app: Flask, smtp: Any, event: Any, make_attendee: Callable[..., Any]
) -> None:
    invitation = make_attendee(event, email="a@example.org", mode=AttendanceMode.ONLINE)
    make_attendee(event, email="no@example.org", answer=RsvpAnswer.NO)
    _mail_confirmation(invitation)
    smtp.clear()

    event.status = EventStatus.CANCELLED
    event.sequence += 1
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        queued = event_changes.queue_event_cancellation(event, message="The venue flooded.")
        db.session.commit()
    assert queued == 1
    deliver_due()

    (delivered,) = smtp.messages
    assert delivered.rcpt_tos == ["a@example.org"]
    _assert_imip_tree(delivered.message, "CANCEL")
    assert delivered.subject.startswith("Cancelled: Bid, pilot; repeat")
    assert "The venue flooded." in delivered.text()
    parsed = _part(delivered.message)
    assert str(parsed.icalendar["METHOD"]) == "CANCEL"
    vevent = _the_event(parsed)
    assert str(vevent["UID"]) == event.calendar_uid
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert vevent["SEQUENCE"] == 2
    assert str(vevent["ORGANIZER"]) == f"mailto:{FROM}"
    assert str(vevent["ATTENDEE"]) == "mailto:a@example.org"
    assert JOIN not in parsed.raw.decode()
    assert parsed.icaljs["method"] == "CANCEL"
    assert parsed.icaljs["events"][0]["status"] == "CANCELLED"
    assert parsed.vobject.method.value == "CANCEL"
    # No updates go out for a cancelled event.
    assert event_changes.queue_event_update(event, change_summary="x") == 0


def test_a_yes_after_a_no_is_never_taken_as_older(
    app: Flask, smtp: Any, event: Any, make_attendee: Callable[..., Any], organiser: Any
) -> None:
    invitation = make_attendee(event, email="a@example.org")
    assert not calendar_parts.calendar_was_sent(invitation)
    _mail_confirmation(invitation)
    assert calendar_parts.calendar_was_sent(invitation)

    _set_answer(invitation, RsvpAnswer.NO, organiser)
    part = _cancel_part(invitation)
    enqueue(
        build_message(
            to=invitation.email,
            subject="You said no",
            text="Noted.",
            html="<p>Noted.</p>",
            calendar=part,
            calendar_method="CANCEL",
        )
    )
    db.session.commit()
    deliver_due()

    _set_answer(invitation, RsvpAnswer.YES, organiser)
    db.session.commit()
    _mail_confirmation(invitation)

    request_, cancel, request_again = _received(smtp, "a@example.org")
    _assert_imip_tree(cancel, "CANCEL")
    cancelled = _the_event(_part(cancel))
    assert cancelled["ATTENDEE"].params["PARTSTAT"] == "DECLINED"
    assert str(cancelled["STATUS"]) == "CANCELLED"
    sequences = [_the_event(_part(m))["SEQUENCE"] for m in (request_, cancel, request_again)]
    assert sequences == [1, 2, 3]
    assert event.sequence == 0


def test_sequence_is_claimed_from_the_stored_value_not_a_stale_copy(
    app: Flask, event: Any, make_attendee: Callable[..., Any]
) -> None:
    invitation = make_attendee(event)
    rsvp_id = invitation.rsvp.id
    db.session.commit()
    # Another transaction mailed this person meanwhile, after this session read the row.
    with db.engine.begin() as conn:
        conn.execute(sa.update(Rsvp).where(Rsvp.id == rsvp_id).values(calendar_sequence=5))
    set_committed_value(invitation.rsvp, "calendar_sequence", 0)
    part = parse_all(_request_part(invitation))
    assert _the_event(part)["SEQUENCE"] == 6
    assert invitation.rsvp.calendar_sequence == 6
    db.session.commit()
    assert db.session.scalar(sa.select(Rsvp.calendar_sequence)) == 6


def test_uid_is_the_same_in_every_output(
    app: Flask,
    client: Any,
    smtp: Any,
    event: Any,
    make_attendee: Callable[..., Any],
) -> None:
    invitation = make_attendee(event, email="a@example.org")
    _mail_confirmation(invitation)
    event_changes.queue_event_update(event, change_summary="The room changed.")
    event.status = EventStatus.CANCELLED
    event_changes.queue_event_cancellation(event, message="Sorry.")
    db.session.commit()
    deliver_due()
    outputs = [
        client.get("/events/bid-and-pilot/calendar.ics").data,
        client.get("/enquiries/total-place/calendar.ics").data,
        calendar_parts.personal_ics_for(invitation),
        *(calendar_part(m).get_content().encode() for m in _received(smtp, "a@example.org")),
    ]
    assert len(outputs) == 6
    for data in outputs:
        parsed = parse_all(data)
        assert [str(e["UID"]) for e in parsed.ical_events()] == [event.calendar_uid]
        assert [e.uid.value for e in parsed.vobject_events()] == [event.calendar_uid]
        assert [e["uid"] for e in parsed.icaljs["events"]] == [event.calendar_uid]


def test_update_queries_do_not_grow_with_attendees(
    app: Flask, event: Any, make_attendee: Callable[..., Any]
) -> None:
    def selects() -> int:
        with count_queries() as statements:
            event_changes.queue_event_update(event, change_summary="The room changed.")
        db.session.rollback()
        return sum(s.lstrip().upper().startswith("SELECT") for s in statements)

    make_attendee(event)
    few = selects()
    for _ in range(8):
        make_attendee(event)
    assert selects() == few


def test_only_confirmed_people_get_a_request_part(
    app: Flask, event: Any, make_attendee: Callable[..., Any]
) -> None:
    event.capacity = 1
    make_attendee(event)
    waiting = make_attendee(event, answer=RsvpAnswer.WAITLISTED)
    with pytest.raises(NotConfirmed):
        calendar_parts.calendar_part_for_confirmation(waiting, sequence=1)
