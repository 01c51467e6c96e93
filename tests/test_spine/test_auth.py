"""Organiser login: the guarded /manage/ area, throttling, logout, redirects, hashing."""

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from placeevents.auth.models import Organiser
from placeevents.extensions import db
from tests.conftest import ORGANISER_PASSWORD


def _organiser_urls(app: Flask) -> list[tuple[str, str]]:
    """Every organiser URL in the URL map, with placeholder values for its arguments."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("manage."):
            continue
        values = {arg: 1 for arg in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((method, path))
    return urls


def test_every_organiser_url_needs_login(app: Flask, client: FlaskClient) -> None:
    urls = _organiser_urls(app)
    assert ("GET", "/manage/") in urls
    for method, path in urls:
        assert path.startswith("/manage/")
        response = client.open(path, method=method)
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/login"), (method, path)


def test_login_and_see_the_organiser_pages(client: FlaskClient, auth: Any, organiser: Any) -> None:
    response = auth.login()
    assert response.status_code == 302 and response.headers["Location"] == "/manage/"
    page = client.get("/manage/")
    assert page.status_code == 200
    assert "Olive Organiser" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


def test_login_page_has_labelled_fields(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Password</label>' in html
    assert ">Log in</button>" in html


def test_unknown_user_and_wrong_password_get_the_same_message(
    client: FlaskClient, auth: Any, organiser: Any
) -> None:
    wrong = auth.login(password="not the password")
    unknown = auth.login(email="nobody@example.org")
    assert wrong.status_code == unknown.status_code == 422
    message = "That email and password do not match an organiser account."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_login_throttled_per_account(client: FlaskClient, auth: Any, organiser: Any) -> None:
    for _ in range(5):
        assert auth.login(password="wrong").status_code == 422
    response = auth.login()  # even the right password waits now
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_login_throttled_per_client(client: FlaskClient, auth: Any, organiser: Any) -> None:
    codes = [auth.login(email=f"guess{i}@example.org").status_code for i in range(21)]
    assert codes[:20] == [422] * 20
    assert codes[20] == 429


def test_logout_kills_the_old_cookie(
    app: Flask, client: FlaskClient, auth: Any, organiser: Any
) -> None:
    auth.login()
    cookie = client.get_cookie("session")
    assert cookie is not None
    stolen = cookie.value
    assert client.post("/logout").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/manage/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/manage/", "/manage/"),
        ("https://evil.example/", "/manage/"),
        ("//evil.example/", "/manage/"),
        ("/\\evil.example", "/manage/"),
    ],
)
def test_next_only_goes_to_local_paths(
    client: FlaskClient, organiser: Any, target: str, expected: str
) -> None:
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "organiser@example.org", "password": ORGANISER_PASSWORD},
    )
    assert response.headers["Location"] == expected


def test_login_needs_csrf_token(csrf_app: Flask, organiser: Any) -> None:
    client = csrf_app.test_client()
    response = client.post(
        "/login", data={"email": "organiser@example.org", "password": ORGANISER_PASSWORD}
    )
    assert response.status_code == 400


def test_session_cookie_flags(client: FlaskClient, auth: Any, organiser: Any) -> None:
    response = auth.login()
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header


def test_production_password_hash_parameters(make_app: Any) -> None:
    from config import Config
    from placeevents.auth.services import create_organiser

    app = make_app(PASSWORD_HASH_METHOD=Config.PASSWORD_HASH_METHOD)
    with app.app_context():
        organiser = create_organiser(email="p@example.org", name="P", password="a long password!")
        db.session.commit()
        assert organiser.password_hash.startswith("scrypt:131072:8:1$")


def test_organiser_cli(runner: Any) -> None:
    result = runner.invoke(
        args=["organiser", "create", "New@Example.org", "--name", "New One", "--password", "x" * 12]
    )
    assert result.exit_code == 0, result.output
    assert db.session.query(Organiser).filter_by(email="new@example.org").one().name == "New One"
    duplicate = runner.invoke(
        args=["organiser", "create", "new@example.org", "--name", "Again", "--password", "x" * 12]
    )
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    short = runner.invoke(
        args=["organiser", "create", "s@example.org", "--name", "S", "--password", "x"]
    )
    assert short.exit_code != 0 and "at least 12" in short.output
    listing = runner.invoke(args=["organiser", "list"])
    assert "new@example.org\tNew One" in listing.output
