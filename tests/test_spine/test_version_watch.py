"""On PostgreSQL each process hears when the pages' versions move (placeevents/version_watch.py)
instead of reading them for every kept page and every feed poll: a change committed by another
process (here, a connection of its own, which runs none of this process's hooks) reaches the
pages through the trigger's notice alone; a lost connection leaves the versions to be read, as
before, until the process listens again; a database without the trigger is read, never heard."""

import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import Engine

from placeevents import caching, version_watch
from placeevents.extensions import db
from placeevents.version_watch import VersionWatch
from tests.conftest import beyond_the_versions, count_queries, terminate_idle_connections

pytestmark = pytest.mark.postgres_only

# Longer than any test here: a change can only reach a watch built with it through a notice.
NO_HEARTBEAT = 600.0


def _until(condition: Callable[[], Any], seconds: float = 5.0) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.002)
    return found


def _another_process(app: Flask) -> psycopg.Connection[Any]:
    url = db.engine.url.set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def _move_versions(app: Flask, title: str | None = None) -> None:
    """Commit as another process would: a retitled event and the version moved with it."""
    with _another_process(app) as other, other.transaction():
        if title is not None:
            other.execute("UPDATE event SET title = %s", (title,))
        other.execute("UPDATE public_version SET version = version + 1")


def _read_versions() -> tuple[int, int]:
    with db.engine.connect() as connection:
        row = connection.exec_driver_sql("SELECT version, personal FROM public_version").one()
    return int(row[0]), int(row[1])


@pytest.fixture
def quiet_watch(app: Flask) -> Iterator[VersionWatch]:
    """A watch of its own, which reads again only when it hears a notice."""
    watch = VersionWatch(caching.read_engine_of(app), caching._READ_VERSIONS, NO_HEARTBEAT)
    yield watch
    watch.stop()
    _move_versions(app)  # wakes it, to stop


def _engine(app: Flask) -> Engine:
    return caching.read_engine_of(app)


def test_a_change_committed_elsewhere_is_heard_through_the_notice(
    app: Flask, quiet_watch: VersionWatch
) -> None:
    before = _until(quiet_watch.known)
    assert before == _read_versions()
    _move_versions(app)
    after = _until(lambda: (found := quiet_watch.known()) != before and found)
    assert after == _read_versions() == (before[0] + 1, before[1])


def _a_kept_page_and_the_watch(app: Flask, make_event: Any) -> tuple[Any, Any, VersionWatch, str]:
    """An event, its page built and kept, and this process's watch once it has heard."""
    event = make_event(slug="opening", title="Breaking the cycle")
    db.session.commit()
    client = app.test_client()
    built = client.get("/events/opening").get_data(as_text=True)
    assert "Breaking the cycle" in built
    watch = version_watch.watch_of(_engine(app), caching._READ_VERSIONS)
    assert watch is not None
    _until(lambda: watch.known() == _read_versions())
    return event, client, watch, built


def test_a_kept_page_shows_a_change_committed_elsewhere_once_heard(
    app: Flask, make_event: Any
) -> None:
    _, client, _, _ = _a_kept_page_and_the_watch(app, make_event)
    time.sleep(0.05)  # the notice of the event's own commit may still have been on its way
    with count_queries() as statements:
        for _ in range(10):
            kept = client.get("/events/opening")
            assert "Breaking the cycle" in kept.get_data(as_text=True)
    # Heard, not read: ten kept pages, and no statement but a read or two of the versions at
    # most (should the watch's heartbeat, or a notice slow to arrive, fall among them), where
    # reading them would make ten.
    assert len([s for s in statements if "outbox_message" not in s]) <= 2, statements

    _move_versions(app, title="Shifting responsibility")
    # The first answer after the commit may still come from what this process had heard (the
    # notice is on its way); within moments every answer is the new page.
    _until(lambda: "Shifting responsibility" in client.get("/events/opening").get_data(True))
    for _ in range(3):
        assert "Shifting responsibility" in client.get("/events/opening").get_data(as_text=True)


def test_this_process_sees_its_own_commit_before_its_notice_comes_back(
    app: Flask, make_event: Any
) -> None:
    event, client, watch, _ = _a_kept_page_and_the_watch(app, make_event)
    event.title = "Shifting responsibility"
    db.session.commit()
    # Dropped by the commit itself: never the versions from before it, even with the notice
    # still on its way.
    assert watch.known() in (None, _read_versions())
    assert "Shifting responsibility" in client.get("/events/opening").get_data(as_text=True)


def test_a_lost_connection_leaves_the_versions_read_until_the_process_listens_again(
    app: Flask, make_event: Any
) -> None:
    _, client, watch, built = _a_kept_page_and_the_watch(app, make_event)
    listening_on = _until(lambda: watch.connected_pid)
    terminate_idle_connections()  # the server restarts, say
    assert not watch.listening() and watch.known() is None
    _move_versions(app, title="Shifting responsibility")  # unheard: nobody listens
    with count_queries() as statements:
        page = client.get("/events/opening").get_data(as_text=True)
    assert "Shifting responsibility" in page  # read, not heard
    # The read that met the connection dropped too, another on a new one, and the page built.
    assert beyond_the_versions(statements, reads=2)
    assert client.get("/events/opening").get_data(as_text=True) != built

    again = _until(lambda: watch.connected_pid)
    assert again != listening_on
    _until(lambda: watch.known() == _read_versions())


def test_without_the_trigger_nothing_is_heard_and_every_caller_reads(app: Flask) -> None:
    with db.engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TRIGGER {version_watch.TRIGGER} ON public_version")
    try:
        watch = VersionWatch(_engine(app), caching._READ_VERSIONS, NO_HEARTBEAT)
        _until(lambda: watch.cannot_hear == "no public_version_moved trigger")
        watch.offer(_read_versions(), watch.generation())
        assert not watch.listening() and watch.known() is None
        watch.stop()
    finally:
        with db.engine.begin() as connection:
            connection.exec_driver_sql(version_watch.NOTIFY_DDL[1])
    assert caching.versions(app) == _read_versions()
