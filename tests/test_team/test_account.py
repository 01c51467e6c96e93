"""The account page: name, email (confirmed by mail to the new address) and password."""

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.audit.models import AuditEntry
from placeevents.extensions import db
from tests.conftest import ORGANISER_PASSWORD
from tests.test_team.conftest import link_to, sign_in

NEW_PASSWORD = "a lantern in the orchard"


def test_change_name(colleague_client: FlaskClient, colleague: Any) -> None:
    response = colleague_client.post("/manage/account/name", data={"name": "  Otto  Brandt "})
    assert response.status_code == 302
    db.session.expire_all()
    assert colleague.name == "Otto Brandt"


def test_change_email_after_confirming_from_the_new_address(
    app: Flask, colleague_client: FlaskClient, colleague: Any, smtp: Any
) -> None:
    response = colleague_client.post("/manage/account/email", data={"email": "otto@new.example"})
    assert response.status_code == 302
    db.session.expire_all()
    assert colleague.email == "otto@example.org"  # not until confirmed
    confirm = link_to(smtp.last_to("otto@new.example"), "/confirm-email/")
    page = app.test_client().get(confirm)  # a mail scanner changes nothing
    assert page.status_code == 200 and "otto@new.example" in page.get_data(as_text=True)
    db.session.expire_all()
    assert colleague.email == "otto@example.org"
    assert colleague_client.post(confirm).status_code == 302
    db.session.expire_all()
    assert colleague.email == "otto@new.example"
    assert colleague_client.post(confirm).status_code == 410  # once
    assert sign_in(app.test_client(), "otto@new.example").status_code == 302
    assert "account.email" in db.session.scalars(select(AuditEntry.action)).all()


def test_an_address_already_taken_is_refused(
    colleague_client: FlaskClient, admin: Any, smtp: Any
) -> None:
    response = colleague_client.post("/manage/account/email", data={"email": admin.email})
    assert response.status_code == 422 and "already exists" in response.get_data(as_text=True)
    assert smtp.messages == []


def test_change_password_needs_the_current_one_and_ends_other_sessions(
    app: Flask, colleague: Any
) -> None:
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, colleague.email)
    sign_in(elsewhere, colleague.email)
    wrong = here.post(
        "/manage/account/password",
        data={"current": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    done = here.post(
        "/manage/account/password",
        data={"current": ORGANISER_PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert here.get("/manage/").status_code == 200
    assert elsewhere.get("/manage/").status_code == 302
    assert sign_in(app.test_client(), colleague.email, NEW_PASSWORD).status_code == 302


def test_passwords_up_to_a_thousand_characters_are_fine(app: Flask, colleague: Any) -> None:
    client = app.test_client()
    sign_in(client, colleague.email)
    long = "long passwords are welcome " * 37  # 999 characters
    done = client.post(
        "/manage/account/password",
        data={"current": ORGANISER_PASSWORD, "password": long, "confirm": long},
    )
    assert done.status_code == 302
    assert sign_in(app.test_client(), colleague.email, long).status_code == 302


def test_common_passwords_are_refused_whatever_their_case() -> None:
    import pytest

    from placeevents.auth.passwords import PasswordRefused, check_password_rules

    for password in ["Qwerty123456", "1q2w3e4r5t6y", "short"]:
        with pytest.raises(PasswordRefused):
            check_password_rules(password)
    check_password_rules("correct horse battery staple")
