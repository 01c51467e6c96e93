"""Public pages kept by each process: served again while nothing they show has changed, built
afresh after any commit that changes it (in whichever process), after a few seconds of the
clock alone, and never for a visitor with a session."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from placeevents import caching
from placeevents.caching import KEPT_SECONDS, PublicVersion
from placeevents.extensions import db
from tests.conftest import beyond_the_versions, count_queries, terminate_idle_connections


def _version() -> int:
    db.session.expire_all()
    version = db.session.scalar(select(PublicVersion.version)) or 0
    db.session.rollback()  # no transaction left open for the other app's writes
    return version


def _page(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_a_kept_page_answers_as_the_built_one_did(app: Flask, make_event: Any) -> None:
    make_event(slug="opening", title="Breaking the cycle")
    client = app.test_client()
    built = client.get("/events/opening")
    with count_queries() as statements:
        kept = client.get("/events/opening")
    assert beyond_the_versions(statements) == []
    assert kept.data == built.data
    assert {k: v for k, v in kept.headers if k != "Date"} == {
        k: v for k, v in built.headers if k != "Date"
    }
    # Revalidation against the kept page: the same 304.
    again = client.get("/events/opening", headers={"If-None-Match": built.headers["ETag"]})
    assert again.status_code == 304
    head = client.head("/events/opening")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == built.headers["ETag"]


def _retitle_event(event: Any, **_: Any) -> str:
    event.title = "Shifting responsibility"
    db.session.commit()
    return "Shifting responsibility"


def _take_the_last_place(event: Any, make_invitation: Any, **_: Any) -> str:
    make_invitation(event, answer="yes")
    return "waiting list"


def _rename_a_line_of_enquiry(event: Any, **_: Any) -> str:
    event.enquiry.questions[0].title = "Ending bid and pilot"
    db.session.commit()
    return "Ending bid and pilot"


def _rename_the_enquiry(event: Any, **_: Any) -> str:
    event.enquiry.title = "Total Place 3.0"
    db.session.commit()
    return "Total Place 3.0"


def _save_the_settings(event: Any, **_: Any) -> str:
    from placeevents.settings.services import current_settings, update_settings

    settings = current_settings()
    update_settings(**{
        **{name: getattr(settings, name) for name in settings.__dataclass_fields__},
        "organisation_name": "Northern Councils Network",
    })  # fmt: skip
    db.session.commit()
    return "Northern Councils Network"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (_retitle_event, "/events/opening"),
        (_take_the_last_place, "/events/opening"),
        (_rename_a_line_of_enquiry, "/"),
        (_rename_the_enquiry, "/enquiries/total-place"),
        (_save_the_settings, "/privacy"),
    ],
)
def test_a_change_committed_elsewhere_shows_on_the_next_request(
    app: Flask,
    make_app: Callable[..., Flask],
    make_enquiry: Any,
    make_event: Any,
    make_invitation: Any,
    change: Callable[..., str],
    path: str,
) -> None:
    enquiry = make_enquiry(slug="total-place", status="current")
    event = make_event(enquiry=enquiry, slug="opening", access="open", capacity=1)
    other = make_app().test_client()  # another worker process, over the same database
    before = _page(other, path)
    assert _page(other, path) == before  # kept
    version = _version()

    shown = change(event, make_invitation=make_invitation)

    assert _version() > version
    after = _page(other, path)
    assert shown in after and shown not in before


def test_a_write_nobody_reads_on_public_pages_leaves_the_version(
    app: Flask, make_event: Any, make_invitation: Any
) -> None:
    event = make_event(slug="opening")
    version = _version()
    invitation = make_invitation(event)  # an invitation without an answer: no public table
    assert invitation.id
    assert _version() == version


def test_a_change_rolled_back_leaves_the_version_and_pending_ones_keep_no_page(
    app: Flask, make_event: Any
) -> None:
    event = make_event(slug="opening", title="Breaking the cycle")
    client = app.test_client()
    _page(client, "/events/opening")
    version = _version()
    event.title = "Not saved"
    db.session.flush()
    # While this process holds an uncommitted change, it neither serves nor keeps a page.
    with count_queries() as statements:
        _page(client, "/events/opening")
    assert beyond_the_versions(statements, reads=0)
    db.session.rollback()
    assert _version() == version
    assert "Breaking the cycle" in _page(client, "/events/opening")


def test_the_clock_alone_rebuilds_a_kept_page_after_a_few_seconds(
    app: Flask, make_event: Any
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    make_event(slug="soon", starts_at=start, access="open")
    client = app.test_client()
    with time_machine.travel(start - timedelta(seconds=2), tick=False):
        before = _page(client, "/events/soon")
        assert "Request a place" in before
    # Within the few seconds a page is kept, the event has started: still the kept page.
    with time_machine.travel(start + timedelta(seconds=KEPT_SECONDS - 3), tick=False):
        assert _page(client, "/events/soon") == before
    with time_machine.travel(start + timedelta(seconds=KEPT_SECONDS), tick=False):
        during = _page(client, "/events/soon")
    assert during != before


def test_a_signed_in_organiser_is_never_given_the_kept_page(
    app: Flask, client: Any, auth: Any, organiser: Any, make_event: Any
) -> None:
    make_event(slug="opening")
    anonymous = app.test_client()
    public = _page(anonymous, "/events/opening")
    assert "Organiser pages" not in public
    auth.login()
    signed_in = client.get("/events/opening")
    assert b"Organiser pages" in signed_in.data
    assert signed_in.cache_control.private
    # And what the organiser saw is not kept for anyone else.
    assert _page(anonymous, "/events/opening") == public


def test_each_address_is_kept_apart(app: Flask, make_event: Any) -> None:
    make_event(slug="opening", title="Opening exploration")
    make_event(slug="closing", title="Closing gathering")
    client = app.test_client()
    for _ in range(2):
        assert "Opening exploration" in _page(client, "/events/opening")
        assert "Closing gathering" in _page(client, "/events/closing")
    other_host = client.get("/events/opening", base_url="http://events.example.org")
    assert other_host.status_code == 200


@pytest.mark.postgres_only
def test_a_version_read_on_a_dropped_connection_is_read_again_on_a_new_one(
    app: Flask, make_event: Any
) -> None:
    """The versions are read without the pre-ping: when the server has dropped that connection
    (a restart drops them all), the read fails, every connection the pool held is given up,
    and the versions are read again on a new one: the page is answered as before, and the next
    request meets no dropped connection, however many the pool held."""
    make_event(slug="opening", title="Breaking the cycle")
    client = app.test_client()
    built = _page(client, "/events/opening")
    pool = caching.read_engine_of(app).pool
    held = [pool.connect() for _ in range(3)]
    for connection in held:
        connection.close()
    assert pool.checkedin() >= 3  # type: ignore[attr-defined]
    assert terminate_idle_connections()
    with count_queries() as statements:
        assert _page(client, "/events/opening") == built
    # The read that met a dropped connection, then one on a new connection: nothing changed,
    # so the page kept is given.
    assert beyond_the_versions(statements, reads=2) == []
    for _ in range(3):
        with count_queries() as statements:
            assert _page(client, "/events/opening") == built
        assert beyond_the_versions(statements) == []  # one read at most: no dropped connection


# --- given before the framework runs


def _counting_views(app: Flask) -> list[str]:
    """The paths of the requests the framework ran for (its before_request hooks)."""
    ran: list[str] = []

    @app.before_request
    def count() -> None:
        from flask import request

        ran.append(request.path)

    return ran


def test_a_kept_page_is_given_before_the_framework_runs_with_the_apps_own_answer(
    make_app: Callable[..., Flask], make_event: Any
) -> None:
    make_event(slug="opening", title="Breaking the cycle")
    db.session.commit()
    app = make_app()
    ran = _counting_views(app)
    client = app.test_client()
    built = client.get("/events/opening")  # built and kept: its whole answer learnt
    with count_queries() as statements:
        front = client.get("/events/opening")
        head = client.head("/events/opening")
    assert ran == ["/events/opening"]  # neither reached the framework
    assert beyond_the_versions(statements, reads=2) == []
    assert front.data == built.data
    for answer in (front, head):
        assert answer.status == built.status
        assert {k: v for k, v in answer.headers if k != "Date"} == {
            k: v for k, v in built.headers if k != "Date"
        }
        assert "Date" in answer.headers
        assert "Content-Security-Policy" in answer.headers
    assert head.data == b""


def test_requests_with_a_cookie_or_a_precondition_are_answered_by_the_app(
    make_app: Callable[..., Flask], make_event: Any
) -> None:
    make_event(slug="opening")
    db.session.commit()
    app = make_app()
    ran = _counting_views(app)
    client = app.test_client()
    built = client.get("/events/opening")
    client.get("/events/opening")
    etag = built.headers["ETag"]
    assert client.get("/events/opening", headers={"If-None-Match": etag}).status_code == 304
    assert len(ran) == 2, ran
    client.set_cookie("theme", "dark")  # a cookie the app never set: still left to the app
    assert client.get("/events/opening").data == built.data
    assert len(ran) == 3, ran
    client.delete_cookie("theme")
    assert client.get("/events/opening", headers={"Range": "bytes=0-9"}).status_code in {200, 206}
    assert len(ran) == 4, ran


def test_an_answer_that_sets_a_cookie_is_never_given_again_in_front(
    make_app: Callable[..., Flask], make_event: Any
) -> None:
    """A cookie is one visitor's: an answer carrying one (set after the view, as a session's
    is) is answered by the app every time, never replayed to the next visitor."""
    make_event(slug="opening")
    db.session.commit()
    app = make_app()
    ran = _counting_views(app)
    handed = iter(range(1000))

    @app.after_request
    def hand_out(response: Any) -> Any:
        response.set_cookie("visitor", str(next(handed)))
        return response

    cookies = set()
    for _ in range(3):
        answer = app.test_client().get("/events/opening")
        assert answer.status_code == 200
        cookies.add(answer.headers["Set-Cookie"])
    assert len(ran) == 3 and len(cookies) == 3


def test_a_change_is_never_given_from_in_front(
    make_app: Callable[..., Flask], make_event: Any
) -> None:
    event = make_event(slug="opening", title="Breaking the cycle")
    db.session.commit()
    client = make_app().test_client()
    for _ in range(3):
        assert "Breaking the cycle" in _page(client, "/events/opening")
    event.title = "Shifting responsibility"
    db.session.commit()
    assert "Shifting responsibility" in _page(client, "/events/opening")


def test_behind_a_proxy_each_forwarded_host_is_kept_apart(
    make_app: Callable[..., Flask], make_event: Any
) -> None:
    """Pages are kept by the address the visitor asked for, as the proxy forwards it: the
    layer in front finds what the app kept under that address."""
    make_event(slug="opening")
    db.session.commit()
    app = make_app(PLACEEVENTS_PROXY_COUNT=1)
    ran = _counting_views(app)
    client = app.test_client()

    def get(host: str) -> bytes:
        response = client.get(
            "/events/opening",
            headers={"X-Forwarded-Host": host, "X-Forwarded-Proto": "https"},
        )
        assert response.status_code == 200
        return response.data

    for _ in range(3):
        assert get("events.example.org") == get("www.example.net")
    assert len(ran) == 2  # once for each address, then given in front
