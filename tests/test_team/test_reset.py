"""Password reset: the same answer for every address, a link valid an hour and once."""

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placeevents.audit.models import AuditEntry
from placeevents.extensions import db
from placeevents.mail.models import OutboxMessage
from tests.test_team.conftest import link_to, sign_in

NEW_PASSWORD = "seven lamps upon the stair"


def _ask(client: FlaskClient, email: str) -> Any:
    return client.post("/forgot-password", data={"email": email})


def test_the_login_page_links_to_the_reset_form(client: FlaskClient) -> None:
    assert "Forgot your password?" in client.get("/login").get_data(as_text=True)
    assert client.get("/forgot-password").status_code == 200


def test_known_and_unknown_addresses_get_the_same_answer(app: Flask, admin: Any, smtp: Any) -> None:
    client = app.test_client()
    client.delivering = False  # type: ignore[attr-defined]
    known = _ask(client, admin.email)
    unknown = _ask(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    known_html = known.get_data(as_text=True).replace(admin.email, "ADDRESS")
    unknown_html = unknown.get_data(as_text=True).replace("nobody@example.org", "ADDRESS")
    assert known_html == unknown_html
    # Both only queued a request: what each does is decided by the worker, out of sight.
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    client.delivering = True  # type: ignore[attr-defined]
    client.get("/")
    assert len(smtp.to(admin.email)) == 1 and smtp.to("nobody@example.org") == []


def test_the_link_works_once_and_a_get_does_not_spend_it(app: Flask, admin: Any, smtp: Any) -> None:
    _ask(app.test_client(), admin.email)
    reset = link_to(smtp.last_to(admin.email), "/reset-password/")
    client = app.test_client()
    for _ in range(3):  # a mail scanner, a preview, the organiser
        assert client.get(reset).status_code == 200
    done = client.post(reset, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert sign_in(client, admin.email, NEW_PASSWORD).status_code == 302
    again = app.test_client().post(reset, data={"password": "x" * 20, "confirm": "x" * 20})
    assert again.status_code == 410
    assert app.test_client().get(reset).status_code == 410
    assert sign_in(app.test_client(), admin.email, "x" * 20).status_code == 422
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"auth.reset_requested", "auth.password_reset"} <= actions


def test_the_link_expires_after_an_hour(app: Flask, admin: Any, smtp: Any) -> None:
    start = datetime(2031, 3, 2, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        _ask(app.test_client(), admin.email)
    reset = link_to(smtp.last_to(admin.email), "/reset-password/")
    with time_machine.travel(start + timedelta(minutes=59), tick=False):
        assert app.test_client().get(reset).status_code == 200
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        late = app.test_client().post(
            reset, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        )
        assert late.status_code == 410 and "expired" in late.get_data(as_text=True)


def test_a_new_password_ends_every_session(
    app: Flask, admin: Any, admin_client: FlaskClient, smtp: Any
) -> None:
    assert admin_client.get("/manage/").status_code == 200
    _ask(app.test_client(), admin.email)
    reset = link_to(smtp.last_to(admin.email), "/reset-password/")
    app.test_client().post(reset, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert admin_client.get("/manage/").status_code == 302


def test_requests_are_limited_per_address(app: Flask, admin: Any, smtp: Any) -> None:
    codes = [_ask(app.test_client(), admin.email).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_a_tampered_link_does_not_work(client: FlaskClient) -> None:
    assert client.get("/reset-password/not-a-token").status_code == 410
