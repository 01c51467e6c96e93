"""The domains working together: what an invitee and an organiser see across them."""

from datetime import timedelta
from typing import Any

import icalendar
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.clock import utcnow
from placeevents.events.models import EventFormat
from placeevents.extensions import db
from placeevents.invitations.links import rsvp_token
from placeevents.mail.delivery import deliver_due
from placeevents.notes.models import Note, NoteVisibility


def _calendar_part(delivered: Any) -> Any:
    parts = [p for p in delivered.message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in delivered.message.walk()]
    return parts[0]


def _vevent(part: Any) -> Any:
    calendar = icalendar.Calendar.from_ical(part.get_content())
    return calendar, next(iter(calendar.walk("VEVENT")))


def test_a_yes_brings_a_calendar_invitation_and_a_no_takes_it_back(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = make_event(title="Learning that travels", format=EventFormat.IN_PERSON, capacity=5)
    invitation = make_invitation(event, email="ada@example.org")
    path = f"/rsvp/{rsvp_token(invitation)}"

    assert client.post(path, data={"answer": "yes"}).status_code == 302
    confirmation = smtp.last_to("ada@example.org")
    assert confirmation.message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in confirmation.message.iter_parts()] == [
        "text/plain", "text/html", "text/calendar",
    ]
    request = _calendar_part(confirmation)
    assert request.get_param("method") == "REQUEST"
    calendar, vevent = _vevent(request)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(vevent["UID"]) == event.calendar_uid
    first_sequence = int(vevent["SEQUENCE"])
    assert "RSVP page" in confirmation.text()

    page = client.get(path).get_data(as_text=True)
    assert "Add to my calendar (.ics)" in page
    ics = client.get(path + "/calendar.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    assert event.calendar_uid.encode() in ics.data

    assert client.post(path, data={"answer": "no"}).status_code == 302
    cancel = _calendar_part(smtp.last_to("ada@example.org"))
    assert cancel.get_param("method") == "CANCEL"
    _, cancelled = _vevent(cancel)
    assert str(cancelled["UID"]) == event.calendar_uid
    assert int(cancelled["SEQUENCE"]) > first_sequence
    # No place, no personal calendar file.
    assert client.get(path + "/calendar.ics").status_code == 404


def test_changing_a_published_event_mails_confirmed_attendees_an_update(
    logged_in: FlaskClient, client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    start = (utcnow() + timedelta(days=20)).replace(second=0, microsecond=0)
    event = make_event(
        title="Who holds the whole system?", capacity=10,
        starts_at=start, ends_at=start + timedelta(hours=2),
    )
    invitation = make_invitation(event, email="ada@example.org")
    path = f"/rsvp/{rsvp_token(invitation)}"
    client.post(path, data={"answer": "yes"})
    _, before = _vevent(_calendar_part(smtp.last_to("ada@example.org")))

    form = logged_in.get(f"/manage/events/{event.id}/edit").get_data(as_text=True)
    assert "Edit" in form
    from placeevents.events.forms import EventForm

    data = {k: v for k, v in EventForm.data_of(event).items() if v is not None}
    data["venue"] = "Friends Meeting House"
    data = {k: ("y" if v is True else v) for k, v in data.items() if v is not False}
    for key in ("starts_at", "ends_at", "rsvp_deadline"):
        if key in data and hasattr(data[key], "strftime"):
            data[key] = data[key].strftime("%Y-%m-%dT%H:%M")
    response = logged_in.post(f"/manage/events/{event.id}/edit", data=data, follow_redirects=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert "The venue changed from Town Hall to Friends Meeting House." in page
    assert "The time changed" not in page
    assert "1 updated calendar invitation is on its way" in page

    deliver_due()
    update = smtp.last_to("ada@example.org")
    part = _calendar_part(update)
    assert part.get_param("method") == "REQUEST"
    _, after = _vevent(part)
    assert str(after["UID"]) == str(before["UID"])
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert "Friends Meeting House" in str(after["LOCATION"])


def test_subscribers_invitations_carry_list_headers_and_pasted_ones_a_way_to_stop(
    logged_in: FlaskClient, make_event: Any, make_subscriber: Any, smtp: Any
) -> None:
    event = make_event(format=EventFormat.ONLINE, join_url="https://meet.example.org/x")
    make_subscriber(email="sub@example.org", name="Sue Scriber")
    response = logged_in.post(
        f"/manage/invitations/events/{event.id}/invite",
        data={
            "subscribers": "all",
            "pasted": "Pat Pasted,pat@example.org",
            "subject": "Join us",
            "body": "Please come.",
            "action": "send",
            "confirmed": "y",
        },
    )
    assert response.status_code in (200, 302), response.get_data(as_text=True)
    deliver_due()
    subscriber_mail = smtp.last_to("sub@example.org")
    assert subscriber_mail.message["List-Unsubscribe"].startswith("<http://localhost/")
    assert subscriber_mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert any("/newsletter/preferences/" in link for link in subscriber_mail.links())
    pasted_mail = smtp.last_to("pat@example.org")
    assert pasted_mail.message["List-Id"] is None
    assert "/invitations/stop/" in pasted_mail.message["List-Unsubscribe"]
    assert not any("/newsletter/preferences/" in link for link in pasted_mail.links())


def test_attendees_reach_shared_notes_from_their_rsvp_page(
    client: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    start = utcnow() - timedelta(days=3)
    event = make_event(starts_at=start, ends_at=start + timedelta(hours=2))
    invitation = make_invitation(event, attended=True)
    note = Note(event=event, title="What we heard", body="Patience.",
                visibility=NoteVisibility.ATTENDEES)
    private = Note(event=event, title="Facilitator only", visibility=NoteVisibility.PRIVATE)
    db.session.add_all([note, private])
    db.session.commit()
    page = client.get(f"/rsvp/{rsvp_token(invitation)}").get_data(as_text=True)
    assert "What we heard" in page and "Facilitator only" not in page


def test_the_event_page_offers_calendar_signup_and_request_a_place(
    app: Flask, client: FlaskClient, make_event: Any
) -> None:
    from placeevents.events.models import EventAccess

    event = make_event(access=EventAccess.OPEN)
    html = client.get(f"/events/{event.slug}").get_data(as_text=True)
    assert "Add to calendar (.ics file)" in html and "Add to Google Calendar" in html
    assert "Request a place" in html
    assert "Sign up" in html
    assert event.join_url == "" or event.join_url not in html
    home = client.get("/").get_data(as_text=True)
    assert db.session.scalar(select(Note.id)) is None
    assert "webcal://" in home


def test_the_organiser_enquiry_page_counts_answers_per_event(
    logged_in: FlaskClient, make_event: Any, make_enquiry: Any, make_invitation: Any
) -> None:
    from tests.conftest import count_queries

    enquiry = make_enquiry()
    event = make_event(enquiry=enquiry, capacity=2)
    make_event(enquiry=enquiry, title="Nobody asked yet")
    # The two yeses fill it; whoever is offered the place that then opens was first in line.
    for n, answer in enumerate(["yes", "yes", "maybe", "no", "offered", "waitlisted", None]):
        make_invitation(event, answer=answer, email=f"p{n}@example.org")
    enquiry_id = enquiry.id
    page = f"/manage/enquiries/{enquiry_id}"

    html = logged_in.get(page).get_data(as_text=True)
    assert "7 invited</a>: 2 yes, 2 waiting, 1 maybe, 1 no, 1 not answered" in html
    assert html.count("Nobody invited yet") == 1 and "Nobody asked yet" in html

    # Each request loads afresh what it reads, as a real one does. (Not remove(): the organiser
    # Flask-Login keeps in the shared app context is expired after each request, and must stay
    # in a session to be reloaded.)
    db.session.expire_all()
    with count_queries() as few:
        logged_in.get(page)
    for n in range(6):
        more = make_event(enquiry_id=enquiry_id, title=f"More {n}")
        make_invitation(more, email=f"more{n}@example.org")
    db.session.expire_all()
    with count_queries() as many:
        logged_in.get(page)
    assert len(many) == len(few)


def test_calendar_updates_and_cancellations_to_subscribers_carry_list_headers(
    logged_in: FlaskClient,
    client: FlaskClient,
    make_event: Any,
    make_subscriber: Any,
    make_invitation: Any,
    smtp: Any,
) -> None:
    make_subscriber(email="sub@example.org", name="Sue Scriber")
    event = make_event(capacity=10)
    subscriber_invitation = make_invitation(event, email="sub@example.org", name="Sue Scriber")
    pasted_invitation = make_invitation(event, email="pat@example.org", name="Pat Pasted")
    for invitation in (subscriber_invitation, pasted_invitation):
        client.post(f"/rsvp/{rsvp_token(invitation)}", data={"answer": "yes"})
    declined = make_invitation(event, email="nia@example.org", name="Nia No")
    client.post(f"/rsvp/{rsvp_token(declined)}", data={"answer": "no"})
    make_subscriber(email="nia@example.org", name="Nia No")
    smtp.clear()

    response = logged_in.post(f"/manage/events/{event.id}/cancel", data={"message": "Sorry."})
    assert response.status_code == 302
    deliver_due()
    to_subscriber = smtp.last_to("sub@example.org")
    assert to_subscriber.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert any("/newsletter/preferences/" in link for link in to_subscriber.links())
    assert any(p.get_content_type() == "text/calendar" for p in to_subscriber.message.walk())
    plain_to_subscriber = smtp.last_to("nia@example.org")
    assert plain_to_subscriber.message["List-Unsubscribe"] is not None
    to_pasted = smtp.last_to("pat@example.org")
    assert to_pasted.message["List-Unsubscribe"] is None
    assert not any("/newsletter/" in link for link in to_pasted.links())


def test_requests_close_when_the_event_starts(client: FlaskClient, make_event: Any) -> None:
    import time_machine

    from placeevents.events.models import EventAccess

    start = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    event = make_event(access=EventAccess.OPEN, starts_at=start, ends_at=start + timedelta(hours=3))
    assert "Request a place" in client.get(f"/events/{event.slug}").get_data(as_text=True)
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        page = client.get(f"/events/{event.slug}/request-place").get_data(as_text=True)
        assert "Requests are closed" in page and 'name="email"' not in page
        assert "Request a place</h2>" not in client.get(f"/events/{event.slug}").get_data(
            as_text=True
        )


def test_inviting_subscribers_costs_the_same_queries_for_few_and_many(
    make_event: Any, make_subscriber: Any, organiser: Any
) -> None:
    from placeevents.invitations import sending
    from tests.conftest import count_queries

    def send_to_all(n_subscribers: int) -> int:
        for _ in range(n_subscribers):
            make_subscriber()
        event = make_event()
        with count_queries() as statements:
            sending.send_invitations(
                event=event,
                choice=sending.RecipientChoice(subscribers="all"),
                subject="Join us",
                body="Please come.",
                organiser=organiser,
            )
        db.session.rollback()
        selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
        return len(selects)

    # Each invitation and outbox row is its own INSERT, but nothing is looked up per person:
    # not their (new, empty) answer, nor their list headers, which come in one query.
    assert send_to_all(3) == send_to_all(12)
