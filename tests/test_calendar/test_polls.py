"""Calendar apps' polls of an enquiry feed, answered in front of the app (FeedPolls): the same
answers the app gives, from one query, and everything else passed on to the app unchanged."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask, request_started
from werkzeug.test import Client

from placeevents.calendar.views import FeedPolls
from placeevents.extensions import db
from tests.conftest import beyond_the_versions, count_queries, terminate_idle_connections

URL = "/enquiries/polled/calendar.ics"


@pytest.fixture
def feed(app: Flask, make_enquiry: Callable[..., Any], make_event: Callable[..., Any]) -> str:
    enquiry = make_enquiry(slug="polled", title="Total Place 2.0")
    for title in ("Breaking the cycle of bid and pilot", "Sharing and amplifying the learning"):
        make_event(enquiry=db.session.merge(enquiry), title=title)
    db.session.commit()
    db.session.expunge_all()
    return URL


def _the_app_itself(app: Flask) -> Client:
    """A client for the app behind the poll answerer: what the app alone would say."""
    assert isinstance(app.wsgi_app, FeedPolls)
    return Client(app.wsgi_app.wsgi_app)


@contextmanager
def _requests_reaching_the_app(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(sender: Flask, **extra: Any) -> None:
        from flask import request

        seen.append(request.path)

    request_started.connect(note, app)
    try:
        yield seen
    finally:
        request_started.disconnect(note, app)


def _same_answer(polled: Any, direct: Any) -> None:
    assert polled.status == direct.status
    assert polled.data == direct.data
    # The Date header is the moment of each answer; every other header is the same.
    assert sorted((k, v) for k, v in polled.headers.items() if k != "Date") == sorted(
        (k, v) for k, v in direct.headers.items() if k != "Date"
    )
    assert ("Date" in polled.headers) == ("Date" in direct.headers)


def test_a_poll_with_nothing_changed_is_a_304_from_one_read_at_most_without_the_app(
    app: Flask, feed: str
) -> None:
    client = app.test_client()
    client.delivering = False  # type: ignore[attr-defined]
    full = client.get(feed)
    assert full.status_code == 200
    etag, last_modified = full.headers["ETag"], full.headers["Last-Modified"]

    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": last_modified}):
        with _requests_reaching_the_app(app) as reached, count_queries() as statements:
            polled = client.get(feed, headers=headers)
        assert polled.status_code == 304 and polled.data == b""
        # The versions at most: the feed's state read at that version is kept.
        assert reached == [] and beyond_the_versions(statements) == []
        _same_answer(polled, _the_app_itself(app).get(feed, headers=headers))

    with _requests_reaching_the_app(app) as reached:
        head = client.head(feed, headers={"If-None-Match": etag})
    assert head.status_code == 304 and reached == []
    _same_answer(head, _the_app_itself(app).head(feed, headers={"If-None-Match": etag}))


def test_a_full_fetch_is_served_from_the_body_the_app_built(app: Flask, feed: str) -> None:
    client = app.test_client()
    client.delivering = False  # type: ignore[attr-defined]
    with _requests_reaching_the_app(app) as reached, count_queries() as first_statements:
        first = client.get(feed)
    # The first fetch is built by the app, which reuses the state the answerer read.
    assert first.status_code == 200 and reached == [feed]
    # The feed's state, then the events (and the versions it is kept under).
    assert len(beyond_the_versions(first_statements)) == 2, first_statements

    with _requests_reaching_the_app(app) as reached, count_queries() as statements:
        again = client.get(feed)
    assert reached == [] and beyond_the_versions(statements) == []
    assert b"SUMMARY:Breaking the cycle of bid and pilot" in again.data
    _same_answer(again, _the_app_itself(app).get(feed))
    _same_answer(client.head(feed), _the_app_itself(app).head(feed))
    assert client.head(feed).data == b""


def test_over_plain_http_no_strict_transport_security(app: Flask, feed: str) -> None:
    app.config["PLACEEVENTS_BASE_URL"] = "http://localhost:5000"
    client = app.test_client()
    etag = client.get(feed).headers["ETag"]
    polled = client.get(feed, headers={"If-None-Match": etag})
    assert polled.status_code == 304 and "Strict-Transport-Security" not in polled.headers
    _same_answer(polled, _the_app_itself(app).get(feed, headers={"If-None-Match": etag}))


@pytest.mark.parametrize(
    "headers, query",
    [
        ({"Cookie": "anything"}, ""),
        ({"If-Match": '"something-else"'}, ""),
        ({"If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}, ""),
        ({"Range": "bytes=0-10"}, ""),
        ({}, "?x=1"),
    ],
)
def test_what_the_answerer_does_not_handle_goes_to_the_app(
    app: Flask, feed: str, headers: dict[str, str], query: str
) -> None:
    client, direct = app.test_client(), _the_app_itself(app)
    client.get(feed)  # the body is built and kept
    if headers.pop("Cookie", None):
        client.set_cookie("session", "anything")
        direct.set_cookie("session", "anything")
    with _requests_reaching_the_app(app) as reached:
        answered = client.get(feed + query, headers=headers)
    assert reached == [feed]
    assert answered.status == direct.get(feed + query, headers=headers).status


def test_unknown_feeds_and_other_paths_get_the_apps_pages(app: Flask, feed: str) -> None:
    client = app.test_client()
    with _requests_reaching_the_app(app) as reached:
        missing = client.get("/enquiries/nothing-here/calendar.ics")
        odd = client.get("/enquiries/Polled/calendar.ics")
    assert missing.status_code == 404 and b"<html" in missing.data.lower()
    assert odd.status_code == 404
    assert reached == ["/enquiries/nothing-here/calendar.ics", "/enquiries/Polled/calendar.ics"]


def test_a_change_reaches_the_next_poll(
    app: Flask, feed: str, make_event: Callable[..., Any]
) -> None:
    from placeevents.enquiries.models import Enquiry

    client = app.test_client()
    etag = client.get(feed).headers["ETag"]
    enquiry = db.session.scalar(db.select(Enquiry).where(Enquiry.slug == "polled"))
    make_event(enquiry=enquiry, title="Whole-system working, nationally")
    db.session.commit()
    changed = client.get(feed, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert b"SUMMARY:Whole-system working\\, nationally" in changed.data


@pytest.mark.postgres_only
def test_a_poll_on_a_dropped_connection_is_answered_by_the_app(app: Flask, feed: str) -> None:
    """The polls' own connections skip the pre-ping: when the server has dropped them, the read
    that meets one is dropped with it, and the poll is answered all the same, by the answerer
    on a new connection or by the app (whose connections are pinged); the next poll
    reconnects."""
    client = app.test_client()
    etag = client.get(feed).headers["ETag"]
    assert client.get(feed, headers={"If-None-Match": etag}).status_code == 304
    polls = app.wsgi_app.engine()  # type: ignore[attr-defined]
    assert polls is not db.engine and polls.pool.checkedin() >= 1
    assert terminate_idle_connections()

    with _requests_reaching_the_app(app) as reached:
        after_the_drop = client.get(feed, headers={"If-None-Match": etag})
        next_poll = client.get(feed, headers={"If-None-Match": etag})
    assert after_the_drop.status_code == next_poll.status_code == 304
    assert reached in ([], [feed])  # at most the poll that met the dropped connection
