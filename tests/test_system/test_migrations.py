"""Migrations on a database in use: seeded at revision 0001, upgraded to the newest, down to
0001 and up again, with every row kept and the renamed and added columns filled as they should.
"""

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from placeevents import create_app
from placeevents.extensions import db
from placeevents.invitations.links import rsvp_token
from placeevents.invitations.models import Invitation
from tests.test_system.conftest import empty_database, flask, newest_and_empty

pytestmark = pytest.mark.system

SEED = Path(__file__).with_name("revision_0001.sql")
# Columns of revision 0001 that later revisions renamed: (table, old name) -> new name.
RENAMED = {("event", "updated_at"): "calendar_changed_at"}

# Columns of revision 0001 that later revisions dropped. 0007_team: the token that ended all of
# an organiser's sessions at once (sessions are rows now; a downgrade issues fresh tokens, so
# every session ends, as a downgrade should).
DROPPED = {("organiser", "session_token")}

Layout = dict[str, list[str]]


def _layout(engine: sa.Engine) -> Layout:
    """Every table's columns, in order."""
    query = sa.text(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name <> 'alembic_version'"
        " ORDER BY table_name, ordinal_position"
    )
    layout: Layout = {}
    with engine.connect() as conn:
        for table, column in conn.execute(query):
            layout.setdefault(table, []).append(column)
    return layout


def _unordered(layout: Layout) -> dict[str, set[str]]:
    return {table: set(columns) for table, columns in layout.items()}


def _rows(engine: sa.Engine, layout: Layout, *, renamed: bool = False) -> dict[str, list[Any]]:
    """Every row of the tables in `layout`, read through its columns (or their new names)."""
    rows: dict[str, list[Any]] = {}
    with engine.connect() as conn:
        quote = conn.dialect.identifier_preparer.quote
        for table, columns in layout.items():
            names = [RENAMED.get((table, c), c) if renamed else c for c in columns]
            # As text, so columns without an ordering (JSON) still sort.
            order = ", ".join(f"CAST({quote(n)} AS TEXT)" for n in names)
            query = f"SELECT {', '.join(map(quote, names))} FROM {quote(table)} ORDER BY {order}"
            rows[table] = [tuple(row) for row in conn.exec_driver_sql(query)]
    return rows


def _scalars(engine: sa.Engine, query: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(query)))


def test_a_database_seeded_at_the_first_revision_upgrades_downgrades_and_upgrades_again(
    postgres: str,
) -> None:
    url = postgres
    engine = sa.create_engine(url)
    try:
        empty_database(url)
        flask(url, "db", "upgrade", "0001")
        first = _layout(engine)
        kept = {t: [c for c in cs if (t, c) not in DROPPED] for t, cs in first.items()}
        with engine.begin() as conn:
            conn.exec_driver_sql(SEED.read_text())
        assert [table for table, rows in _rows(engine, first).items() if not rows] == []  # all used
        seeded = _rows(engine, kept)

        flask(url, "db", "upgrade")
        assert _rows(engine, kept, renamed=True) == seeded
        _check_what_later_revisions_added(engine)
        newest = _layout(engine)
        upgraded = _rows(engine, newest)

        flask(url, "db", "downgrade", "0001")
        # A column a downgrade adds back comes last: PostgreSQL appends columns.
        assert _unordered(_layout(engine)) == _unordered(first)
        assert _rows(engine, kept) == seeded

        flask(url, "db", "upgrade")
        assert _layout(engine) == newest
        assert _rows(engine, newest) == upgraded

        _the_app_works_on_the_upgraded_rows(url, engine)
    finally:
        engine.dispose()
        newest_and_empty(url)


def _check_what_later_revisions_added(engine: sa.Engine) -> None:
    # 0002: the event's calendar version is what updated_at was; nobody's check-in was undone.
    assert _scalars(engine, "SELECT id, calendar_changed_at::text FROM event WHERE id = 1") == [
        (1, "2026-01-20 16:45:00+00")
    ]
    assert _scalars(engine, "SELECT count(*) FROM event WHERE check_in_closed_at IS NOT NULL") == [
        (0,)
    ]
    assert _scalars(
        engine, "SELECT count(*) FROM rsvp WHERE answer_before_check_in IS NOT NULL"
    ) == [(0,)]
    # 0013: the version row tells the processes listening when it moves.
    assert _scalars(
        engine, "SELECT tgname FROM pg_trigger WHERE tgname = 'public_version_moved'"
    ) == [("public_version_moved",)]
    # 0007_team: the organisers there were are admins.
    assert _scalars(engine, "SELECT DISTINCT role FROM organiser") == [("admin",)]
    # 0003: each audit entry reads as its target did, linked while the target still exists.
    assert _scalars(engine, "SELECT id, target_label, target_url FROM audit_entry ORDER BY id") == [
        (1, "Subscriber import 1", "/manage/newsletter/import/1"),
        (2, "Kick-off in Newcastle", "/manage/events/1"),
        (3, "Note: What we heard in Newcastle", "/manage/notes/1"),
        (4, "An exploration in Leeds", "/manage/events/2"),
        (5, "erin@example.org", "/manage/newsletter/5"),
        (6, "Event a-draft-we-dropped (since deleted)", ""),
        (7, "Mail 2", "/manage/mail/"),
        (8, "", ""),
    ]


def _the_app_works_on_the_upgraded_rows(database_url: str, engine: sa.Engine) -> None:
    """Bob gives up his place in Leeds: Hamid, first in line, gets it and is mailed."""
    app = create_app(
        {
            "PLACEEVENTS_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        client = app.test_client()
        assert "An exploration in Leeds" in client.get("/events/leeds-exploration").text
        token = rsvp_token(db.session.get(Invitation, 5))
        page = client.get(f"/rsvp/{token}")
        assert page.status_code == 200 and "Bob Brown" in page.text
        # Someone waits for Bob's place: he is asked first, then gives it up.
        asked = client.post(f"/rsvp/{token}", data={"answer": "no"})
        assert asked.status_code == 200 and "Give up your place?" in asked.text
        done = client.post(f"/rsvp/{token}", data={"answer": "no", "give_up_place": "y"})
        assert done.status_code == 302
        db.session.remove()
        db.engine.dispose()
    assert _scalars(
        engine, "SELECT invitation_id, answer FROM rsvp WHERE invitation_id IN (5, 8) ORDER BY 1"
    ) == [(5, "no"), (8, "yes")]
    assert _scalars(engine, "SELECT places_taken FROM event WHERE id = 2") == [(3,)]
    # New rows take ids after the seeded ones: the sequences came through the migrations.
    assert _scalars(engine, "SELECT min(id) > 3 FROM outbox_message WHERE created_at > now() - "
                            "interval '1 hour'") == [(True,)]
