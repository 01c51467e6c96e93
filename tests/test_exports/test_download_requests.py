"""Downloads are POSTed from buttons: each writes an audit entry, and GET never writes.

They used to be links (GET), with an exception in db.py letting those GETs take the write lock.
"""

import csv
import io
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placeevents.audit.models import AuditEntry
from placeevents.extensions import db
from placeevents.invitations.models import Invitation, InvitationSource, Rsvp, RsvpAnswer
from tests.conftest import ORGANISER_PASSWORD


def _downloads(event: Any) -> list[str]:
    events = f"/manage/exports/events/{event.id}"
    matrix = f"/manage/exports/enquiries/{event.enquiry_id}"
    return [
        f"{events}/attendees.csv",
        f"{events}/attendees.xlsx",
        f"{events}/sign-in-sheet",
        f"{matrix}/matrix.csv",
        f"{matrix}/matrix.xlsx",
        "/manage/newsletter/export.csv",
    ]


def _audited() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def test_a_get_of_any_download_is_not_allowed_and_records_nothing(
    logged_in: FlaskClient, make_event: Any, make_invitation: Any
) -> None:
    event = make_event()
    make_invitation(event, answer="yes")
    for path in _downloads(event):
        assert logged_in.get(path).status_code == 405, path
        assert logged_in.post(path).status_code == 200, path
    assert _audited() == len(_downloads(event))


def test_the_pages_offer_buttons_in_forms_that_carry_a_csrf_token(
    app: Flask, logged_in: FlaskClient, make_event: Any
) -> None:
    event = make_event()
    app.config["WTF_CSRF_ENABLED"] = True  # as in production
    pages = {
        f"/manage/exports/events/{event.id}/": ("attendees.csv", "attendees.xlsx", "sign-in"),
        f"/manage/exports/enquiries/{event.enquiry_id}/matrix": ("matrix.csv", "matrix.xlsx"),
    }
    for page, targets in pages.items():
        html = logged_in.get(page).get_data(as_text=True)
        forms = re.findall(r'<form method="post".*?</form>', html, re.S)
        form = next((f for f in forms if targets[0] in f), None)
        assert form is not None and 'name="csrf_token"' in form, page
        for target in targets:
            assert re.search(rf'action="[^"]*{re.escape(target)}', form), (page, target)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
        assert token is not None
        for target in targets:
            url = re.search(rf'action="([^"]*{re.escape(target)}[^"]*)"', form)
            assert url is not None
            data = {"csrf_token": token[1], "who": "confirmed", "columns": "name"}
            assert logged_in.post(url[1], data=data).status_code == 200, url[1]

    # Without the page's token the download is refused and nothing more is recorded.
    recorded = _audited()
    for path in _downloads(event):
        assert logged_in.post(path).status_code == 400, path
    assert _audited() == recorded == 5


def test_a_streaming_download_holds_no_write_lock(
    app: Flask, logged_in: FlaskClient, make_event: Any
) -> None:
    # Once its audit entry is committed a download only reads: on SQLite a slow client must not
    # keep every other writer (answers, the mail worker) waiting while the file streams.
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("PostgreSQL readers never block writers")
    event = make_event()
    for n in range(2000):
        invitation = Invitation(
            event_id=event.id, email=f"p{n}@example.org", source=InvitationSource.PASTED
        )
        invitation.rsvp = Rsvp(answer=RsvpAnswer.YES)
        db.session.add(invitation)
    db.session.commit()
    response = logged_in.post(
        f"/manage/exports/events/{event.id}/attendees.csv",
        data={"who": "everyone", "columns": ["name", "email"]},
        buffered=False,
    )
    chunks = iter(response.response)
    first = next(chunks)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()
    rest = b"".join(chunks)
    response.close()
    assert (first + rest).decode("utf-8").count("\r\n") == 2001


@pytest.mark.browser
def test_chromium_downloads_an_attendee_list_from_its_button(
    live_server: Any,
    page: Any,
    make_organiser: Any,
    make_event: Any,
    make_invitation: Any,
    tmp_path: Path,
) -> None:
    with live_server.app.app_context():
        make_organiser(email="desk@example.org")
        event = make_event(slug="bid-and-pilot")
        make_invitation(event, answer="yes", name="Ada Lovelace")
        make_invitation(event, answer="maybe", name="Bea Maybe")
        event_id = event.id
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill("desk@example.org")
    page.get_by_label("Password").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/manage/exports/events/{event_id}/")
    page.get_by_label("Maybe").check()

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    assert download.value.failure() is None
    assert download.value.suggested_filename.endswith("-attendees.csv")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    names = [row[0] for row in csv.reader(io.StringIO(text, newline=""))]
    assert names == ["Name", "Ada Lovelace", "Bea Maybe"]

    with page.expect_download() as download:
        page.get_by_role("button", name="Download XLSX").click()
    assert download.value.suggested_filename.endswith("-attendees.xlsx")
    with live_server.app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
        assert actions == ["export.attendees", "export.attendees"]
