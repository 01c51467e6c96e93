"""The site as a whole: home page, security headers, error pages, input guards."""

import pytest
from flask import Flask
from flask.testing import FlaskClient

from placeevents import ConfigurationError, create_app
from placeevents.demo import load_demo
from placeevents.extensions import db


@pytest.fixture
def demo(app: Flask):  # type: ignore[no-untyped-def]
    enquiry = load_demo()
    db.session.commit()
    return enquiry


def test_home_presents_the_current_enquiry(client: FlaskClient, demo) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/").get_data(as_text=True)
    assert "Total Place 2.0: What would it take to shift place-based approaches" in html
    assert "Breaking the continuous cycle of bid and pilot" in html
    assert "Shifting responsibility for whole-system working to national bodies" in html
    assert "Sharing and amplifying the learning" in html
    assert "Upcoming events" in html and "Past events" in html
    assert "Earlier enquiries" in html and "Leading beyond boundaries" in html
    # Drafts are never public.
    assert "closing gathering" not in html


def test_home_without_an_enquiry(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "No enquiry yet" in response.get_data(as_text=True)


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _public_paths(app: Flask) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith("/manage"):
            paths.append(rule.rule)
    return paths


def test_security_headers_on_every_page(client: FlaskClient, app: Flask, demo) -> None:  # type: ignore[no-untyped-def]
    paths = _public_paths(app) + ["/no-such-page", "/events/bid-and-pilot-online", "/login"]
    for path in paths:
        response = client.get(path)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (path, name)
        csp = response.headers["Content-Security-Policy"]
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp


HSTS = "max-age=31536000; includeSubDomains"


def test_https_sites_tell_browsers_to_stay_on_https(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(PLACEEVENTS_BASE_URL="https://events.example.org", PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    client = app.test_client()
    for path in ["/", "/login", "/no-such-page", "/favicon.ico", "/static/favicon.svg", "/boom"]:
        response = client.get(path)
        assert response.headers.get("Strict-Transport-Security") == HSTS, path
    assert client.post("/manage/").headers.get("Strict-Transport-Security") == HSTS


def test_http_sites_send_no_hsts(client: FlaskClient) -> None:
    for path in ["/", "/login", "/no-such-page"]:
        assert "Strict-Transport-Security" not in client.get(path).headers, path


def test_pages_carry_no_inline_script(client: FlaskClient, demo) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/").get_data(as_text=True)
    assert "<script>" not in html and " onclick=" not in html


def test_not_found_uses_the_site_layout(client: FlaskClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and 'id="main"' in html


def test_method_not_allowed_page(client: FlaskClient) -> None:
    response = client.delete("/")
    assert response.status_code == 405
    assert "Not allowed" in response.get_data(as_text=True)


def test_rate_limited_page_says_what_to_do_not_the_raw_limit(client: FlaskClient) -> None:
    data = {"email": "guess@example.org", "password": "wrong"}
    codes = [client.post("/login", data=data).status_code for _ in range(21)]
    response = client.post("/login", data=data)
    assert 429 in codes and response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Too many attempts from your connection. Please wait a minute and try again." in html
    assert " per " not in html and 'id="main"' in html


def test_nul_bytes_are_refused(client: FlaskClient) -> None:
    response = client.post("/login", data={"email": "a\x00@example.org", "password": "x"})
    assert response.status_code == 400
    assert client.get("/?q=a%00b").status_code == 400


def test_oversized_fields_are_refused(client: FlaskClient) -> None:
    response = client.post("/login", data={"email": "a" * 200_000, "password": "x"})
    assert response.status_code in (400, 413)


def test_server_error_page(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)


def test_privacy_notice_is_linked_and_configurable(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(PLACEEVENTS_PRIVACY_NOTICE="We keep very little.\n\nAsk us anything.")
    client = app.test_client()
    assert 'href="/privacy"' in client.get("/").get_data(as_text=True)
    html = client.get("/privacy").get_data(as_text=True)
    assert "<p>We keep very little.</p>" in html and "<p>Ask us anything.</p>" in html


def test_production_refuses_the_default_secret_key() -> None:
    with pytest.raises(ConfigurationError):
        create_app({"PLACEEVENTS_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    app = create_app(
        {
            "PLACEEVENTS_ENV": "production",
            "SECRET_KEY": "s3cret",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
        }
    )
    assert not app.debug


def test_database_url_is_normalised_to_psycopg() -> None:
    from config import normalise_database_url

    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_external_urls_come_from_the_base_url_not_the_host(make_app) -> None:  # type: ignore[no-untyped-def]
    from placeevents.urls import external_url

    app = make_app(PLACEEVENTS_BASE_URL="https://events.example.org")
    with app.test_request_context("/", base_url="http://attacker.example"):
        assert external_url("site.privacy") == "https://events.example.org/privacy"


def test_external_urls_work_outside_a_request(make_app) -> None:  # type: ignore[no-untyped-def]
    from placeevents.urls import external_url

    app = make_app(PLACEEVENTS_BASE_URL="https://events.example.org")
    with app.app_context():
        assert external_url("events.show", slug="a b") == "https://events.example.org/events/a%20b"


def test_favicon_ico_points_at_the_icon(client: FlaskClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/static/favicon.svg")
    assert client.get(response.headers["Location"]).status_code == 200


def test_every_view_and_request_hook_is_a_plain_function(app: Flask) -> None:
    """The app calls views and hooks as they are (PlaceEventsFlask.ensure_sync): an async one
    would hand Flask a coroutine instead of a response."""
    import inspect

    hooks = [
        *app.view_functions.values(),
        *(f for fs in app.before_request_funcs.values() for f in fs),
        *(f for fs in app.after_request_funcs.values() for f in fs),
        *(f for fs in app.teardown_request_funcs.values() for f in fs),
        *app.teardown_appcontext_funcs,
        *(f for fs in app.url_value_preprocessors.values() for f in fs),
        *(f for fs in app.template_context_processors.values() for f in fs),
        *(f for handlers in app.error_handler_spec.values() for by_code in handlers.values()
          for f in by_code.values()),
    ]  # fmt: skip
    assert len(hooks) > 100
    assert not [h for h in hooks if inspect.iscoroutinefunction(inspect.unwrap(h))]
