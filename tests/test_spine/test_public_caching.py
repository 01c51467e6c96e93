"""Public pages can be kept by a proxy or CDN: no cookie for an anonymous visitor,
`Cache-Control: public` with a short max-age, and an ETag that answers 304; an organiser's
view of the same page is private."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from placeevents.caching import PUBLIC_MAX_AGE


@pytest.fixture
def public_paths(make_enquiry: Callable[..., Any], make_event: Callable[..., Any]) -> list[str]:
    enquiry = make_enquiry(slug="total-place", status="current")
    make_event(enquiry=enquiry, slug="opening")
    return [
        "/",
        "/enquiries/total-place",
        "/events/opening",
        "/enquiries/total-place/learning",
        "/archive",
        "/news/",
        "/privacy",
    ]


def test_public_pages_are_cacheable_for_anonymous_visitors(
    app: Flask, public_paths: list[str]
) -> None:
    for path in public_paths:
        client = app.test_client()
        first = client.get(path)
        assert first.status_code == 200, path
        assert "Set-Cookie" not in first.headers, path
        cache = first.cache_control
        assert cache.public and cache.s_maxage == PUBLIC_MAX_AGE, (path, first.headers)
        assert cache.max_age == 0, path  # a browser revalidates every time
        assert "Cookie" in first.vary, path
        etag = first.headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"", path
        assert again.headers["ETag"] == etag


def test_a_signed_in_organiser_gets_private_pages(
    client: FlaskClient, auth: Any, organiser: Any, public_paths: list[str]
) -> None:
    auth.login()
    for path in public_paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.cache_control.private and not response.cache_control.public, path
        assert response.cache_control.no_cache, path


def test_an_event_page_that_changes_with_the_clock_changes_its_etag(
    app: Flask, make_event: Callable[..., Any]
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    make_event(slug="soon", starts_at=start, access="open")
    client = app.test_client()
    before = client.get("/events/soon")
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        during = client.get("/events/soon", headers={"If-None-Match": before.headers["ETag"]})
    # Requests close when the event starts: the page says so, and its validator moved.
    assert during.status_code == 200
    assert during.headers["ETag"] != before.headers["ETag"]
    assert during.data != before.data


def test_not_found_is_not_cached_as_public(app: Flask) -> None:
    response = app.test_client().get("/events/no-such-event")
    assert response.status_code == 404
    assert not response.cache_control.public
