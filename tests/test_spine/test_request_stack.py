"""What every request pays for stays small without dropping a protection: a visitor without a
cookie costs no session or sign-in lookup, and settings are read afresh on each request, so a
change saved by another process shows on its very next page."""

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from placeevents.extensions import db
from placeevents.settings.services import current_settings, update_settings
from tests.conftest import beyond_the_versions, count_queries


def _save_settings(**changes: Any) -> None:
    settings = current_settings()
    update_settings(**{
        **{name: getattr(settings, name) for name in settings.__dataclass_fields__},
        **changes,
    })  # fmt: skip
    db.session.commit()


def test_a_visitor_without_a_cookie_costs_no_session_or_sign_in_query(
    client: FlaskClient, auth: Any, organiser: Any, make_event: Callable[..., Any]
) -> None:
    make_event(slug="opening")
    with count_queries() as statements:
        response = client.get("/events/opening")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert not [s for s in statements if "organiser" in s]
    # The event with its enquiry, and the settings (and the versions the page is kept under).
    assert len(beyond_the_versions(statements)) == 2, statements
    # The same page again, with nothing changed: the versions at most, and the page kept.
    with count_queries() as statements:
        again = client.get("/events/opening")
    assert again.data == response.data
    assert beyond_the_versions(statements) == []

    # A signed-in organiser's session is still checked against its row on every request.
    auth.login()
    with count_queries() as statements:
        signed_in = client.get("/events/opening")
    assert signed_in.status_code == 200 and b"Organiser pages" in signed_in.data
    assert [s for s in statements if "organiser_session" in s]


def test_a_settings_change_shows_on_the_next_request_of_another_app(
    app: Flask, make_app: Callable[..., Flask], make_event: Callable[..., Any]
) -> None:
    make_event(slug="opening")
    other = make_app().test_client()  # another worker process, over the same database
    before = other.get("/events/opening").get_data(as_text=True)
    assert "Northern Councils Network" not in before
    assert other.get("/privacy").status_code == 200

    _save_settings(
        organisation_name="Northern Councils Network",
        privacy_notice="We keep only what you send us.",
    )

    page = other.get("/events/opening").get_data(as_text=True)
    assert '<a class="site-header__brand" href="/">Northern Councils Network</a>' in page
    # The signup form (rendered once per process) names the new organisation too.
    assert "By signing up you agree that Northern Councils Network may send you" in page
    assert "We keep only what you send us." in other.get("/privacy").get_data(as_text=True)

    _save_settings(organisation_name="Southern Councils Network")
    page = other.get("/events/opening").get_data(as_text=True)
    assert "By signing up you agree that Southern Councils Network may send you" in page
    assert "Northern Councils Network" not in page
