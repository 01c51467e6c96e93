"""What the attendance matrix says of each person and event: who came, who did not, who is
still expected, cancelled events, the organisations people came from, and same-name people."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from placeevents.events.models import EventStatus
from placeevents.invitations.attendance import Presence
from tests.conftest import count_queries

NOW = datetime.now(UTC).replace(microsecond=0)
UNKNOWN = Presence.UNKNOWN.label


class _MatrixTable(HTMLParser):
    """The text of each row of `table.matrix`, one string per cell, <br> read as ' | '."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_table = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and "matrix" in (dict(attrs).get("class") or "").split():
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
        elif self._in_table and tag in ("th", "td"):
            self._cell = []
        elif self._cell is not None and tag == "br":
            self._cell.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        elif self._cell is not None and tag in ("th", "td"):
            text = " ".join("".join(self._cell).split())
            self.rows[-1].append(text.replace(" |  | ", " | ").strip(" |"))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def matrix_table(html: str) -> list[list[str]]:
    parser = _MatrixTable()
    parser.feed(html)
    return parser.rows


def page_rows(client: FlaskClient, enquiry_id: int) -> tuple[str, list[list[str]]]:
    response = client.get(f"/manage/exports/enquiries/{enquiry_id}/matrix")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return html, matrix_table(html)


def csv_rows(client: FlaskClient, enquiry_id: int) -> list[list[str]]:
    response = client.post(f"/manage/exports/enquiries/{enquiry_id}/matrix.csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def xlsx_sheets(client: FlaskClient, enquiry_id: int) -> dict[str, list[tuple[Any, ...]]]:
    response = client.post(f"/manage/exports/enquiries/{enquiry_id}/matrix.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))
    return {name: list(workbook[name].iter_rows(values_only=True)) for name in workbook.sheetnames}


@pytest.fixture
def year(make_enquiry: Any, make_event: Any, make_invitation: Any) -> Any:
    """Four events: over with check-in finished, over without, cancelled, and upcoming."""
    enquiry = make_enquiry(slug="year", title="A year of explorations")
    closed = make_event(
        enquiry=enquiry,
        title="Closed",
        starts_at=NOW - timedelta(days=40),
        check_in_closed_at=NOW - timedelta(days=39),
    )
    open_ = make_event(enquiry=enquiry, title="Open", starts_at=NOW - timedelta(days=20))
    cancelled = make_event(
        enquiry=enquiry,
        title="Called off",
        starts_at=NOW - timedelta(days=5),
        status=EventStatus.CANCELLED,
    )
    upcoming = make_event(enquiry=enquiry, title="Upcoming", starts_at=NOW + timedelta(days=10))
    people = [
        ("Ada", "ada@example.org", "Leeds City Council"),
        ("Bea", "bea@example.org", "NHS West Yorkshire"),
        ("Cal", "cal@example.org", "Shelter"),
    ]
    answers = {
        # (closed, open, cancelled, upcoming): "came" is yes and checked in, "-" not invited
        "Ada": ("came", "came", "came", "yes"),
        "Bea": ("yes", "yes", "yes", "maybe"),
        "Cal": ("no", "-", "yes", "yes"),
    }
    events = (closed, open_, cancelled, upcoming)
    for name, email, organisation in people:
        for event, answer in zip(events, answers[name], strict=True):
            if answer == "-":
                continue
            make_invitation(
                event,
                answer="yes" if answer == "came" else answer,
                attended=answer == "came",
                name=name,
                email=email,
                organisation=organisation,
            )
    return enquiry


# --- who came, who did not, who is expected


def test_each_cell_says_what_is_known_of_whether_the_person_came(
    logged_in: FlaskClient, year: Any
) -> None:
    _, rows = page_rows(logged_in, year.id)
    cells = {row[0]: row[1:5] for row in rows[1:4]}
    assert cells["Ada | Leeds City Council"] == ["Came", "Came", "Cancelled", "Coming"]
    # Check-in was finished at the first event: a yes who was not checked in did not come.
    # At the second it was not, so whether Bea came is not known.
    assert cells["Bea | NHS West Yorkshire"] == ["Did not come", UNKNOWN, "Cancelled", "Maybe"]
    assert cells["Cal | Shelter"] == ["Not coming", "", "Cancelled", "Coming"]

    rows = csv_rows(logged_in, year.id)
    assert rows[1][3:7] == ["Came", "Came", "Cancelled", "Coming"]
    assert rows[2][3:7] == ["Did not come", UNKNOWN, "Cancelled", "Maybe"]
    sheet = xlsx_sheets(logged_in, year.id)["Attendance"]
    assert sheet[2][3:7] == ("Did not come", UNKNOWN, "Cancelled", "Maybe")


def test_nobody_at_a_past_event_is_shown_as_coming(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any, make_invitation: Any
) -> None:
    enquiry = make_enquiry()
    past = make_event(enquiry=enquiry, starts_at=NOW - timedelta(days=3))
    make_invitation(past, answer="yes", name="Dee")
    html, rows = page_rows(logged_in, enquiry.id)
    assert rows[1][1] == UNKNOWN
    assert ">Coming<" not in html
    assert csv_rows(logged_in, enquiry.id)[1][3] == UNKNOWN


def test_event_totals_count_who_came_did_not_and_is_expected(
    logged_in: FlaskClient, year: Any
) -> None:
    _, rows = page_rows(logged_in, year.id)
    header, total = rows[0], rows[-1]
    assert header[-3:] == ["Invited to", "Said yes to", "Came to"]
    assert total[1:5] == [
        "1 came | 1 did not come | 3 invited",
        f"1 came | 1 {UNKNOWN.lower()} | 2 invited",
        "Cancelled | 3 invited",
        "2 coming | 3 invited",
    ]
    # Invited to all 11 invitations; said yes to 6 outside the cancelled event; came 2 times.
    assert total[-3:] == ["11", "6", "2"]

    rows = csv_rows(logged_in, year.id)
    assert rows[0][-3:] == ["Invited to", "Said yes to", "Came to"]
    assert rows[-1][3:] == [
        "1 came, 1 did not come, 3 invited",
        f"1 came, 1 {UNKNOWN.lower()}, 2 invited",
        "Cancelled, 3 invited",
        "2 coming, 3 invited",
        "11",
        "6",
        "2",
    ]


# --- cancelled events


def test_a_cancelled_event_counts_nobody_as_coming_or_attending(
    logged_in: FlaskClient, year: Any
) -> None:
    _, rows = page_rows(logged_in, year.id)
    header = rows[0]
    assert "Cancelled" in header[3]
    people = {row[0].split(" | ")[0]: row[-3:] for row in rows[1:4]}
    # Ada was even checked in at the cancelled event: it still does not count.
    assert people == {"Ada": ["4", "3", "2"], "Bea": ["4", "2", "0"], "Cal": ["3", "1", "0"]}
    csv_people = {row[0]: row[-3:] for row in csv_rows(logged_in, year.id)[1:4]}
    assert csv_people == {"Ada": ["4", "3", "2"], "Bea": ["4", "2", "0"], "Cal": ["3", "1", "0"]}
    assert csv_rows(logged_in, year.id)[0][5].startswith("Called off (cancelled), ")


# --- organisations people came from


def test_organisations_are_those_of_the_people_who_came(logged_in: FlaskClient, year: Any) -> None:
    html, _ = page_rows(logged_in, year.id)
    summary = " ".join(re.search(r"<p>(\d+ people invited.*?)</p>", html, re.S)[1].split())
    assert summary == (
        "3 people invited to 4 events; 1 came to at least one. "
        "The people who came are from 1 of the 3 organisations invited."
    )
    assert csv_rows(logged_in, year.id)[-1][2] == "Came from 1 of 3 organisations"
    organisations = xlsx_sheets(logged_in, year.id)["Organisations"]
    assert organisations[0] == ("Organisation", "People invited", "People who came")
    assert sorted(organisations[1:]) == [
        ("Leeds City Council", 1, 1),
        ("NHS West Yorkshire", 1, 0),
        ("Shelter", 1, 0),
    ]


def test_when_nobody_has_come_yet_the_page_says_so(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any, make_invitation: Any
) -> None:
    enquiry = make_enquiry()
    make_invitation(make_event(enquiry=enquiry), answer="yes", organisation="Shelter")
    html, _ = page_rows(logged_in, enquiry.id)
    summary = " ".join(re.search(r"<p>(\d+ \w+ invited.*?)</p>", html, re.S)[1].split())
    assert summary == "1 person invited to 1 event; nobody has come to one yet."


# --- people with the same name


def test_people_with_the_same_name_are_told_apart_by_email(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any, make_invitation: Any
) -> None:
    enquiry = make_enquiry()
    event = make_event(enquiry=enquiry)
    council = "Leeds City Council"
    make_invitation(
        event, answer="yes", name="Sam Smith", email="sam@leeds.example.org", organisation=council
    )
    make_invitation(
        event,
        answer="no",
        name="sam  smith",
        email="sam.smith@nhs.example.org",
        organisation=council,
    )
    make_invitation(
        event, answer="yes", name="Tom Jones", email="tom@example.org", organisation=council
    )
    _, rows = page_rows(logged_in, enquiry.id)
    names = [row[0] for row in rows[1:-1]]
    assert names == [
        "sam smith | sam.smith@nhs.example.org | Leeds City Council",
        "Sam Smith | sam@leeds.example.org | Leeds City Council",
        "Tom Jones | Leeds City Council",
    ]
    # The downloads carry everyone's email in its own column.
    people = [tuple(row[:2]) for row in csv_rows(logged_in, enquiry.id)[1:-1]]
    assert people == [
        ("sam  smith", "sam.smith@nhs.example.org"),
        ("Sam Smith", "sam@leeds.example.org"),
        ("Tom Jones", "tom@example.org"),
    ]
    sheet = xlsx_sheets(logged_in, enquiry.id)["Attendance"]
    assert [row[:2] for row in sheet[1:-1]] == people


# --- queries


def test_queries_stay_fixed_whatever_the_people_and_events(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any, make_invitation: Any
) -> None:
    enquiry = make_enquiry()
    events = [
        make_event(
            enquiry=enquiry,
            starts_at=NOW - timedelta(days=30),
            check_in_closed_at=NOW - timedelta(days=29),
        ),
        make_event(enquiry=enquiry, starts_at=NOW - timedelta(days=10)),
        make_event(enquiry=enquiry, status=EventStatus.CANCELLED),
        make_event(enquiry=enquiry),
    ]
    counts = []
    for people in (2, 25):
        for n in range(people):
            make_invitation(
                events[n % 4],
                # Whoever is checked in said yes (check-in makes it so).
                answer="yes" if n % 2 == 0 else ("yes", "no", "maybe")[n % 3],
                attended=n % 2 == 0,
                name=f"Same Name {n % 3}",
                email=f"p{people}-{n}@example.org",
                organisation=f"Organisation {n % 5}",
            )
        for url in ("matrix", "matrix.csv", "matrix.xlsx"):
            with count_queries() as queries:
                method = "GET" if url == "matrix" else "POST"
                path = f"/manage/exports/enquiries/{enquiry.id}/{url}"
                logged_in.open(path, method=method).get_data()
            counts.append((url, len(queries)))
    assert counts[:3] == counts[3:]
