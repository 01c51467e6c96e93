"""The attendance matrix downloads, fetched over HTTP as a browser fetches them.

The `app` fixture keeps an app context pushed for the whole test, which hides anything that
breaks when the response body is generated after the view has committed and returned. These
tests go through a real server instead.
"""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, OpenerDirector, Request, build_opener

import pytest
from openpyxl import load_workbook

from placeevents.demo import load_demo
from placeevents.extensions import db
from tests.conftest import ORGANISER_PASSWORD


def _logged_in_opener(base_url: str, email: str) -> OpenerDirector:
    """A cookie-keeping HTTP client logged in through the login form (with its CSRF token)."""
    opener = build_opener(HTTPCookieProcessor(CookieJar()))
    with opener.open(f"{base_url}/login") as response:
        form = response.read().decode()
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    assert match, "the login form has no CSRF token"
    data = urlencode(
        {"csrf_token": match.group(1), "email": email, "password": ORGANISER_PASSWORD}
    ).encode()
    with opener.open(Request(f"{base_url}/login", data=data, method="POST")) as response:
        assert "/login" not in response.url, "logging in failed"
    return opener


def _csrf_token(opener: OpenerDirector, page_url: str) -> str:
    with opener.open(page_url) as response:
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.read().decode())
    assert match, f"{page_url} has no CSRF token"
    return match.group(1)


def _download(opener: OpenerDirector, url: str, token: str) -> tuple[int, dict[str, str], bytes]:
    # Downloads are POSTed from the page's buttons, with the page's CSRF token.
    data = urlencode({"csrf_token": token}).encode()
    with opener.open(Request(url, data=data, method="POST")) as response:
        return response.status, dict(response.headers), response.read()


def test_both_downloads_work_over_http(
    live_server: Any,
    make_organiser: Any,
    make_enquiry: Any,
    make_event: Any,
    make_invitation: Any,
) -> None:
    with live_server.app.app_context():
        make_organiser(email="desk@example.org")
        enquiry = make_enquiry(slug="over-http", title="Over HTTP")
        past = make_event(
            enquiry=enquiry,
            title="Leeds",
            starts_at=datetime.now(UTC).replace(microsecond=0) - timedelta(days=20),
        )
        upcoming = make_event(enquiry=enquiry, title="Bristol")
        make_invitation(past, answer="yes", attended=True, name="Ada", email="ada@example.org")
        make_invitation(upcoming, answer="yes", name="Ada", email="ada@example.org")
        make_invitation(upcoming, answer="maybe", name="Bea", email="bea@example.org")
        enquiry_id = enquiry.id
    opener = _logged_in_opener(live_server.url, "desk@example.org")
    base = f"{live_server.url}/manage/exports/enquiries/{enquiry_id}"
    token = _csrf_token(opener, f"{base}/matrix")

    status, headers, body = _download(opener, f"{base}/matrix.csv", token)
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    disposition = headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="over-http-[\d-]+-attendance\.csv"', disposition)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert rows[0][:3] == ["Name", "Email", "Organisation"]
    assert [row[1] for row in rows[1:-1]] == ["ada@example.org", "bea@example.org"]
    assert rows[-1][0] == "Total: 2 people"

    status, headers, body = _download(opener, f"{base}/matrix.xlsx", token)
    assert status == 200
    workbook = load_workbook(io.BytesIO(body))
    assert workbook.sheetnames == ["Attendance", "Organisations"]
    sheet = list(workbook["Attendance"].iter_rows(values_only=True))
    assert [row[1] for row in sheet[1:-1]] == ["ada@example.org", "bea@example.org"]


@pytest.mark.browser
def test_chromium_downloads_the_demo_matrix(
    live_server: Any, page: Any, make_organiser: Any, tmp_path: Path
) -> None:
    with live_server.app.app_context():
        enquiry = load_demo()
        db.session.commit()
        enquiry_id = enquiry.id
        make_organiser(email="desk@example.org")
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill("desk@example.org")
    page.get_by_label("Password").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/manage/exports/enquiries/{enquiry_id}/matrix")

    with page.expect_download() as csv_download:
        page.get_by_role("button", name="Download CSV").click()
    assert csv_download.value.failure() is None
    assert csv_download.value.suggested_filename.endswith("-attendance.csv")
    text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    # The twelve demo people, one row each, then the totals.
    assert len(rows) == 1 + 12 + 1
    assert "amara.okafor@example.org" in [row[1] for row in rows]

    with page.expect_download() as xlsx_download:
        page.get_by_role("button", name="Download XLSX").click()
    assert xlsx_download.value.failure() is None
    assert xlsx_download.value.suggested_filename.endswith("-attendance.xlsx")
    # Playwright keeps the file under a name without its extension.
    workbook = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    sheet = list(workbook["Attendance"].iter_rows(values_only=True))
    assert sheet[0][:3] == ("Name", "Email", "Organisation")
    assert len(sheet) == 1 + 12 + 1
