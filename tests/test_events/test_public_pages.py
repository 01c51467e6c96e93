"""The public event page: what people see, what they never see, and drafts that stay hidden."""

from datetime import UTC, datetime
from typing import Any

import time_machine
from flask.testing import FlaskClient

from placeevents.events.models import EventAccess, EventFormat, EventStatus


def test_a_published_event_page_shows_the_facts(
    client: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    event = make_event(
        title="Learning that travels",
        slug="learning-that-travels",
        format=EventFormat.HYBRID,
        venue="The Station",
        address="Silver Street, Bristol",
        join_url="https://meet.example.org/secret-room",
        hosts="Jo Bloggs and Sam Lee",
        capacity=30,
        access=EventAccess.OPEN,
        description="Bring **one question**.\n\n- listen\n- ask",
        starts_at=datetime(2030, 5, 14, 9, 0, tzinfo=UTC),
        ends_at=datetime(2030, 5, 14, 11, 30, tzinfo=UTC),
    )
    for _ in range(26):
        make_invitation(event, answer="yes")
    response = client.get("/events/learning-that-travels")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Learning that travels</h1>" in page
    assert "Tue 14 May 2030, 10:00–12:30 BST" in page
    assert "The Station, Silver Street, Bristol — or join online" in page
    assert "<dd>Hybrid</dd>" in page
    assert "Jo Bloggs and Sam Lee" in page
    assert "4 of 30 in person; joining online is not limited" in page
    assert "Bring <strong>one question</strong>." in page and "<li>listen</li>" in page
    assert "Open to registration" in page
    assert event.enquiry.title in page
    assert "secret-room" not in page and "meet.example.org" not in page


def test_an_online_event_says_online(client: FlaskClient, make_event: Any) -> None:
    make_event(
        slug="online-one",
        format=EventFormat.ONLINE,
        venue="",
        address="",
        join_url="https://meet.example.org/secret-room",
    )
    page = client.get("/events/online-one").get_data(as_text=True)
    assert "<dt>Where</dt><dd>Online</dd>" in page
    assert "secret-room" not in page and "Places left" not in page


def test_drafts_are_never_public(
    client: FlaskClient, logged_in: FlaskClient, make_event: Any
) -> None:
    draft = make_event(status=EventStatus.DRAFT, slug="secret-draft", title="Not ready yet")
    assert client.get("/events/secret-draft").status_code == 404
    assert "Not ready yet" not in client.get("/").get_data(as_text=True)
    assert "Not ready yet" not in client.get(f"/enquiries/{draft.enquiry.slug}").get_data(
        as_text=True
    )
    # Not even for a signed-in organiser: the organiser page is where drafts are seen.
    assert logged_in.get("/events/secret-draft").status_code == 404
    assert "Not ready yet" in logged_in.get(f"/manage/events/{draft.id}").get_data(as_text=True)


def test_a_cancelled_event_says_so(client: FlaskClient, make_event: Any) -> None:
    make_event(
        slug="called-off",
        status=EventStatus.CANCELLED,
        cancellation_message="Our speaker is unwell; a new date will follow.",
        capacity=10,
    )
    page = client.get("/events/called-off").get_data(as_text=True)
    assert "This event has been cancelled." in page
    assert "Our speaker is unwell; a new date will follow." in page
    assert "Places left" not in page
    assert "Cancelled" in client.get("/").get_data(as_text=True)


def test_an_event_that_has_ended_says_when_it_took_place(
    client: FlaskClient, make_event: Any
) -> None:
    event = make_event(
        slug="over",
        access=EventAccess.OPEN,
        capacity=30,
        starts_at=datetime(2030, 5, 14, 9, 0, tzinfo=UTC),
        ends_at=datetime(2030, 5, 14, 11, 30, tzinfo=UTC),
    )
    with time_machine.travel(datetime(2030, 5, 14, 8, 0, tzinfo=UTC), tick=False):
        before = client.get("/events/over").get_data(as_text=True)
        assert not event.has_ended
    assert "Places left" in before and "Add to your calendar" in before
    assert "Request a place" in before and "took place" not in before

    with time_machine.travel(datetime(2030, 5, 14, 11, 30, tzinfo=UTC), tick=False):
        page = client.get("/events/over").get_data(as_text=True)
        assert event.has_ended
    assert "This event took place on Tue 14 May 2030." in page
    assert "Places left" not in page
    assert "Add to your calendar" not in page and "Add to Google Calendar" not in page
    assert "Request a place" not in page
    assert "Join our mailing list" in page


def test_an_unknown_event_is_not_found(client: FlaskClient) -> None:
    assert client.get("/events/no-such-event").status_code == 404


def test_event_cards_say_how_one_can_come(
    client: FlaskClient, make_enquiry: Any, make_event: Any, make_invitation: Any
) -> None:
    enquiry = make_enquiry(slug="cards")
    open_event = make_event(enquiry=enquiry, title="Open one", access=EventAccess.OPEN)
    make_event(enquiry=enquiry, title="Invited one", access=EventAccess.INVITATION)
    full = make_event(enquiry=enquiry, title="Full one", access=EventAccess.OPEN, capacity=1)
    make_invitation(full, answer="yes")
    hybrid = make_event(
        enquiry=enquiry,
        title="Hybrid one",
        access=EventAccess.OPEN,
        format=EventFormat.HYBRID,
        join_url="https://meet.example.org/x",
        capacity=1,
    )
    make_invitation(hybrid, answer="yes", mode="in_person")
    html = client.get("/enquiries/cards").get_data(as_text=True)

    cards = html[html.index('id="upcoming-heading"'):]  # past the hero's short "Next" list

    def badge(title: str) -> str:
        card = cards[: cards.index(f">{title}</a>")].rsplit('<article class="card event-card', 1)[1]
        return card.split('badge--availability">', 1)[1].split("<", 1)[0]

    assert badge("Open one") == "Open to registration"
    assert badge("Invited one") == "By invitation"
    assert badge("Full one") == "Full: waiting list"
    assert badge("Hybrid one") == "Online places open; in person full"
    assert open_event.availability == "Open to registration"
