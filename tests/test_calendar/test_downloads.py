"""Per-event downloads, the enquiry feed, the organisers' export and the command line."""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import time_machine
from flask import Flask, render_template_string, url_for
from flask.testing import FlaskClient

from placeevents.events.models import EventFormat, EventStatus
from placeevents.extensions import db
from tests.conftest import beyond_the_versions, count_queries
from tests.test_calendar.conftest import parse_all, utc

FROZEN = utc(2025, 3, 1, 12, 0)


def test_public_event_download(client: FlaskClient, make_event: Callable[..., Any]) -> None:
    event = make_event(slug="bid-and-pilot", title="Bid, pilot; repeat 🎉")
    response = client.get("/events/bid-and-pilot/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == "attachment; filename=bid-and-pilot.ics"
    parsed = parse_all(response.data)
    (vevent,) = parsed.ical_events()
    assert str(vevent["UID"]) == event.calendar_uid
    assert str(vevent["SUMMARY"]) == "Bid, pilot; repeat 🎉"
    assert str(vevent["LOCATION"]) == "Town Hall, 1 High Street, Leeds"
    assert str(vevent["URL"]) == "http://localhost/events/bid-and-pilot"
    assert "Event page: http://localhost/events/bid-and-pilot" in str(vevent["DESCRIPTION"])
    assert vevent["DTSTAMP"].dt == event.calendar_changed_at.replace(microsecond=0)
    assert "ATTENDEE" not in vevent and "ORGANIZER" not in vevent
    assert parsed.icaljs["events"][0]["uid"] == event.calendar_uid
    assert parsed.vobject_events()[0].uid.value == event.calendar_uid


def test_drafts_and_unknown_events_have_no_download(
    client: FlaskClient, make_event: Callable[..., Any]
) -> None:
    make_event(slug="draft-one", status=EventStatus.DRAFT)
    assert client.get("/events/draft-one/calendar.ics").status_code == 404
    assert client.get("/events/no-such-event/calendar.ics").status_code == 404


def test_the_join_link_is_never_in_public_files(
    client: FlaskClient, make_event: Callable[..., Any], make_enquiry: Callable[..., Any]
) -> None:
    enquiry = make_enquiry(slug="tp")
    make_event(
        enquiry=enquiry,
        slug="online",
        format=EventFormat.ONLINE,
        venue="",
        address="",
        join_url="https://meet.example/secret-room",
    )
    for url in ("/events/online/calendar.ics", "/enquiries/tp/calendar.ics"):
        data = client.get(url).data
        assert b"secret-room" not in data
        assert str(parse_all(data).ical_events()[0]["LOCATION"]) == "Online"


def _feed_fixture(make_enquiry: Callable[..., Any], make_event: Callable[..., Any]) -> Any:
    with time_machine.travel(FROZEN, tick=False):
        enquiry = make_enquiry(slug="total-place", title="Total Place 2.0")
        start = utc(2025, 4, 1, 9)
        make_event(enquiry=enquiry, slug="first", starts_at=start)
        make_event(
            enquiry=enquiry,
            slug="called-off",
            starts_at=start + timedelta(days=7),
            status=EventStatus.CANCELLED,
            cancellation_message="The venue flooded.",
        )
        make_event(enquiry=enquiry, slug="still-draft", status=EventStatus.DRAFT)
    return enquiry


def test_feed_has_published_and_cancelled_events_and_no_attendees(
    client: FlaskClient,
    make_enquiry: Callable[..., Any],
    make_event: Callable[..., Any],
    make_attendee: Callable[..., Any],
) -> None:
    enquiry = _feed_fixture(make_enquiry, make_event)
    first = next(e for e in enquiry.events if e.slug == "first")
    make_attendee(first, email="someone@example.org")
    response = client.get("/enquiries/total-place/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "filename=total-place.ics" in response.headers["Content-Disposition"]
    parsed = parse_all(response.data)
    statuses = {str(e["URL"]).rsplit("/", 1)[1]: str(e["STATUS"]) for e in parsed.ical_events()}
    assert statuses == {"first": "CONFIRMED", "called-off": "CANCELLED"}
    assert [e["status"] for e in parsed.icaljs["events"]] == ["CONFIRMED", "CANCELLED"]
    assert parsed.icaljs["name"] == "Total Place 2.0"
    assert b"ATTENDEE" not in response.data
    assert b"someone@example.org" not in response.data
    assert not any(e["attendees"] for e in parsed.icaljs["events"])


def test_feed_is_byte_identical_while_nothing_changes(
    client: FlaskClient, make_enquiry: Callable[..., Any], make_event: Callable[..., Any]
) -> None:
    _feed_fixture(make_enquiry, make_event)
    with time_machine.travel(FROZEN + timedelta(days=1), tick=False):
        first = client.get("/enquiries/total-place/calendar.ics")
    with time_machine.travel(FROZEN + timedelta(days=9), tick=False):
        second = client.get("/enquiries/total-place/calendar.ics")
    assert first.data == second.data
    assert first.headers["ETag"] == second.headers["ETag"]
    assert b"DTSTAMP:20250301T120000Z" in first.data


def test_feed_answers_conditional_requests(
    client: FlaskClient, make_enquiry: Callable[..., Any], make_event: Callable[..., Any]
) -> None:
    enquiry = _feed_fixture(make_enquiry, make_event)
    url = "/enquiries/total-place/calendar.ics"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"] == "Sat, 01 Mar 2025 12:00:00 GMT"

    by_etag = client.get(url, headers={"If-None-Match": etag})
    assert by_etag.status_code == 304 and by_etag.data == b""
    by_date = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert by_date.status_code == 304
    assert client.head(url, headers={"If-None-Match": etag}).status_code == 304

    # A change to an event of the feed changes the validators: the next poll gets the body.
    event = next(e for e in enquiry.events if e.slug == "first")
    with time_machine.travel(FROZEN + timedelta(days=2), tick=False):
        event.starts_at = event.starts_at + timedelta(hours=1)
        event.sequence += 1
        db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert b"SEQUENCE:1" in changed.data
    stale = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert stale.status_code == 200


def test_withdrawing_an_event_moves_the_last_modified_on(
    client: FlaskClient, make_enquiry: Callable[..., Any], make_event: Callable[..., Any]
) -> None:
    enquiry = _feed_fixture(make_enquiry, make_event)
    url = "/enquiries/total-place/calendar.ics"
    since = client.get(url).headers["Last-Modified"]
    with time_machine.travel(FROZEN + timedelta(days=3), tick=False):
        event = next(e for e in enquiry.events if e.slug == "first")
        event.status = EventStatus.DRAFT
        db.session.commit()
    response = client.get(url, headers={"If-Modified-Since": since})
    assert response.status_code == 200
    assert b"/events/first" not in response.data


def test_event_download_answers_conditional_requests(
    client: FlaskClient, make_event: Callable[..., Any]
) -> None:
    make_event(slug="one")
    first = client.get("/events/one/calendar.ics")
    again = client.get("/events/one/calendar.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_feed_queries_do_not_grow_with_events(
    app: Flask, make_enquiry: Callable[..., Any], make_event: Callable[..., Any]
) -> None:
    enquiry = make_enquiry(slug="big")
    client = app.test_client()

    def queries() -> int:
        db.session.expunge_all()
        with count_queries() as statements:
            assert client.get("/enquiries/big/calendar.ics").status_code == 200
        # Not the test client's own check of the outbox after the response.
        return len([s for s in statements if "outbox_message" not in s])

    make_event(enquiry=enquiry)
    few = queries()
    for _ in range(15):
        make_event(enquiry=db.session.merge(enquiry))
    # The public version, the feed's state and its events: a built feed is three statements.
    assert queries() == few <= 3, few


def test_unknown_enquiry_feed_is_404(client: FlaskClient) -> None:
    assert client.get("/enquiries/nope/calendar.ics").status_code == 404


def test_organiser_export_needs_login_and_matches_the_feed(
    client: FlaskClient,
    auth: Any,
    organiser: Any,
    make_enquiry: Callable[..., Any],
    make_event: Callable[..., Any],
) -> None:
    enquiry = _feed_fixture(make_enquiry, make_event)
    url = f"/manage/calendar/enquiries/{enquiry.id}.ics"
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    auth.login()
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data == client.get("/enquiries/total-place/calendar.ics").data
    assert len(parse_all(response.data).ical_events()) == 2
    assert client.get("/manage/calendar/enquiries/999999.ics").status_code == 404


def test_export_command_writes_the_enquiry_file(
    app: Flask,
    runner: Any,
    tmp_path: Path,
    make_enquiry: Callable[..., Any],
    make_event: Callable[..., Any],
) -> None:
    _feed_fixture(make_enquiry, make_event)
    target = tmp_path / "tp.ics"
    result = runner.invoke(args=["export", "calendar", "total-place", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "Wrote 2 events" in result.output
    assert target.read_bytes() == app.test_client().get("/enquiries/total-place/calendar.ics").data
    assert len(parse_all(target.read_bytes()).icaljs["events"]) == 2

    missing = runner.invoke(args=["export", "calendar", "nope", "-o", str(tmp_path / "x.ics")])
    assert missing.exit_code == 1
    assert "no such enquiry" in missing.output
    assert not (tmp_path / "x.ics").exists()


def test_add_to_calendar_partial(app: Flask, make_event: Callable[..., Any]) -> None:
    event = make_event(slug="bid", title="Bid & pilot", starts_at=utc(2025, 3, 30, 1, 30))
    with app.test_request_context(), time_machine.travel(utc(2025, 3, 1, 9, 0), tick=False):
        html = render_template_string('{% include "calendar/_add_to_calendar.html" %}', event=event)
    assert 'href="/events/bid/calendar.ics"' in html
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in html
    assert "text=Bid+%26+pilot" in html
    assert "dates=20250330T013000Z%2F20250330T033000Z" in html
    assert "https://outlook.office.com/calendar/0/deeplink/compose?" in html
    assert "https://outlook.live.com/calendar/0/deeplink/compose?" in html
    assert "startdt=2025-03-30T01%3A30%3A00Z" in html
    # Once the event is over there is nothing to add to a calendar.
    with app.test_request_context(), time_machine.travel(utc(2025, 3, 30, 3, 30), tick=False):
        html = render_template_string('{% include "calendar/_add_to_calendar.html" %}', event=event)
    assert "calendar.ics" not in html
    event.status = EventStatus.CANCELLED
    with app.test_request_context(), time_machine.travel(utc(2025, 3, 1, 9, 0), tick=False):
        html = render_template_string('{% include "calendar/_add_to_calendar.html" %}', event=event)
    assert "calendar.ics" not in html


def test_web_calendar_links_carry_the_description_as_plain_text(
    app: Flask, make_event: Callable[..., Any]
) -> None:
    from urllib.parse import parse_qs, urlsplit

    from placeevents.calendar.services import google_calendar_url, outlook_calendar_url

    event = make_event(
        slug="plain",
        description="Bring **one question** and read [the report](https://example.org/r).\n\n"
        "- listen\n- ask",
    )
    expected = (
        "Bring one question and read the report (https://example.org/r).\n\n- listen\n- ask"
        "\n\nhttp://localhost/events/plain"
    )
    with app.test_request_context():
        google = parse_qs(urlsplit(google_calendar_url(event)).query)
        outlook = parse_qs(urlsplit(outlook_calendar_url(event)).query)
    assert google["details"] == [expected]
    assert outlook["body"] == [expected]


def test_links_written_by_hand_match_the_routes(
    app: Flask, make_event: Callable[..., Any], make_enquiry: Callable[..., Any]
) -> None:
    from placeevents.calendar import ics, services

    event = make_event(slug="some-event")
    with app.test_request_context():
        assert ics.event_url(event, "http://localhost") == url_for(
            "events.show", slug="some-event", _external=True
        )
        assert services.feed_url(event.enquiry) == url_for(
            "calendar.enquiry_feed", slug=event.enquiry.slug, _external=True
        )


def test_export_link_partial(app: Flask, make_enquiry: Callable[..., Any]) -> None:
    enquiry = make_enquiry()
    with app.test_request_context():
        html = render_template_string('{% include "calendar/_export_link.html" %}', enquiry=enquiry)
    assert f'href="/manage/calendar/enquiries/{enquiry.id}.ics"' in html


def test_subscribe_partial(app: Flask, make_enquiry: Callable[..., Any]) -> None:
    enquiry = make_enquiry(slug="total-place")
    app.config["PLACEEVENTS_BASE_URL"] = "https://events.example.org"
    with app.test_request_context():
        html = render_template_string('{% include "calendar/_subscribe.html" %}', enquiry=enquiry)
    assert 'href="webcal://events.example.org/enquiries/total-place/calendar.ics"' in html
    assert "https://events.example.org/enquiries/total-place/calendar.ics" in html
    assert "cid=webcal%3A%2F%2Fevents.example.org%2Fenquiries%2Ftotal-place%2Fcalendar.ics" in html


def test_ics_descriptions_are_plain_text_not_markdown(client, make_event) -> None:  # type: ignore[no-untyped-def]
    event = make_event(
        description="We meet **in person**; read [the paper](https://example.org/p)."
    )
    body = client.get(f"/events/{event.slug}/calendar.ics").data.decode()
    unfolded = body.replace("\r\n ", "")
    assert "**" not in unfolded and "[the paper]" not in unfolded
    assert "in person" in unfolded and "the paper (https://example.org/p)" in unfolded


def test_feed_revalidation_is_one_small_query(
    app: Flask, make_enquiry: Callable[..., Any], make_event: Callable[..., Any]
) -> None:
    """A calendar app's conditional poll is answered from stored values: one query, no
    event loaded, and the same validators as the full answer it revalidates."""
    enquiry = make_enquiry(slug="polled")
    for _ in range(5):
        make_event(enquiry=db.session.merge(enquiry))
    client = app.test_client()
    full = client.get("/enquiries/polled/calendar.ics")
    db.session.expunge_all()
    with count_queries() as statements:
        again = client.get(
            "/enquiries/polled/calendar.ics", headers={"If-None-Match": full.headers["ETag"]}
        )
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == full.headers["ETag"]
    assert "public" in again.headers["Cache-Control"]
    # The versions at most: the feed's state read at that version is kept.
    assert beyond_the_versions(statements) == []


def test_feed_validators_move_when_an_event_is_removed_or_added(
    client: FlaskClient, make_enquiry: Callable[..., Any], make_event: Callable[..., Any]
) -> None:
    enquiry = _feed_fixture(make_enquiry, make_event)
    url = "/enquiries/total-place/calendar.ics"
    etag = client.get(url).headers["ETag"]
    event = next(e for e in enquiry.events if e.slug == "first")
    db.session.delete(event)
    db.session.commit()
    removed = client.get(url, headers={"If-None-Match": etag})
    assert removed.status_code == 200 and b"/events/first" not in removed.data
    make_event(enquiry=db.session.merge(enquiry), slug="added")
    added = client.get(url, headers={"If-None-Match": removed.headers["ETag"]})
    assert added.status_code == 200 and b"/events/added" in added.data


def test_feed_validators_move_when_the_base_url_changes(
    app: Flask, make_enquiry: Callable[..., Any], make_event: Callable[..., Any]
) -> None:
    _feed_fixture(make_enquiry, make_event)
    url = "/enquiries/total-place/calendar.ics"
    etag = app.test_client().get(url).headers["ETag"]
    app.config["PLACEEVENTS_BASE_URL"] = "https://events.example.org"
    moved = app.test_client().get(url, headers={"If-None-Match": etag})
    assert moved.status_code == 200
    assert b"https://events.example.org/events/" in moved.data


def test_a_repeated_full_feed_is_served_from_memory_until_the_feed_changes(
    client: FlaskClient, make_enquiry: Callable[..., Any], make_event: Callable[..., Any]
) -> None:
    enquiry = _feed_fixture(make_enquiry, make_event)
    url = "/enquiries/total-place/calendar.ics"
    first = client.get(url)
    with count_queries() as statements:
        again = client.get(url)
    # The versions at most: no event is loaded and no file written again (the test client's
    # outbox delivery after the response is not the page's).
    assert beyond_the_versions(statements) == []
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]

    event = next(e for e in enquiry.events if e.slug == "first")
    old_title = f"SUMMARY:{event.title}\r\n".encode()
    assert old_title in first.data
    with time_machine.travel(FROZEN + timedelta(days=2), tick=False):
        event.title = "Renamed exploration"
        db.session.commit()
    changed = client.get(url)
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert b"SUMMARY:Renamed exploration" in changed.data
    assert old_title not in changed.data
