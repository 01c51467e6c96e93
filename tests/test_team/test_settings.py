"""Settings kept in the database: what admins change, and the calendar organiser each event
keeps from its first send."""

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.audit.models import AuditEntry
from placeevents.calendar.models import CalendarOrganizer
from placeevents.events.models import Event
from placeevents.extensions import db
from placeevents.invitations import event_changes

FORM = {
    "organisation_name": "Northfield Centre",
    "sender_name": "Northfield enquiry",
    "sender_email": "enquiry@northfield.example",
    "privacy_notice": "We keep little.\n\nAnd for short.",
    "reminder_lead_hours": "24",
}


def test_settings_are_saved_shown_and_audited(
    admin_client: FlaskClient, client: FlaskClient
) -> None:
    assert admin_client.get("/manage/settings/").status_code == 200
    assert admin_client.post("/manage/settings/", data=FORM).status_code == 302
    home = admin_client.get("/").get_data(as_text=True)
    assert "Northfield Centre" in home
    privacy = admin_client.get("/privacy").get_data(as_text=True)
    assert "<p>We keep little.</p>" in privacy and "<p>And for short.</p>" in privacy
    details = db.session.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == "settings.update")
    ).all()
    assert "organisation name" in details and "reminder lead hours" in details


def test_new_events_take_the_reminder_lead_time(
    admin_client: FlaskClient, make_enquiry: Any
) -> None:
    admin_client.post("/manage/settings/", data=FORM)
    enquiry = make_enquiry()
    response = admin_client.post(
        f"/manage/events/new?enquiry={enquiry.id}",
        data={
            "title": "Reminded",
            "format": "in_person",
            "starts_at": "2030-05-14T10:00",
            "ends_at": "2030-05-14T12:30",
            "venue": "The Station",
            "address": "Silver Street, Bristol",
            "access": "invitation",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    event = db.session.scalars(select(Event).where(Event.title == "Reminded")).one()
    assert event.reminder_lead_hours == 24


def test_invalid_settings_are_refused(admin_client: FlaskClient) -> None:
    response = admin_client.post("/manage/settings/", data={**FORM, "sender_email": "nobody"})
    assert response.status_code == 422


def test_a_sent_event_keeps_its_calendar_organiser_when_the_sender_changes(
    app: Flask, admin_client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    event = make_event()
    make_invitation(event, answer="yes", email="ann@example.org")
    event_changes.queue_event_update(event, change_summary="The room changed.")
    db.session.commit()
    kept = db.session.get(CalendarOrganizer, event.id)
    assert kept is not None and kept.email == "enquiry@placeevents.example"

    changed = admin_client.post("/manage/settings/", data=FORM, follow_redirects=True)
    assert "keep enquiry@placeevents.example as their organiser" in changed.get_data(as_text=True)

    smtp.clear()
    event_changes.queue_event_update(event, change_summary="The time changed.")
    db.session.commit()
    admin_client.get("/")  # deliver
    mail = smtp.last_to("ann@example.org")
    assert "enquiry@northfield.example" in mail.message["From"]
    [part] = [p for p in mail.message.walk() if p.get_content_type() == "text/calendar"]
    calendar = part.get_payload(decode=True).decode().replace("\r\n ", "")
    assert 'ORGANIZER;CN="Northfield enquiry":mailto:enquiry@placeevents.example' in calendar, (
        calendar
    )

    # A new event takes the new address.
    other = make_event()
    make_invitation(other, answer="yes", email="bob@example.org")
    event_changes.queue_event_update(other, change_summary="New room.")
    db.session.commit()
    assert db.session.get(CalendarOrganizer, other.id).email == "enquiry@northfield.example"


def test_the_subject_prefix_is_saved_and_the_page_shows_how_mail_will_read(
    admin_client: FlaskClient,
) -> None:
    form = {**FORM, "subject_prefix": "  [Northfield]  "}
    assert admin_client.post("/manage/settings/", data=form).status_code == 302
    page = admin_client.get("/manage/settings/").get_data(as_text=True)
    assert 'value="[Northfield]"' in page
    assert (
        "Mail will read: From &#34;Northfield enquiry&#34; &lt;enquiry@northfield.example&gt;, "
        "Subject: [Northfield] Invitation: …"
    ) in page
