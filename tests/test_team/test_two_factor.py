"""Two-factor sign-in: enrolment, wrong and replayed codes, recovery codes, throttling, and an
admin helping a locked-out colleague back; all with a frozen clock."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.audit.models import AuditEntry
from placeevents.auth.models import RecoveryCode
from placeevents.extensions import db
from tests.conftest import ORGANISER_PASSWORD
from tests.test_team.conftest import sign_in

START = datetime(2031, 3, 2, 9, 0, 5, tzinfo=UTC)


def _code(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret).at(at)


def _enrol(client: FlaskClient, at: datetime) -> tuple[str, list[str]]:
    """Turn two-factor sign-in on; the secret and the recovery codes shown once."""
    page = client.post("/manage/account/two-factor").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn on the server
    secret = re.search(r"<code>([A-Z2-7]+)</code>", page).group(1)  # type: ignore[union-attr]
    done = client.post("/manage/account/two-factor/enable", data={"code": _code(secret, at)})
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _password_step(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    response = sign_in(client, email)
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    return client


def test_enrol_then_sign_in_with_a_code(app: Flask, colleague: Any) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = app.test_client()
        sign_in(client, colleague.email)
        secret, _ = _enrol(client, START)
        db.session.expire_all()
        assert colleague.totp_secret == secret
        # Recovery codes are kept as hashes only.
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(stored) == 10 and all(len(h) == 64 for h in stored)
        clock.shift(timedelta(minutes=2))
        other = _password_step(app, colleague.email)
        # The password alone opens nothing.
        assert other.get("/manage/").status_code == 302
        now = START + timedelta(minutes=2)
        response = other.post("/login/code", data={"code": _code(secret, now)})
        assert response.status_code == 302 and response.headers["Location"] == "/manage/"
        assert other.get("/manage/").status_code == 200


def test_a_wrong_enrolment_code_leaves_it_off(app: Flask, colleague_client: FlaskClient) -> None:
    colleague_client.post("/manage/account/two-factor")
    response = colleague_client.post("/manage/account/two-factor/enable", data={"code": "000000"})
    assert response.status_code == 422 and "not right" in response.get_data(as_text=True)
    assert db.session.scalars(select(RecoveryCode)).all() == []


def test_a_wrong_code_and_a_replayed_code_are_refused(app: Flask, colleague: Any) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = app.test_client()
        sign_in(client, colleague.email)
        secret, _ = _enrol(client, START)
        clock.shift(timedelta(seconds=30))
        now = START + timedelta(seconds=30)
        first = _password_step(app, colleague.email)
        wrong = first.post("/login/code", data={"code": "123456"})
        assert wrong.status_code == 422
        assert first.post("/login/code", data={"code": _code(secret, now)}).status_code == 302
        # Someone who saw the code over a shoulder, within its window: refused.
        clock.shift(timedelta(seconds=10))
        thief = _password_step(app, colleague.email)
        replay = thief.post("/login/code", data={"code": _code(secret, now)})
        assert replay.status_code == 422
        assert "used already" in replay.get_data(as_text=True)
        assert thief.get("/manage/").status_code == 302
        # The next code works.
        clock.shift(timedelta(seconds=30))
        later = START + timedelta(seconds=70)
        assert thief.post("/login/code", data={"code": _code(secret, later)}).status_code == 302
    assert "auth.two_factor_refused" in db.session.scalars(select(AuditEntry.action)).all()


def test_a_recovery_code_works_once(app: Flask, colleague: Any) -> None:
    with time_machine.travel(START, tick=False):
        client = app.test_client()
        sign_in(client, colleague.email)
        _, codes = _enrol(client, START)
        first = _password_step(app, colleague.email)
        assert first.post("/login/code", data={"code": codes[0].upper()}).status_code == 302
        second = _password_step(app, colleague.email)
        assert second.post("/login/code", data={"code": codes[0]}).status_code == 422
        assert second.post("/login/code", data={"code": codes[1]}).status_code == 302
        assert "8 recovery codes left" in second.get("/manage/account/").get_data(as_text=True)


def test_wrong_codes_are_throttled_like_passwords(app: Flask, colleague: Any) -> None:
    with time_machine.travel(START, tick=False):
        client = app.test_client()
        sign_in(client, colleague.email)
        secret, _ = _enrol(client, START)
    later = START + timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        guesser = _password_step(app, colleague.email)
        tries = [guesser.post("/login/code", data={"code": "000000"}).status_code for _ in range(6)]
        assert tries == [422] * 5 + [429]
        # Even the right code waits now, from this client.
        assert guesser.post("/login/code", data={"code": _code(secret, later)}).status_code == 429


def test_the_code_page_needs_a_password_first(client: FlaskClient) -> None:
    response = client.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_a_pending_sign_in_lapses_after_five_minutes(app: Flask, colleague: Any) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = app.test_client()
        sign_in(client, colleague.email)
        secret, _ = _enrol(client, START)
        clock.shift(timedelta(minutes=1))
        waiting = _password_step(app, colleague.email)
        clock.shift(timedelta(minutes=6))
        now = START + timedelta(minutes=7)
        response = waiting.post("/login/code", data={"code": _code(secret, now)})
        assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_an_admin_helps_a_locked_out_colleague_back(
    app: Flask, admin_client: FlaskClient, colleague: Any
) -> None:
    with time_machine.travel(START, tick=False):
        client = app.test_client()
        sign_in(client, colleague.email)
        _enrol(client, START)
    assert admin_client.post(f"/manage/team/{colleague.id}/two-factor-reset").status_code == 302
    db.session.expire_all()
    assert colleague.totp_secret is None
    assert db.session.scalars(select(RecoveryCode)).all() == []
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "team.two_factor_reset")
    ).one()
    assert entry.actor == "ada@example.org" and colleague.email in entry.detail
    assert sign_in(app.test_client(), colleague.email).status_code == 302


def test_an_organiser_turns_it_off_with_their_password(app: Flask, colleague: Any) -> None:
    with time_machine.travel(START, tick=False):
        client = app.test_client()
        sign_in(client, colleague.email)
        _enrol(client, START)
        wrong = client.post("/manage/account/two-factor/disable", data={"password": "nope nope"})
        assert wrong.status_code == 422
        done = client.post(
            "/manage/account/two-factor/disable", data={"password": ORGANISER_PASSWORD}
        )
        assert done.status_code == 302
    db.session.expire_all()
    assert colleague.totp_secret is None


def test_the_setting_makes_two_factor_mandatory_for_admins(
    app: Flask, admin: Any, admin_client: FlaskClient, colleague_client: FlaskClient
) -> None:
    from placeevents.settings.services import current_settings

    settings = current_settings()
    form = {
        "organisation_name": settings.organisation_name,
        "sender_name": settings.sender_name,
        "sender_email": settings.sender_email,
        "privacy_notice": "",
        "reminder_lead_hours": "48",
        "admins_need_two_factor": "y",
    }
    assert admin_client.post("/manage/settings/", data=form).status_code == 302
    held = admin_client.get("/manage/enquiries/")
    assert held.status_code == 302 and held.headers["Location"] == "/manage/account/two-factor"
    assert admin_client.get("/manage/account/").status_code == 200
    # Organisers are not held.
    assert colleague_client.get("/manage/enquiries/").status_code == 200
    with time_machine.travel(datetime.now(UTC), tick=False):
        _enrol(admin_client, datetime.now(UTC))
        assert admin_client.get("/manage/enquiries/").status_code == 200
