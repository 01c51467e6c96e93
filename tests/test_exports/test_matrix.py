"""The attendance matrix: people × events of an enquiry, on screen, as CSV and XLSX."""

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from placeevents.audit.models import AuditEntry
from placeevents.events.models import EventStatus
from placeevents.extensions import db
from tests.conftest import ORGANISER_PASSWORD, count_queries


@pytest.fixture
def enquiry(make_enquiry: Any, make_event: Any, make_invitation: Any) -> Any:
    enquiry = make_enquiry(slug="total-place-2", title="Total Place 2.0")
    first = make_event(
        enquiry=enquiry, slug="leeds", title="Leeds", starts_at=datetime(2024, 3, 5, 10, tzinfo=UTC)
    )
    second = make_event(
        enquiry=enquiry,
        slug="online",
        title="Online",
        starts_at=datetime(2024, 6, 5, 9, tzinfo=UTC),
    )
    make_event(enquiry=enquiry, slug="draft", title="Closing draft", status=EventStatus.DRAFT)
    make_invitation(
        first,
        answer="yes",
        attended=True,
        name="Ada",
        email="ada@example.org",
        organisation="Leeds City Council",
    )
    make_invitation(
        second,
        answer="no",
        name="Ada L",
        email="ADA@example.org",
        organisation="Leeds City Council",
    )
    bea = make_invitation(
        first,
        answer="maybe",
        name="Bea",
        email="bea@example.org",
        organisation="NHS West Yorkshire",
    )
    # A maybe who came, as check-in recorded it before it turned every answer into a yes.
    bea.rsvp.attended = True
    db.session.commit()
    make_invitation(
        second,
        answer="yes",
        name="Bea",
        email="bea@example.org",
        organisation="NHS West Yorkshire",
    )
    make_invitation(second, name="Cal", email="cal@example.org", organisation="nhs  west yorkshire")
    return enquiry


def test_matrix_page(logged_in: FlaskClient, enquiry: Any) -> None:
    html = logged_in.get(f"/manage/exports/enquiries/{enquiry.id}/matrix").get_data(as_text=True)
    assert "3 people invited to 2 events; 2 came to at least one" in html
    assert "The people who came are from 2 of the 2 organisations invited." in html
    assert "Closing draft" not in html
    assert ">Came<" in html and ">No answer<" in html and "attended" not in html
    assert "2 came<br>2 invited" in html
    assert "0 came<br>1 said yes (not checked in)<br>3 invited" in html
    assert '<td>Leeds City Council</td><td class="num">1</td><td class="num">1</td>' in html


def test_matrix_csv(logged_in: FlaskClient, enquiry: Any, organiser: Any) -> None:
    response = logged_in.post(f"/manage/exports/enquiries/{enquiry.id}/matrix.csv")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="total-place-2-')
    assert disposition.endswith('-attendance.csv"')
    text = response.get_data(as_text=True).removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == [
        "Name",
        "Email",
        "Organisation",
        "Leeds, 2024-03-05",
        "Online, 2024-06-05",
        "Invited to",
        "Said yes to",
        "Came to",
    ]
    assert rows[1] == [
        "Ada L",
        "ada@example.org",
        "Leeds City Council",
        "Came",
        "Not coming",
        "2",
        "1",
        "1",
    ]
    assert rows[2] == [
        "Bea",
        "bea@example.org",
        "NHS West Yorkshire",
        "Came",
        "Said yes (not checked in)",
        "2",
        "1",
        "1",
    ]
    assert rows[3] == [
        "Cal",
        "cal@example.org",
        "nhs  west yorkshire",
        "",
        "No answer",
        "1",
        "0",
        "0",
    ]
    assert rows[4] == [
        "Total: 3 people",
        "",
        "Came from 2 of 2 organisations",
        "2 came, 2 invited",
        "0 came, 1 said yes (not checked in), 3 invited",
        "5",
        "2",
        "2",
    ]
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None
    assert (entry.action, entry.actor, entry.target) == (
        "export.matrix",
        organiser.email,
        "enquiry total-place-2",
    )


def test_matrix_xlsx(logged_in: FlaskClient, enquiry: Any) -> None:
    response = logged_in.post(f"/manage/exports/enquiries/{enquiry.id}/matrix.xlsx")
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames == ["Attendance", "Organisations"]
    rows = list(workbook["Attendance"].iter_rows(values_only=True))
    assert rows[1][:5] == (
        "Ada L",
        "ada@example.org",
        "Leeds City Council",
        "Came",
        "Not coming",
    )
    assert rows[1][5:] == (2, 1, 1)
    organisations = list(workbook["Organisations"].iter_rows(values_only=True))
    assert organisations == [
        ("Organisation", "People invited", "People who came"),
        ("NHS West Yorkshire", 2, 1),
        ("Leeds City Council", 1, 1),
    ]


def test_matrix_queries_do_not_grow_with_people(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any, make_invitation: Any
) -> None:
    enquiry = make_enquiry()
    events = [make_event(enquiry=enquiry) for _ in range(3)]
    counts = []
    for people in (2, 30):
        for n in range(people):
            make_invitation(events[n % 3], answer="yes", email=f"p{people}-{n}@example.org")
        for url in ("matrix", "matrix.csv", "matrix.xlsx"):
            with count_queries() as queries:
                method = "GET" if url == "matrix" else "POST"
                path = f"/manage/exports/enquiries/{enquiry.id}/{url}"
                logged_in.open(path, method=method).get_data()
            counts.append((url, len(queries)))
    assert counts[:3] == counts[3:]


def test_unknown_enquiry(logged_in: FlaskClient) -> None:
    assert logged_in.get("/manage/exports/enquiries/404/matrix").status_code == 404
    assert logged_in.post("/manage/exports/enquiries/404/matrix.csv").status_code == 404


@pytest.mark.browser
def test_the_matrix_fits_a_laptop_screen(
    live_server: Any,
    page: Any,
    make_organiser: Any,
    make_enquiry: Any,
    make_event: Any,
    make_invitation: Any,
) -> None:
    with live_server.app.app_context():
        make_organiser(email="desk@example.org")
        enquiry = make_enquiry(slug="wide", title="Total Place 2.0")
        titles = [
            "Opening exploration: why does place-based working stay at the margins?",
            "Beyond bid and pilot: building change capacity that lasts",
            "Who holds the whole system? National bodies and local accountability",
            "Learning that travels: how do lessons move between places?",
            "Living systems and lasting change",
            "Newcomer test gathering",
        ]
        events = [
            make_event(
                enquiry=enquiry,
                title=title,
                starts_at=datetime(2026, 9 + n % 4, 5, tzinfo=UTC),
                capacity=1,
            )
            for n, title in enumerate(titles)
        ]
        # One place each: the yes takes it, the next in line is offered another, then one waits.
        for n, answer in enumerate(["yes", "offered", "waitlisted", "maybe", "no", None]):
            for event in events:
                make_invitation(
                    event,
                    answer=answer,
                    attended=answer == "yes",
                    name=f"Catherine Doyle-Featherstonehaugh {n}",
                    email=f"person{n}@example.org",
                    organisation="Department for Levelling Up, Housing and Communities",
                )
        enquiry_id = enquiry.id
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill("desk@example.org")
    page.get_by_label("Password").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/manage/exports/enquiries/{enquiry_id}/matrix")
    table = page.locator("table.matrix")
    expect(table.get_by_text("Offered a place").first).to_be_visible()
    # The last column is on screen, not hidden in a scroll box.
    wrap = page.locator(".table-scroll:has(table.matrix)")
    sizes = wrap.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert sizes[0] <= sizes[1], sizes
    last = table.locator("thead th").last
    box = last.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280
