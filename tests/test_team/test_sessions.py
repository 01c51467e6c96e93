"""Sessions as rows: listed on the account page, ended one by one or all others, and expiring
after 12 hours idle or 14 days in all."""

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.auth.models import OrganiserSession
from placeevents.extensions import db
from tests.test_team.conftest import sign_in

START = datetime(2031, 3, 2, 9, tzinfo=UTC)


def _signed_in(app: Flask, email: str, agent: str = "Browser A") -> FlaskClient:
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": email, "password": "correct horse battery staple"},
        headers={"User-Agent": agent},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 302
    return client


def _sessions() -> list[OrganiserSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(OrganiserSession).order_by(OrganiserSession.id)))


def test_each_sign_in_is_a_row_the_account_page_lists(app: Flask, admin: Any) -> None:
    laptop = _signed_in(app, admin.email, "Laptop browser")
    _signed_in(app, admin.email, "Phone browser")
    rows = _sessions()
    assert [r.user_agent for r in rows] == ["Laptop browser", "Phone browser"]
    assert rows[0].client_address == "198.51.100.7"
    html = laptop.get("/manage/account/").get_data(as_text=True)
    assert "Laptop browser" in html and "Phone browser" in html and "This browser" in html


def test_end_one_session_or_all_others(app: Flask, admin: Any) -> None:
    laptop = _signed_in(app, admin.email, "Laptop")
    phone = _signed_in(app, admin.email, "Phone")
    tablet = _signed_in(app, admin.email, "Tablet")
    phone_row = _sessions()[1]
    assert laptop.post(f"/manage/account/sessions/{phone_row.id}/end").status_code == 302
    assert phone.get("/manage/").status_code == 302
    assert tablet.get("/manage/").status_code == 200
    assert laptop.post("/manage/account/sessions/end-others").status_code == 302
    assert tablet.get("/manage/").status_code == 302
    assert laptop.get("/manage/").status_code == 200
    assert [r.user_agent for r in _sessions()] == ["Laptop"]


def test_one_cannot_end_a_colleagues_session(app: Flask, admin: Any, colleague: Any) -> None:
    theirs = _signed_in(app, colleague.email)
    row = _sessions()[0]
    mine = _signed_in(app, admin.email)
    mine.post(f"/manage/account/sessions/{row.id}/end")
    assert theirs.get("/manage/").status_code == 200


def test_logout_ends_the_row(app: Flask, admin: Any) -> None:
    client = _signed_in(app, admin.email)
    client.post("/logout")
    assert _sessions() == []


def test_a_session_ends_after_twelve_hours_idle(app: Flask, admin: Any) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = _signed_in(app, admin.email)
        clock.shift(timedelta(hours=11, minutes=59))
        assert client.get("/manage/").status_code == 200  # seen: the idle clock restarts
        clock.shift(timedelta(hours=11, minutes=59))
        assert client.get("/manage/").status_code == 200
        clock.shift(timedelta(hours=12))
        response = client.get("/manage/")
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_session_ends_fourteen_days_after_sign_in_however_busy(app: Flask, admin: Any) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = _signed_in(app, admin.email)
        for _ in range(13 * 2):
            clock.shift(timedelta(hours=12) - timedelta(minutes=1))
            assert client.get("/manage/").status_code == 200
        clock.move_to(START + timedelta(days=14))
        assert client.get("/manage/").status_code == 302


def test_lifetimes_are_configurable(make_app: Any, smtp: Any) -> None:
    app = make_app(PLACEEVENTS_SESSION_IDLE_HOURS=1, PLACEEVENTS_SESSION_MAX_DAYS=1)
    with app.app_context():
        from placeevents.auth.services import create_organiser

        create_organiser(email="o@example.org", name="O", password="x" * 12)
        db.session.commit()
        with time_machine.travel(START, tick=False) as clock:
            client = _signed_in_with(app, "o@example.org", "x" * 12)
            clock.shift(timedelta(minutes=61))
            assert client.get("/manage/").status_code == 302


def _signed_in_with(app: Flask, email: str, password: str) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, email, password).status_code == 302
    return client


def test_last_seen_is_written_at_most_once_a_minute(app: Flask, admin: Any) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = _signed_in(app, admin.email)
        clock.shift(timedelta(seconds=30))
        client.get("/manage/")
        assert _sessions()[0].last_seen_at == START
        clock.shift(timedelta(seconds=31))
        client.get("/manage/")
        assert _sessions()[0].last_seen_at == START + timedelta(seconds=61)


def test_the_csrf_token_changes_at_sign_in(csrf_app: Flask) -> None:
    from placeevents.auth.services import create_organiser

    admin = create_organiser(email="ada@example.org", name="Ada", password="x" * 12)
    db.session.commit()
    client = csrf_app.test_client()
    html = client.get("/login").get_data(as_text=True)
    before = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/login",
        data={"email": admin.email, "password": "x" * 12, "csrf_token": before},
    )
    assert response.status_code == 302
    page = client.get("/manage/account/").get_data(as_text=True)
    after = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert after != before
    # The token from before sign-in no longer works.
    refused = client.post("/manage/account/name", data={"name": "X", "csrf_token": before})
    assert refused.status_code == 400
    accepted = client.post("/manage/account/name", data={"name": "X", "csrf_token": after})
    assert accepted.status_code == 302
