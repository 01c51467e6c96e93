"""Creating, editing and deleting events, and every rule the event form enforces."""

from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placeevents.events import services
from placeevents.events.models import Event, EventAccess, EventFormat, EventStatus
from placeevents.extensions import db
from tests.test_events.conftest import field_error


def _events() -> list[Event]:
    db.session.expire_all()
    return list(db.session.scalars(select(Event).order_by(Event.id)))


def test_create_an_event_as_a_draft(
    logged_in: FlaskClient, make_enquiry: Any, event_form: Any
) -> None:
    enquiry = make_enquiry()
    data = event_form(capacity="30", rsvp_deadline="2030-05-10T17:00", access="open")
    data["ask_dietary_needs"] = "y"
    response = logged_in.post(f"/manage/events/new?enquiry={enquiry.id}", data=data)
    assert response.status_code == 302
    [event] = _events()
    assert response.headers["Location"] == f"/manage/events/{event.id}"
    assert event.status == EventStatus.DRAFT and event.enquiry_id == enquiry.id
    assert event.slug == "learning-that-travels"
    assert event.title == "Learning that travels" and event.format == EventFormat.IN_PERSON
    # 10:00 in London in May is 09:00 UTC.
    assert event.starts_at == datetime(2030, 5, 14, 9, 0, tzinfo=UTC)
    assert event.ends_at == datetime(2030, 5, 14, 11, 30, tzinfo=UTC)
    assert event.rsvp_deadline == datetime(2030, 5, 10, 16, 0, tzinfo=UTC)
    assert (event.venue, event.address) == ("The Station", "Silver Street, Bristol")
    assert event.hosts == "Jo Bloggs and Sam Lee" and event.capacity == 30
    assert event.access == EventAccess.OPEN
    assert (event.ask_access_needs, event.ask_dietary_needs, event.ask_question) == (
        True,
        True,
        True,
    )
    assert event.calendar_uid and event.sequence == 0

    page = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Learning that travels" in page and "Draft" in page
    assert "Tue 14 May 2030, 10:00–12:30 BST" in page


def test_the_form_labels_every_field(logged_in: FlaskClient, make_enquiry: Any) -> None:
    enquiry = make_enquiry(timezone="Europe/Paris")
    page = logged_in.get(f"/manage/events/new?enquiry={enquiry.id}").get_data(as_text=True)
    for name in ("title", "starts_at", "ends_at", "venue", "address", "join_url", "hosts",
                 "description", "capacity", "online_capacity", "rsvp_deadline", "ask_access_needs",
                 "ask_dietary_needs", "ask_question"):  # fmt: skip
        assert f'<label for="{name}">' in page, name
    assert 'type="datetime-local"' in page
    assert 'max="2100-12-31T23:59" min="1970-01-01T00:00"' in page
    assert "Local time in Europe/Paris." in page
    assert "For face-to-face and hybrid events: places in the room" in page
    assert "For online and hybrid events: places to join online" in page
    assert logged_in.get("/manage/events/new?enquiry=999").status_code == 404
    assert logged_in.get("/manage/events/new").status_code == 404


def test_slugs_are_made_from_titles_and_unique(
    logged_in: FlaskClient, make_enquiry: Any, event_form: Any
) -> None:
    enquiry = make_enquiry()
    for title in ("Learning that travels", "Learning that travels", "Café — Ünïcode?", "!!!"):
        response = logged_in.post(
            f"/manage/events/new?enquiry={enquiry.id}", data=event_form(title=title)
        )
        assert response.status_code == 302
    assert [e.slug for e in _events()] == [
        "learning-that-travels",
        "learning-that-travels-2",
        "cafe-unicode",
        "event",
    ]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "  "}, "title", "Give the event a title."),
        ({"ends_at": "2030-05-14T09:00"}, "ends_at", "The end must be after the start."),
        ({"ends_at": "2030-05-14T10:00"}, "ends_at", "The end must be after the start."),
        (
            {"rsvp_deadline": "2030-05-14T10:30"},
            "rsvp_deadline",
            "The RSVP deadline must be no later than the start.",
        ),
        (
            {"format": "online", "join_url": "http://meet.example.org/room"},
            "join_url",
            "The join link must be a secure link starting with https://.",
        ),
        (
            {"format": "hybrid", "join_url": "javascript:alert(1)"},
            "join_url",
            "The join link must be a secure link starting with https://.",
        ),
        (
            {"format": "online", "join_url": "https://"},
            "join_url",
            "The join link must be a secure link starting with https://.",
        ),
        ({"starts_at": ""}, "starts_at", "Enter the start date and time."),
        (
            {"starts_at": "next tuesday"},
            "starts_at",
            "Enter a date and a time, for example 14/05/2024 10:00.",
        ),
        ({"capacity": "0"}, "capacity", "Enter a number of places from 1 to 100000."),
        ({"capacity": "lots"}, "capacity", "Not a valid integer value."),
        ({"format": "by-pigeon"}, "format", "Not a valid choice."),
        (
            {"starts_at": "2030-03-31T01:30", "ends_at": "2030-03-31T04:00"},
            "starts_at",
            "01:30 on 31 March 2030 does not exist in Europe/London: the clocks go forward "
            "then. Choose another time.",
        ),
        # Stored, a control character stopped every mail about the event (a 500 on each yes).
        ({"title": "Bid\x07 and pilot"}, "title", "Remove line breaks and other control"),
        ({"venue": "Town\x1b[31m Hall"}, "venue", "Remove line breaks and other control"),
        ({"hosts": "Jo\x85Bloggs"}, "hosts", "Remove line breaks and other control"),
        # Far-off years broke every page showing the event in Tokyo or New York time.
        ({"starts_at": "0001-01-01T10:00"}, "starts_at", "Enter a date from 1970 to 2100."),
        ({"ends_at": "9999-12-31T23:00"}, "ends_at", "Enter a date from 1970 to 2100."),
        ({"rsvp_deadline": "1969-12-31T23:59"}, "rsvp_deadline", "Enter a date from 1970"),
    ],
)
def test_each_error_is_shown_beside_its_field(
    logged_in: FlaskClient,
    make_enquiry: Any,
    event_form: Any,
    overrides: dict[str, str],
    field: str,
    message: str,
) -> None:
    enquiry = make_enquiry()
    response = logged_in.post(
        f"/manage/events/new?enquiry={enquiry.id}", data=event_form(**overrides)
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in (field_error(page, field) or ""), page
    assert "Please correct the highlighted fields." in page
    assert _events() == []


def test_several_errors_are_reported_together(
    logged_in: FlaskClient, make_enquiry: Any, event_form: Any
) -> None:
    enquiry = make_enquiry()
    data = event_form(
        format="hybrid",
        ends_at="2030-05-14T08:00",
        rsvp_deadline="2030-05-15T09:00",
        join_url="ftp://files.example.org",
    )
    page = logged_in.post(f"/manage/events/new?enquiry={enquiry.id}", data=data).get_data(
        as_text=True
    )
    assert field_error(page, "ends_at") and field_error(page, "rsvp_deadline")
    assert field_error(page, "join_url")
    assert _events() == []


def test_form_and_rule_errors_all_show_on_one_submit(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any, event_form: Any
) -> None:
    enquiry = make_enquiry()
    data = event_form(
        format="hybrid",
        capacity="-5",
        join_url="http://insecure.example.org/x",
        rsvp_deadline="2030-05-15T10:00",
    )
    response = logged_in.post(f"/manage/events/new?enquiry={enquiry.id}", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "capacity") == "Enter a number of places from 1 to 100000."
    assert field_error(page, "join_url") == (
        "The join link must be a secure link starting with https://."
    )
    assert field_error(page, "rsvp_deadline") == (
        "The RSVP deadline must be no later than the start."
    )
    assert _events() == []

    # A missing title and an unreadable end still leave the other rules checked.
    event = make_event(enquiry=enquiry, title="Kept")
    data = event_form(title="", ends_at="soon", format="online", join_url="ftp://x.example")
    response = logged_in.post(f"/manage/events/{event.id}/edit", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "title") == "Give the event a title."
    assert field_error(page, "ends_at") == "Enter a date and a time, for example 14/05/2024 10:00."
    assert field_error(page, "join_url")
    assert _events()[0].title == "Kept"


def test_the_edit_form_shows_local_times(logged_in: FlaskClient, make_event: Any) -> None:
    event = make_event(
        starts_at=datetime(2030, 5, 14, 9, 0, tzinfo=UTC),
        ends_at=datetime(2030, 5, 14, 11, 30, tzinfo=UTC),
        rsvp_deadline=datetime(2030, 12, 1, 9, 0, tzinfo=UTC),
    )
    page = logged_in.get(f"/manage/events/{event.id}/edit").get_data(as_text=True)
    assert 'value="2030-05-14T10:00"' in page and 'value="2030-05-14T12:30"' in page
    # December is on GMT: the same hour as UTC.
    assert 'value="2030-12-01T09:00"' in page
    assert 'value="Town Hall"' in page


def test_edit_a_draft(logged_in: FlaskClient, make_event: Any, event_form: Any) -> None:
    event = make_event(status=EventStatus.DRAFT, slug="first-slug")
    response = logged_in.post(
        f"/manage/events/{event.id}/edit",
        data=event_form(title="A better title", description="New words", capacity="12"),
    )
    assert response.status_code == 302
    [saved] = _events()
    assert saved.title == "A better title" and saved.description == "New words"
    assert saved.capacity == 12 and saved.venue == "The Station"
    # Nobody has a draft's address until it is published, so it follows the title.
    assert saved.slug == "a-better-title"
    assert saved.sequence == 0


def test_capacity_cannot_drop_below_places_confirmed(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any, event_form: Any
) -> None:
    event = make_event(capacity=10)
    for _ in range(6):
        make_invitation(event, answer="yes")
    response = logged_in.post(f"/manage/events/{event.id}/edit", data=event_form(capacity="5"))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "capacity") == (
        "6 in-person places are already confirmed: the capacity cannot be lower than that."
    )
    assert _events()[0].capacity == 10 and _events()[0].title != "Learning that travels"

    assert (
        logged_in.post(f"/manage/events/{event.id}/edit", data=event_form(capacity="6")).status_code
        == 302
    )
    assert _events()[0].capacity == 6


def test_an_unchanged_capacity_is_not_checked_again(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any, event_form: Any
) -> None:
    # An organiser may have confirmed more people than the capacity by hand.
    event = make_event(capacity=4)
    for n in range(6):
        make_invitation(event, answer="yes", overbook=n >= 4)
    response = logged_in.post(
        f"/manage/events/{event.id}/edit", data=event_form(capacity="4", title="Overbooked")
    )
    assert response.status_code == 302
    assert _events()[0].title == "Overbooked"


def test_an_online_event_has_no_capacity_or_venue(
    logged_in: FlaskClient, make_enquiry: Any, event_form: Any
) -> None:
    enquiry = make_enquiry()
    data = event_form(format="online", capacity="20", join_url="https://meet.example.org/r")
    assert logged_in.post(f"/manage/events/new?enquiry={enquiry.id}", data=data).status_code == 302
    [event] = _events()
    assert event.capacity is None and event.venue == "" and event.address == ""
    assert event.join_url == "https://meet.example.org/r"


def test_an_event_made_online_drops_its_capacity(
    logged_in: FlaskClient, make_event: Any, event_form: Any
) -> None:
    event = make_event(format=EventFormat.IN_PERSON, capacity=20)
    page = logged_in.get(f"/manage/events/{event.id}/edit").get_data(as_text=True)
    # Without the script the field shows, and its hint says when it applies.
    assert "For face-to-face and hybrid events: places in the room" in page
    assert 'data-shown-for-format="in_person hybrid"' in page and "js/event_form.js" in page
    data = event_form(format="online", capacity="20", join_url="https://meet.example.org/r")
    assert logged_in.post(f"/manage/events/{event.id}/edit", data=data).status_code == 302
    db.session.refresh(event)
    assert event.format == EventFormat.ONLINE and event.capacity is None


def test_hybrid_capacity_counts_in_person_places(
    logged_in: FlaskClient, make_enquiry: Any, event_form: Any
) -> None:
    enquiry = make_enquiry()
    data = event_form(format="hybrid", capacity="20", join_url="https://meet.example.org/r")
    assert logged_in.post(f"/manage/events/new?enquiry={enquiry.id}", data=data).status_code == 302
    [event] = _events()
    assert event.capacity == 20 and event.places_left == 20 and event.is_online


def test_changing_a_published_event_says_what_changed(
    logged_in: FlaskClient, make_event: Any, event_form: Any
) -> None:
    event = make_event(
        starts_at=datetime(2030, 5, 14, 9, 0, tzinfo=UTC),
        ends_at=datetime(2030, 5, 14, 11, 30, tzinfo=UTC),
        venue="Town Hall",
        address="1 High Street, Leeds",
    )
    response = logged_in.post(
        f"/manage/events/{event.id}/edit",
        data=event_form(starts_at="2030-05-14T11:00", ends_at="2030-05-14T12:30"),
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert (
        "The start time changed from Tue 14 May 2030, 10:00 BST to Tue 14 May 2030, 11:00 BST."
        in page
    )
    assert "The venue changed from Town Hall to The Station." in page
    assert "The address changed from 1 High Street, Leeds to Silver Street, Bristol." in page
    assert _events()[0].sequence == 1


def test_update_service_names_each_kind_of_change(make_event: Any) -> None:
    event = make_event(
        starts_at=datetime(2030, 5, 14, 9, 0, tzinfo=UTC),
        ends_at=datetime(2030, 5, 14, 11, 0, tzinfo=UTC),
        format=EventFormat.IN_PERSON,
    )

    def details(**kw: Any) -> services.EventDetails:
        values = {
            "title": event.title,
            "format": event.format,
            "starts_at": event.starts_at,
            "ends_at": event.ends_at,
            "venue": event.venue,
            "address": event.address,
            "join_url": event.join_url,
        }
        values.update(kw)
        return services.EventDetails(**values)

    same = services.update_event(event=event, details=details(description="Only words"))
    assert same.changes == [] and event.sequence == 0

    both = services.update_event(
        event=event,
        details=details(
            starts_at=datetime(2030, 5, 15, 10, 0), ends_at=datetime(2030, 5, 15, 12, 0)
        ),
    )
    assert both.changes == [
        "The time changed from Tue 14 May 2030, 10:00–12:00 BST "
        "to Wed 15 May 2030, 10:00–12:00 BST."
    ]
    assert event.sequence == 1

    hybrid = services.update_event(
        event=event,
        details=details(format=EventFormat.HYBRID, join_url="https://meet.example.org/a"),
    )
    assert hybrid.changes == [
        "The event is now hybrid (it was face-to-face).",
        "There is now a link to join online.",
    ]
    link = services.update_event(
        event=event,
        details=details(format=EventFormat.HYBRID, join_url="https://meet.example.org/b"),
    )
    assert link.changes == ["The join link changed."]
    end = services.update_event(event=event, details=details(ends_at=datetime(2030, 5, 15, 13, 0)))
    assert end.changes == [
        "The end time changed from Wed 15 May 2030, 12:00 BST to Wed 15 May 2030, 13:00 BST."
    ]
    assert event.sequence == 4


def test_a_cancelled_event_cannot_be_edited(
    logged_in: FlaskClient, make_event: Any, event_form: Any
) -> None:
    event = make_event(status=EventStatus.CANCELLED, title="Gone")
    response = logged_in.post(f"/manage/events/{event.id}/edit", data=event_form())
    assert response.status_code == 422
    assert "A cancelled event cannot be changed" in response.get_data(as_text=True)
    assert _events()[0].title == "Gone"


def test_delete_a_draft_but_not_a_published_event(logged_in: FlaskClient, make_event: Any) -> None:
    draft = make_event(status=EventStatus.DRAFT)
    published = make_event(status=EventStatus.PUBLISHED)
    response = logged_in.post(f"/manage/events/{draft.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/manage/enquiries/{draft.enquiry_id}"
    refused = logged_in.post(f"/manage/events/{published.id}/delete", follow_redirects=True)
    assert "Only a draft can be deleted" in refused.get_data(as_text=True)
    assert [e.id for e in _events()] == [published.id]


def test_a_draft_with_invitations_is_not_deleted(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    draft = make_event(status=EventStatus.DRAFT)
    make_invitation(draft, email="guest@example.org")
    response = logged_in.post(f"/manage/events/{draft.id}/delete", follow_redirects=True)
    assert "cannot be deleted" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Event)) == 1


def test_unknown_events_are_not_found(logged_in: FlaskClient) -> None:
    for path in ("/manage/events/999", "/manage/events/999/edit", "/manage/events/999/cancel"):
        assert logged_in.get(path).status_code == 404
    assert logged_in.post("/manage/events/999/publish").status_code == 404


def test_typed_dates_are_understood_where_the_browser_has_no_picker(
    logged_in: FlaskClient, make_enquiry: Any, event_form: Any
) -> None:
    enquiry = make_enquiry()
    data = event_form(starts_at="14/05/2030 10:00", ends_at="2030-05-14 12:30")
    assert logged_in.post(f"/manage/events/new?enquiry={enquiry.id}", data=data).status_code == 302
    [event] = _events()
    assert event.starts_at == datetime(2030, 5, 14, 9, 0, tzinfo=UTC)
    assert event.ends_at == datetime(2030, 5, 14, 11, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "starts_at", "ends_at"),
    [
        ("Asia/Tokyo", "0001-01-01T05:00", "0001-01-01T08:00"),
        ("America/New_York", "9999-12-31T20:00", "9999-12-31T22:00"),
    ],
)
def test_far_off_years_are_refused_in_any_time_zone(
    logged_in: FlaskClient,
    make_enquiry: Any,
    event_form: Any,
    zone: str,
    starts_at: str,
    ends_at: str,
) -> None:
    enquiry = make_enquiry(timezone=zone)
    data = event_form(starts_at=starts_at, ends_at=ends_at)
    response = logged_in.post(f"/manage/events/new?enquiry={enquiry.id}", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "starts_at") == "Enter a date from 1970 to 2100."
    assert field_error(page, "ends_at") == "Enter a date from 1970 to 2100."
    assert _events() == []


def test_the_rules_refuse_what_no_form_checked(make_enquiry: Any) -> None:
    # The CLI, imports and the demo call the service directly: the same rules hold there.
    enquiry = make_enquiry(timezone="Asia/Tokyo")
    details = services.EventDetails(
        title="Bid\x07 and pilot",
        format=EventFormat.IN_PERSON,
        starts_at=datetime(1, 1, 1, 0, 30, tzinfo=UTC),
        ends_at=datetime(2030, 5, 14, 12, 0),
        venue="Town\x9b Hall",
        rsvp_deadline=datetime(2101, 1, 1, 0, 0),
        description="Line one\r\nline\x0b two\twith a tab",
    )
    errors = services.rule_errors(enquiry=enquiry, details=details)
    assert errors == {
        "title": "Remove line breaks and other control characters.",
        "venue": "Remove line breaks and other control characters.",
        "starts_at": "Enter a date from 1970 to 2100.",
        "rsvp_deadline": "Enter a date from 1970 to 2100.",
    }
    fine = services.EventDetails(
        title="Bid and pilot",
        format=EventFormat.IN_PERSON,
        starts_at=datetime(1970, 1, 1, 0, 0),
        ends_at=datetime(2100, 12, 31, 23, 59),
        venue="Town Hall",
        description="Line one\r\nline\x0b two\twith a tab",
    )
    saved = services.create_event(enquiry=enquiry, details=fine)
    # A description keeps its line breaks and tabs; invisible controls go.
    assert saved.event.description == "Line one\nline two\twith a tab"
