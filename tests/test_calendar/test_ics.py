"""The iCalendar writer: folding, escaping, UTC times, and what three parsers read back."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import vobject
from hypothesis import given, settings
from hypothesis import strategies as st

from placeevents.calendar import ics
from placeevents.enquiries.models import Enquiry
from placeevents.enquiries.timezones import from_local
from placeevents.events.models import Event, EventFormat, EventStatus
from placeevents.markdown import markdown_to_text
from tests.test_calendar.conftest import parse_all, parse_with_icaljs, utc

BASE = "https://events.example.org"
LONDON = ZoneInfo("Europe/London")


def transient_event(**kw: object) -> Event:
    """An Event that is never stored: the writer needs only its attributes."""
    starts_at = kw.pop("starts_at", utc(2025, 5, 14, 9, 0))
    values: dict[str, object] = {
        "slug": "an-event",
        "title": "An exploration",
        "description": "",
        "format": EventFormat.IN_PERSON,
        "venue": "Town Hall",
        "address": "1 High Street, Leeds",
        "join_url": "",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=2),  # type: ignore[operator]
        "status": EventStatus.PUBLISHED,
        "calendar_uid": "7c1d2a3e-0000-4000-8000-000000000001@placeevents",
        "sequence": 0,
        "created_at": utc(2025, 1, 2, 10, 0),
        "calendar_changed_at": utc(2025, 1, 3, 11, 30, 15),
    }
    values.update(kw)
    return Event(**values)


# --- folding


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=400)
)
def test_folding_never_splits_a_utf8_character(value: str) -> None:
    folded = ics.fold("DESCRIPTION:" + value)
    assert folded.endswith(b"\r\n")
    physical = folded[:-2].split(b"\r\n")
    for i, line in enumerate(physical):
        assert len(line) <= 75
        line.decode("utf-8")  # each physical line is whole UTF-8 on its own
        if i:
            assert line.startswith(b" ")
    unfolded = physical[0] + b"".join(line[1:] for line in physical[1:])
    assert unfolded.decode("utf-8") == "DESCRIPTION:" + value


def test_every_line_of_a_real_file_ends_in_crlf_and_fits() -> None:
    event = transient_event(title="🎉 " * 60, description="Ünïcödé… " * 40)
    data = ics.event_ics(event, base_url=BASE)
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    for line in data.split(b"\r\n")[:-1]:
        assert len(line) <= 75
        line.decode("utf-8")


# --- escaping and round trips

TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"]),
    min_size=1,
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(title=TEXT, description=TEXT)
def test_any_title_and_description_round_trip(title: str, description: str) -> None:
    event = transient_event(title=title, description=description)
    data = ics.event_ics(event, base_url=BASE)
    (vevent,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    expected_title = title.strip(" \t")
    assert str(vevent["SUMMARY"]) == expected_title
    # The description is the Markdown rendered to plain text, exactly as written.
    expected_description = markdown_to_text(description).strip()
    assert str(vevent["DESCRIPTION"]).startswith(expected_description)
    read = vobject.readOne(data.decode("utf-8"))
    assert read.vevent.summary.value == expected_title
    assert read.vevent.description.value.startswith(expected_description)


TRICKY_TITLES = [
    "Bid, pilot; repeat",
    "Café in Ōsaka & Zürich — «déjà vu»",
    "Place-based 🎉🏙️ working 👩🏽‍🤝‍👩🏻",
    'Back\\slash "quoted" and: colon',
    " ".join(["Ünïcödé"] * 12),
    "A; B, C; D, E \\n not a newline",
]


def test_tricky_titles_round_trip_exactly_in_three_parsers() -> None:
    enquiry = Enquiry(slug="tp", title="Total Place 2.0, again; 🎉", summary="")
    events = [
        transient_event(slug=f"e{i}", title=title, calendar_uid=f"uid-{i}@placeevents")
        for i, title in enumerate(TRICKY_TITLES)
    ]
    parsed = parse_all(ics.enquiry_feed_ics(enquiry, events, base_url=BASE))
    assert [str(e["SUMMARY"]) for e in parsed.ical_events()] == TRICKY_TITLES
    assert [e.summary.value for e in parsed.vobject_events()] == TRICKY_TITLES
    assert [e["summary"] for e in parsed.icaljs["events"]] == TRICKY_TITLES
    # Calendar names are TEXT (RFC 5545 §3.8.8.2, RFC 7986): escaped like any other.
    assert b"X-WR-CALNAME:Total Place 2.0\\, again\\; \xf0\x9f\x8e\x89\r\n" in parsed.raw
    assert parsed.vobject.contents["x-wr-calname"][0].value == "Total Place 2.0, again; 🎉"


def test_line_breaks_in_titles_are_normalised() -> None:
    event = transient_event(title="  First line\r\n  second line\nthird\u2028fourth\tfifth ")
    parsed = parse_all(ics.event_ics(event, base_url=BASE))
    expected = "First line second line third fourth fifth"
    assert str(parsed.ical_events()[0]["SUMMARY"]) == expected
    assert parsed.icaljs["events"][0]["summary"] == expected


def test_description_keeps_its_line_breaks_and_names_the_event_page() -> None:
    event = transient_event(description="First paragraph.\r\n\r\nSecond, with; specials \\ here.")
    parsed = parse_all(ics.event_ics(event, base_url=BASE))
    expected = (
        f"First paragraph.\n\nSecond, with; specials \\ here.\n\nEvent page: {BASE}/events/an-event"
    )
    assert str(parsed.ical_events()[0]["DESCRIPTION"]) == expected
    assert parsed.vobject_events()[0].description.value == expected
    assert parsed.icaljs["events"][0]["description"] == expected
    assert parsed.icaljs["events"][0]["url"] == f"{BASE}/events/an-event"


def test_location_is_the_venue_and_address_or_online() -> None:
    in_person = ics.event_ics(transient_event(), base_url=BASE)
    online = ics.event_ics(
        transient_event(
            format=EventFormat.ONLINE, venue="", address="", join_url="https://x.test/j"
        ),
        base_url=BASE,
    )
    assert (
        parse_with_icaljs(in_person)["events"][0]["location"] == "Town Hall, 1 High Street, Leeds"
    )
    read = parse_with_icaljs(online)["events"][0]
    assert read["location"] == "Online"
    assert b"x.test" not in online  # the join link is only for attendees


# --- times


def test_times_are_utc_never_floating_and_no_vtimezone() -> None:
    event = transient_event()
    organizer = ics.Person("enquiry@placeevents.example", "Total Place 2.0")
    place = ics.Place(ics.Person("a@example.org", "A"), online=False)
    outputs = [
        ics.event_ics(event, base_url=BASE),
        ics.enquiry_feed_ics(Enquiry(slug="e", title="E"), [event], base_url=BASE),
        ics.personal_ics(
            event,
            attendee_email="a@example.org",
            attendee_name="A",
            online=False,
            join_url="",
            base_url=BASE,
            organizer=organizer,
            sequence=0,
        ),
        ics.imip_request(
            event,
            organizer=organizer,
            place=place,
            sequence=1,
            dtstamp=utc(2025, 2, 1),
            base_url=BASE,
        ),
        ics.imip_cancel(
            event,
            organizer=organizer,
            place=place,
            sequence=2,
            dtstamp=utc(2025, 2, 1),
            base_url=BASE,
        ),
    ]
    for data in outputs:
        assert b"VTIMEZONE" not in data and b"TZID" not in data
        for line in data.split(b"\r\n"):
            if line.split(b":")[0].split(b";")[0] in (
                b"DTSTART",
                b"DTEND",
                b"DTSTAMP",
                b"CREATED",
                b"LAST-MODIFIED",
            ):
                assert line.endswith(b"Z"), line


def test_a_naive_time_is_refused_rather_than_written_floating() -> None:
    event = transient_event(starts_at=utc(2025, 5, 14, 9).replace(tzinfo=None))
    try:
        ics.event_ics(event, base_url=BASE)
    except ValueError as exc:
        assert "naive" in str(exc)
    else:
        raise AssertionError("a naive time was written")


def _instants(data: bytes) -> list[tuple[str, str, str]]:
    """(icalendar, vobject, ical.js) DTSTART of each event, as UTC ISO strings."""
    parsed = parse_all(data)
    ical = [e["DTSTART"].dt.astimezone(UTC).isoformat() for e in parsed.ical_events()]
    vobj = [e.dtstart.value.astimezone(UTC).isoformat() for e in parsed.vobject_events()]
    js = [e["dtstart"]["utc"].replace(".000Z", "+00:00") for e in parsed.icaljs["events"]]
    return list(zip(ical, vobj, js, strict=True))


def test_events_on_the_clock_change_sundays_land_at_the_right_instants() -> None:
    # Organisers enter London wall-clock times; the events domain converts with from_local.
    spring_after = from_local(datetime(2025, 3, 30, 2, 30), "Europe/London").utc
    spring_before = from_local(datetime(2025, 3, 30, 0, 30), "Europe/London").utc
    autumn_first = from_local(datetime(2025, 10, 26, 1, 30), "Europe/London").utc
    autumn_after = from_local(datetime(2025, 10, 26, 2, 30), "Europe/London").utc
    events = [
        transient_event(slug=f"e{i}", calendar_uid=f"dst-{i}@placeevents", starts_at=moment)
        for i, moment in enumerate([spring_before, spring_after, autumn_first, autumn_after])
    ]
    data = ics.enquiry_feed_ics(Enquiry(slug="e", title="E"), events, base_url=BASE)
    expected = [
        "2025-03-30T00:30:00+00:00",  # 00:30 GMT, before the change at 01:00 GMT
        "2025-03-30T01:30:00+00:00",  # 02:30 BST, the hour after the change
        "2025-10-26T00:30:00+00:00",  # 01:30 BST, the first of the two 01:30s
        "2025-10-26T02:30:00+00:00",  # 02:30 GMT, after the clocks went back
    ]
    assert [ical for ical, _, _ in _instants(data)] == expected
    for ical, vobj, js in _instants(data):
        assert ical == vobj == js
    assert b"DTSTART:20250330T013000Z" in data
    walls = [
        moment.astimezone(LONDON).strftime("%H:%M %Z")
        for moment in (spring_before, spring_after, autumn_first, autumn_after)
    ]
    assert walls == ["00:30 GMT", "02:30 BST", "01:30 BST", "02:30 GMT"]
