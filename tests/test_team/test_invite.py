"""Inviting a colleague: a signed link, valid 72 hours and once, to set a name and password."""

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.audit.models import AuditEntry
from placeevents.auth.models import Organiser, Role
from placeevents.extensions import db
from tests.test_team.conftest import link_to, sign_in

NEW_PASSWORD = "a kettle of quiet ferns"


def _invite(client: FlaskClient, email: str = "grace@example.org", role: str = "organiser") -> Any:
    return client.post("/manage/team/invite", data={"email": email, "role": role})


def test_invite_then_set_a_password_then_log_in(
    app: Flask, admin_client: FlaskClient, smtp: Any
) -> None:
    response = _invite(admin_client)
    assert response.status_code == 302
    mail = smtp.last_to("grace@example.org")
    assert "invited" in mail.subject.lower() and "Ada Admin" in mail.text()
    join = link_to(mail, "/join/")
    newcomer = app.test_client()
    # Opening the link (as a mail scanner would) changes nothing.
    assert newcomer.get(join).status_code == 200
    assert newcomer.get(join).status_code == 200
    done = newcomer.post(
        join, data={"name": "Grace Hopper", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    grace = db.session.scalars(
        select(Organiser).where(Organiser.email == "grace@example.org")
    ).one()
    assert grace.name == "Grace Hopper" and grace.role == Role.ORGANISER
    assert sign_in(newcomer, "grace@example.org", NEW_PASSWORD).status_code == 302
    assert newcomer.get("/manage/").status_code == 200
    # The link works once.
    again = app.test_client().get(join)
    assert again.status_code == 410 and "used already" in again.get_data(as_text=True)
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert {"team.invite", "team.join"} <= set(actions)


def test_an_invited_colleague_cannot_sign_in_before_joining(
    app: Flask, admin_client: FlaskClient, smtp: Any
) -> None:
    _invite(admin_client)
    assert sign_in(app.test_client(), "grace@example.org", "").status_code == 422
    assert sign_in(app.test_client(), "grace@example.org", NEW_PASSWORD).status_code == 422


def _admin_at(app: Flask, admin: Any) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, admin.email).status_code == 302
    return client


def test_the_link_expires_after_72_hours(app: Flask, admin: Any, smtp: Any) -> None:
    start = datetime(2031, 3, 2, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        _invite(_admin_at(app, admin))
    join = link_to(smtp.last_to("grace@example.org"), "/join/")
    with time_machine.travel(start + timedelta(hours=71, minutes=59), tick=False):
        assert app.test_client().get(join).status_code == 200
    with time_machine.travel(start + timedelta(hours=72, minutes=1), tick=False):
        late = app.test_client().get(join)
        assert late.status_code == 410 and "expired" in late.get_data(as_text=True)
        posted = app.test_client().post(
            join, data={"name": "G", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        )
        assert posted.status_code == 410


def test_a_second_invitation_spends_the_first_link(app: Flask, admin: Any, smtp: Any) -> None:
    start = datetime(2031, 3, 2, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        client = _admin_at(app, admin)
        _invite(client)
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        _invite(client, role="admin")
        first, second = [link_to(m, "/join/") for m in smtp.to("grace@example.org")]
        assert app.test_client().get(first).status_code == 410
        assert app.test_client().get(second).status_code == 200
    grace = db.session.scalars(
        select(Organiser).where(Organiser.email == "grace@example.org")
    ).one()
    assert grace.role == Role.ADMIN


def test_joining_refuses_a_short_or_common_password(
    app: Flask, admin_client: FlaskClient, smtp: Any
) -> None:
    _invite(admin_client)
    join = link_to(smtp.last_to("grace@example.org"), "/join/")
    client = app.test_client()
    for password, message in [
        ("short one", "at least 12 characters"),
        ("qwerty123456", "list of common passwords"),
    ]:
        response = client.post(join, data={"name": "G", "password": password, "confirm": password})
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert client.get(join).status_code == 200


def test_an_existing_organiser_cannot_be_invited_again(
    admin_client: FlaskClient, colleague: Any, smtp: Any
) -> None:
    response = _invite(admin_client, email=colleague.email)
    assert response.status_code == 422
    assert "already has an organiser account" in response.get_data(as_text=True)
