"""Attendee lists as CSV and XLSX: who, which columns, safe cells, local times, streaming."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from placeevents.audit.models import AuditEntry
from placeevents.enquiries.models import EnquiryStatus
from placeevents.events.models import EventFormat
from placeevents.extensions import db
from placeevents.invitations.models import (
    AttendanceMode,
    Invitation,
    InvitationSource,
    Rsvp,
    RsvpAnswer,
)
from tests.conftest import count_queries

EXPORT_DAY = datetime(2024, 5, 14, 9, 0, tzinfo=UTC)


def read_csv(response: Any) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8").removeprefix("\ufeff")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline="")))


def read_xlsx(response: Any) -> Any:
    return load_workbook(io.BytesIO(response.get_data()))


@pytest.fixture
def event(make_event: Any) -> Any:
    return make_event(
        slug="bid-and-pilot-leeds",
        starts_at=datetime(2024, 6, 4, 9, 30, tzinfo=UTC),
        ends_at=datetime(2024, 6, 4, 12, 30, tzinfo=UTC),
        ask_dietary_needs=True,
    )


@pytest.fixture
def everyone(event: Any, make_invitation: Any) -> dict[str, Any]:
    """One person in each state, named after it."""
    event.capacity = 1  # Ada's place: whoever says yes next waits
    return {
        "yes": make_invitation(
            event,
            answer="yes",
            name="Ada Yes",
            organisation="Leeds City Council",
            role="Officer",
            access_needs="Step-free",
        ),
        # Cal joins the waiting list first, so the place that opens is offered to Cal.
        "offered": make_invitation(event, answer="offered", name="Cal Offered"),
        "waitlisted": make_invitation(event, answer="waitlisted", name="Bea Waitlisted"),
        "maybe": make_invitation(event, answer="maybe", name="Dee Maybe"),
        "no": make_invitation(event, answer="no", name="Eve No"),
        "none": make_invitation(event, name="Fay Silent"),
    }


@pytest.mark.parametrize(
    ("who", "names"),
    [
        (["confirmed"], ["Ada Yes"]),
        (["waitlisted"], ["Bea Waitlisted", "Cal Offered"]),
        (["maybe"], ["Dee Maybe"]),
        (["declined"], ["Eve No"]),
        (["no_answer"], ["Fay Silent"]),
        (["confirmed", "no_answer"], ["Ada Yes", "Fay Silent"]),
        (
            ["everyone"],
            ["Ada Yes", "Bea Waitlisted", "Cal Offered", "Dee Maybe", "Eve No", "Fay Silent"],
        ),
    ],
)
def test_each_group_of_people(
    logged_in: FlaskClient, event: Any, everyone: Any, who: list[str], names: list[str]
) -> None:
    response = logged_in.post(
        f"/manage/exports/events/{event.id}/attendees.csv",
        data={"who": who, "columns": ["name", "answer"]},
    )
    assert response.status_code == 200
    rows = read_csv(response)
    assert rows[0] == ["Name", "Answer"]
    assert [r[0] for r in rows[1:]] == names


def test_a_bare_request_gives_confirmed_people_with_the_usual_columns(
    logged_in: FlaskClient, event: Any, everyone: Any
) -> None:
    rows = read_csv(logged_in.post(f"/manage/exports/events/{event.id}/attendees.csv"))
    assert rows == [
        ["Name", "Email", "Organisation", "Role", "Answer", "In person or online"],
        ["Ada Yes", everyone["yes"].email, "Leeds City Council", "Officer", "Coming", "In person"],
    ]


def test_every_column_in_the_chosen_order(
    logged_in: FlaskClient, event: Any, make_invitation: Any
) -> None:
    make_invitation(
        event,
        answer="yes",
        name="Ada",
        email="ada@example.org",
        organisation="NHS Leeds",
        role="Director",
        access_needs="Hearing loop",
        dietary_needs="Vegan",
        question="How do we stop bidding?",
        attended=True,
        answered_at=datetime(2024, 5, 1, 9, 0, tzinfo=UTC),
    )
    columns = [
        "question",
        "name",
        "email",
        "organisation",
        "role",
        "answer",
        "mode",
        "answered_at",
        "waitlist_position",
        "access_needs",
        "dietary_needs",
        "attended",
    ]
    rows = read_csv(
        logged_in.post(
            f"/manage/exports/events/{event.id}/attendees.csv",
            data={"who": "everyone", "columns": columns},
        )
    )
    note = "deleted 30 days after the event, on 4 Jul 2024"
    assert rows[0] == [
        "Their question",
        "Name",
        "Email",
        "Organisation",
        "Role",
        "Answer",
        "In person or online",
        "Answered at (Europe/London)",
        "Waitlist position",
        f"Access needs ({note})",
        f"Dietary needs ({note})",
        "Attended",
    ]
    assert rows[1] == [
        "How do we stop bidding?",
        "Ada",
        "ada@example.org",
        "NHS Leeds",
        "Director",
        "Coming",
        "In person",
        "2024-05-01 10:00",  # 09:00 UTC is 10:00 BST
        "",
        "Hearing loop",
        "Vegan",
        "yes",
    ]


def test_waitlist_positions_follow_the_order_people_joined(
    logged_in: FlaskClient, event: Any, make_invitation: Any
) -> None:
    base = datetime(2024, 5, 2, 8, 0, tzinfo=UTC)
    event.capacity = 1
    make_invitation(event, answer="yes", name="Bob", answered_at=base - timedelta(hours=1))
    # Zed, first in line, is later offered the place that opens; the others keep waiting.
    make_invitation(event, answer="offered", name="Zed", answered_at=base)
    make_invitation(event, answer="waitlisted", name="Amy", answered_at=base + timedelta(hours=1))
    make_invitation(event, answer="waitlisted", name="Max", answered_at=base + timedelta(hours=2))
    rows = read_csv(
        logged_in.post(
            f"/manage/exports/events/{event.id}/attendees.csv",
            data={"who": "everyone", "columns": ["name", "waitlist_position"]},
        )
    )
    assert rows[1:] == [["Amy", "2"], ["Bob", ""], ["Max", "3"], ["Zed", "1"]]


def test_formula_cells_are_neutralised_in_csv_and_xlsx(
    logged_in: FlaskClient, event: Any, make_invitation: Any
) -> None:
    make_invitation(
        event,
        answer="yes",
        name='=HYPERLINK("http://evil.example","Click")',
        organisation="+44 113 000",
        role="-1+1",
        question="@SUM(A1:A9)",
    )
    query = {"who": "confirmed", "columns": ["name", "organisation", "role", "question"]}
    url = f"/manage/exports/events/{event.id}/attendees"
    rows = read_csv(logged_in.post(url + ".csv", data=query))
    assert rows[1] == [
        '\'=HYPERLINK("http://evil.example","Click")',
        "'+44 113 000",
        "'-1+1",
        "'@SUM(A1:A9)",
    ]

    sheet = read_xlsx(logged_in.post(url + ".xlsx", data=query))["Attendees"]
    cells = list(sheet.iter_rows(min_row=2, max_row=2))[0]
    assert [c.value for c in cells] == [
        '=HYPERLINK("http://evil.example","Click")',
        "+44 113 000",
        "-1+1",
        "@SUM(A1:A9)",
    ]
    assert [c.data_type for c in cells] == ["s", "s", "s", "s"]


def test_control_characters_do_not_break_the_xlsx(
    logged_in: FlaskClient, event: Any, make_invitation: Any
) -> None:
    make_invitation(event, answer="yes", name="Bell\x07 Ringer", question="x" * 40_000)
    response = logged_in.post(
        f"/manage/exports/events/{event.id}/attendees.xlsx",
        data={"who": "confirmed", "columns": ["name", "question"]},
    )
    row = list(read_xlsx(response)["Attendees"].iter_rows(min_row=2, values_only=True))[0]
    assert row[0] == "Bell Ringer" and len(row[1]) == 32767


def test_xlsx_times_are_local_and_naive_across_a_clock_change(
    logged_in: FlaskClient, event: Any, make_invitation: Any
) -> None:
    # The clocks went forward in London at 01:00 UTC on 31 March 2024.
    make_invitation(
        event, answer="yes", name="Before", answered_at=datetime(2024, 3, 30, 12, 0, tzinfo=UTC)
    )
    make_invitation(
        event, answer="yes", name="After", answered_at=datetime(2024, 4, 1, 12, 0, tzinfo=UTC)
    )
    response = logged_in.post(
        f"/manage/exports/events/{event.id}/attendees.xlsx",
        data={"who": "confirmed", "columns": ["name", "answered_at"]},
    )
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = read_xlsx(response)
    rows = list(workbook["Attendees"].iter_rows(values_only=True))
    assert rows[0] == ("Name", "Answered at (Europe/London)")
    assert rows[1:] == [
        ("After", datetime(2024, 4, 1, 13, 0)),
        ("Before", datetime(2024, 3, 30, 12, 0)),
    ]
    assert workbook["Attendees"]["B2"].is_date
    about = dict(workbook["About this export"].iter_rows(min_row=2, values_only=True))
    assert about["Times are in"] == "Europe/London"
    assert "deleted 30 days after the event, on 4 Jul 2024" in about["Personal data"]
    assert about["People"] == "2"


def test_downloads_are_named_by_slug_and_date_and_audited(
    logged_in: FlaskClient, event: Any, everyone: Any, organiser: Any
) -> None:
    csv_response = logged_in.post(f"/manage/exports/events/{event.id}/attendees.csv")
    csv_response.get_data()
    assert csv_response.headers["Content-Disposition"] == (
        'attachment; filename="bid-and-pilot-leeds-2024-06-04-attendees.csv"'
    )
    assert csv_response.mimetype == "text/csv"
    assert csv_response.headers["Cache-Control"] == "no-store"
    xlsx_response = logged_in.post(
        f"/manage/exports/events/{event.id}/attendees.xlsx",
        data={"who": "everyone", "columns": "name"},
    )
    xlsx_response.get_data()
    assert xlsx_response.headers["Content-Disposition"] == (
        'attachment; filename="bid-and-pilot-leeds-2024-06-04-attendees.xlsx"'
    )
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor, e.target) for e in entries] == [
        ("export.attendees", organiser.email, "event bid-and-pilot-leeds"),
        ("export.attendees", organiser.email, "event bid-and-pilot-leeds"),
    ]
    # In words, as the export form names groups and columns: never their keys.
    assert entries[0].detail.startswith("CSV, 1 person (confirmed); columns: Name, Email")
    assert entries[1].detail == "XLSX, 6 people (everyone invited); columns: Name"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"who": "friends"}, "is not a valid choice"),
        ({"who": "confirmed", "columns": "salary"}, "is not a valid choice"),
        ({"columns": "name"}, "Choose at least one group of people."),
        ({"who": "confirmed"}, "Choose at least one column."),
    ],
)
def test_bad_choices_redisplay_the_form(
    logged_in: FlaskClient, event: Any, query: dict[str, str], message: str
) -> None:
    response = logged_in.post(f"/manage/exports/events/{event.id}/attendees.csv", data=query)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry)) is None


def test_unknown_event_is_not_found(logged_in: FlaskClient) -> None:
    assert logged_in.post("/manage/exports/events/999/attendees.csv").status_code == 404
    assert logged_in.get("/manage/exports/events/999/").status_code == 404


def test_only_organisers_can_export(client: FlaskClient, event: Any, everyone: Any) -> None:
    response = client.post(f"/manage/exports/events/{event.id}/attendees.csv")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert db.session.scalar(select(AuditEntry)) is None


def _online_event(make_event: Any) -> Any:
    return make_event(format=EventFormat.ONLINE, venue="", address="")


def _add_people(event: Any, count: int) -> None:
    # Direct rows for speed; online answers hold no places, so attendance would write the same.
    for n in range(count):
        invitation = Invitation(
            event_id=event.id,
            email=f"bulk{n}@example.org",
            name=f"Bulk {n:05d}",
            organisation=f"Org {n % 7}",
            source=InvitationSource.SUBSCRIBER,
        )
        answer = [RsvpAnswer.YES, RsvpAnswer.MAYBE, RsvpAnswer.NO][n % 3]
        invitation.rsvp = Rsvp(
            answer=answer,
            mode=AttendanceMode.ONLINE if answer == RsvpAnswer.YES else None,
            answered_at=EXPORT_DAY,
            access_needs="Quiet room" if answer == RsvpAnswer.YES else "",
        )
        db.session.add(invitation)
    db.session.commit()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_same_number_of_queries_for_10_and_2000_people(
    logged_in: FlaskClient, make_event: Any, fmt: str
) -> None:
    small, large = _online_event(make_event), _online_event(make_event)
    _add_people(small, 10)
    _add_people(large, 2000)
    counts, lengths = [], []
    for event in (small, large):
        with count_queries() as queries:
            response = logged_in.post(
                f"/manage/exports/events/{event.id}/attendees.{fmt}",
                data={"who": "everyone", "columns": list(_all_columns())},
            )
            response.get_data()
        counts.append(len(queries))
        if fmt == "csv":
            lengths.append(len(read_csv(response)) - 1)
        else:
            lengths.append(read_xlsx(response)["Attendees"].max_row - 1)
    assert lengths == [10, 2000]
    assert counts[0] == counts[1], counts
    # One of them reads the settings (admins may be required to use two-factor sign-in).
    assert counts[0] <= 9


def _all_columns() -> list[str]:
    from placeevents.exports.rows import COLUMNS

    return list(COLUMNS)


def test_large_csv_streams_in_chunks(logged_in: FlaskClient, make_event: Any) -> None:
    event = _online_event(make_event)
    _add_people(event, 2000)
    response = logged_in.post(
        f"/manage/exports/events/{event.id}/attendees.csv",
        data={"who": "everyone", "columns": ["name", "email", "access_needs"]},
        buffered=False,
    )
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) > 1
    text = b"".join(chunks).decode("utf-8")
    assert text.count("\r\n") == 2001


def test_event_page_offers_every_export(logged_in: FlaskClient, event: Any, everyone: Any) -> None:
    html = logged_in.get(f"/manage/exports/events/{event.id}/").get_data(as_text=True)
    assert "<dt>Confirmed</dt><dd>1</dd>" in html
    assert "<dt>Waitlist</dt><dd>2</dd>" in html
    assert "<dt>No answer yet</dt><dd>1</dd>" in html
    assert "deleted 30 days after the event, on 4 Jul 2024" in html
    for label in ("Download CSV", "Download XLSX", "Printable sign-in sheet", "Check people in"):
        assert label in html
    assert 'name="who" type="checkbox" value="confirmed" checked' in html or (
        'value="confirmed"' in html
    )


def test_sign_in_sheet_lists_the_chosen_people_and_is_audited(
    logged_in: FlaskClient, event: Any, everyone: Any
) -> None:
    response = logged_in.post(
        f"/manage/exports/events/{event.id}/sign-in-sheet",
        data={"who": ["confirmed", "maybe"], "columns": "name"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Ada Yes" in html and "Dee Maybe" in html and "Eve No" not in html
    assert "Signature" in html and "2 people" in html
    assert 'media="print"' in html
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None and entry.action == "export.sign-in-sheet"


def test_sign_in_sheet_of_a_hybrid_event_lists_people_in_the_room(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    hybrid = make_event(format=EventFormat.HYBRID, join_url="https://meet.example.org/x")
    make_invitation(hybrid, answer="yes", name="Ada Room", mode=AttendanceMode.IN_PERSON)
    make_invitation(hybrid, answer="yes", name="Bea Screen", mode=AttendanceMode.ONLINE)
    make_invitation(hybrid, answer="yes", name="Cal Room", mode=AttendanceMode.IN_PERSON)
    url = f"/manage/exports/events/{hybrid.id}/sign-in-sheet"

    query = {"who": "confirmed", "columns": ["name", "organisation"]}
    html = logged_in.post(url, data=query).get_data(as_text=True)
    assert "Ada Room" in html and "Cal Room" in html and "Bea Screen" not in html
    assert "2 people. Please sign" in html
    assert "1 person joining online is not listed" in html
    assert '<th scope="col">Attending</th>' not in html
    # A button asks again with the same choices (a POST: the sheet is audited each time).
    again = re.search(r'<form method="post" action="([^"]+)">(.*?)List them too', html, re.S)
    assert again is not None
    fields = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', again.group(2))
    assert sorted(fields) == [
        ("columns", "name"), ("columns", "organisation"), ("online", "1"), ("who", "confirmed")
    ]  # fmt: skip

    html = logged_in.post(unescape(again.group(1)), data=MultiDict(fields)).get_data(as_text=True)
    assert "3 people. Please sign" in html and "not listed" not in html
    assert '<th scope="col">Attending</th>' in html
    # Those in the room first, then those online, each with how they attend.
    assert html.index("Ada Room") < html.index("Cal Room") < html.index("Bea Screen")
    assert "<td>In person</td>" in html and "<td>Online</td>" in html


def test_sign_in_sheet_of_an_in_person_event_lists_everyone_chosen(
    logged_in: FlaskClient, event: Any, make_invitation: Any
) -> None:
    make_invitation(event, answer="yes", name="Ada Room")
    html = logged_in.post(
        f"/manage/exports/events/{event.id}/sign-in-sheet",
        data={"who": "confirmed", "columns": "name"},
    ).get_data(as_text=True)
    assert "1 person. Please sign" in html and "not listed" not in html


def test_index_lists_the_current_enquiry_before_archived_ones(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any
) -> None:
    archived = make_enquiry(title="Last year's enquiry", status=EnquiryStatus.ARCHIVED)
    current = make_enquiry(title="Total Place 2.0")
    make_event(enquiry=current, title="New gathering")
    make_event(enquiry=archived, title="Old gathering")
    html = logged_in.get("/manage/exports/").get_data(as_text=True)
    assert html.index("Total Place 2.0") < html.index("Last year&#39;s enquiry")
    assert html.index("New gathering") < html.index("Old gathering")
