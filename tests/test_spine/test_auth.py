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


def _login(client: FlaskClient, address: str, password: str = ORGANISER_PASSWORD) -> int:
    response = client.post(
        "/login",
        data={"email": "organiser@example.org", "password": password},
        environ_base={"REMOTE_ADDR": address},
    )
    return response.status_code


def test_strangers_cannot_lock_the_organiser_out_of_their_own_browser(
    app: Flask, organiser: Any
) -> None:
    browser = app.test_client()
    assert _login(browser, "198.51.100.7") == 302
    browser.post("/logout")
    # Five wrong passwords from each of three addresses: 15, past the account-wide backstop.
    tries = [
        _login(app.test_client(), f"203.0.113.{n}", "wrong") for n in (1, 2, 3) for _ in range(5)
    ]
    assert tries[:10] == [422] * 10 and 429 in tries[10:]
    # A browser that never signed in to the account waits, even with the right password...
    assert _login(app.test_client(), "192.0.2.99") == 429
    # ...while the organiser's own browser signs in, from whatever address it is on today.
    assert _login(browser, "192.0.2.100") == 302


def test_a_forged_or_borrowed_browser_mark_does_not_pass_the_backstop(
    app: Flask, organiser: Any, make_organiser: Any
) -> None:
    colleague = app.test_client()
    make_organiser(email="colleague@example.org")
    signed_in = colleague.post(
        "/login", data={"email": "colleague@example.org", "password": ORGANISER_PASSWORD}
    )
    assert signed_in.status_code == 302
    colleague.post("/logout")
    for n in range(10):
        assert _login(app.test_client(), f"203.0.113.{n}", "wrong") == 422
    # The colleague's mark is for the colleague's account, not this one.
    assert _login(colleague, "192.0.2.1") == 429
    forged = app.test_client()
    forged.set_cookie("known_browser", "1.forged.signature", path="/login")
    assert _login(forged, "192.0.2.2") == 429


def test_failures_from_one_client_throttle_that_client_only(app: Flask, organiser: Any) -> None:
    stranger = app.test_client()
    assert [_login(stranger, "203.0.113.5", "wrong") for _ in range(5)] == [422] * 5
    assert _login(stranger, "203.0.113.5") == 429  # even the right password waits now
    assert _login(app.test_client(), "198.51.100.7") == 302


def test_successful_logins_are_not_counted(app: Flask, organiser: Any) -> None:
    client = app.test_client()
    for _ in range(12):
        assert _login(client, "198.51.100.7") == 302
        client.post("/logout")
    assert [_login(client, "198.51.100.7", "wrong") for _ in range(6)] == [422] * 5 + [429]


def test_throttled_login_says_what_to_do(client: FlaskClient, auth: Any, organiser: Any) -> None:
    for _ in range(5):
        assert auth.login(password="wrong").status_code == 422
    response = auth.login()
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
    cookies = {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}
    assert "HttpOnly" in cookies["session"] and "SameSite=Lax" in cookies["session"]
    # The mark of a known browser is sent only to the login page, never to scripts.
    mark = cookies["known_browser"]
    assert "HttpOnly" in mark and "Path=/login" in mark and "SameSite=Strict" in mark


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
