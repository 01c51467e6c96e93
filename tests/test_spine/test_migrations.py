"""Migrations from empty to head equal the models, on SQLite and on PostgreSQL."""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parents[2]


def _flask(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PLACEEVENTS_ENV": "development",
        "FLASK_APP": "placeevents",
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _upgrade_check_downgrade(url: str) -> None:
    upgrade = _flask(url, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    check = _flask(url, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    demo = _flask(url, "demo", "load")
    assert demo.returncode == 0, demo.stderr
    again = _flask(url, "demo", "load")
    assert again.returncode != 0 and "already has enquiries" in again.stderr
    downgrade = _flask(url, "db", "downgrade", "base")
    assert downgrade.returncode == 0, downgrade.stderr


def test_migrations_match_models_on_sqlite(tmp_path: Path) -> None:
    _upgrade_check_downgrade(f"sqlite:///{tmp_path / 'migrations.db'}")


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    assert _flask(url, "db", "upgrade").returncode == 0
    from placeevents import create_app
    from placeevents.extensions import db

    app = create_app({"PLACEEVENTS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 30000
        db.engine.dispose()


@pytest.mark.postgres_only
def test_migrations_match_models_on_postgresql() -> None:
    base = os.environ["TEST_DATABASE_URL"]
    from config import normalise_database_url

    url = sa.engine.make_url(normalise_database_url(base))
    name = f"placeevents_migrations_{uuid.uuid4().hex[:8]}"
    try:
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        require_tool(False, f"PostgreSQL at {url.host}:{url.port} ({exc})")
    try:
        _upgrade_check_downgrade(url.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _insert_at(conn: sa.Connection, model: Any, **values: Any) -> int:
    """Insert a row into the table as the database has it now, the model's defaults filling
    the columns not given; returns its id."""
    table = sa.Table(model.__tablename__, sa.MetaData(), autoload_with=conn)
    columns = model.__table__.c
    row = dict(values)
    for column in table.columns:
        default = columns[column.name].default if column.name in columns else None
        if column.name in row or default is None:
            continue
        value = default.arg(None) if default.is_callable else default.arg
        row[column.name] = getattr(value, "value", value)
    return conn.execute(table.insert().values(row)).inserted_primary_key[0]


def _seed_control_characters_and_upgrade(url: str) -> dict[str, str]:
    """Rows stored at 0003 with control characters, read back after `db upgrade`."""
    from datetime import UTC, datetime

    from placeevents import create_app
    from placeevents.enquiries.models import Enquiry
    from placeevents.events.models import Event, EventFormat
    from placeevents.extensions import db
    from placeevents.invitations.models import Invitation, InvitationSource, Rsvp, RsvpAnswer
    from placeevents.newsletter.models import Subscriber

    upgrade = _flask(url, "db", "upgrade", "0003")
    assert upgrade.returncode == 0, upgrade.stderr
    app = create_app({"PLACEEVENTS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), db.engine.begin() as conn:
        # Rows written as the 0003 schema has them: today's models have columns it lacks.
        start = datetime(2030, 5, 14, 9, tzinfo=UTC)
        ids = {"enquiry": _insert_at(conn, Enquiry, slug="e", title="Total\x07 Place",
                                     introduction="One\r\ntwo\x0b")}  # fmt: skip
        ids["event"] = _insert_at(
            conn, Event, enquiry_id=ids["enquiry"], slug="bid", title="Bid\x07 and pilot",
            format=EventFormat.IN_PERSON.value, venue="Town\x9b Hall",
            description="Come\x1b[0m\tin\r\nplease", starts_at=start, ends_at=start,
        )  # fmt: skip
        ids["invitation"] = _insert_at(
            conn, Invitation, event_id=ids["event"], email="ann@example.org",
            name="Ann\tExample\n", source=InvitationSource.PASTED.value,
        )  # fmt: skip
        _insert_at(conn, Rsvp, invitation_id=ids["invitation"], answer=RsvpAnswer.YES.value,
                   access_needs="Ramp\x08\nplease")  # fmt: skip
        ids["subscriber"] = _insert_at(conn, Subscriber, email="ada@example.org",
                                       name="Ada\r\nLovelace", role="R\x85D")  # fmt: skip
    with app.app_context():
        db.engine.dispose()
    upgrade = _flask(url, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    with app.app_context():
        enquiry = db.session.get(Enquiry, ids["enquiry"])
        event = db.session.get(Event, ids["event"])
        invitation = db.session.get(Invitation, ids["invitation"])
        subscriber = db.session.get(Subscriber, ids["subscriber"])
        found = {
            "enquiry.title": enquiry.title,
            "enquiry.introduction": enquiry.introduction,
            "event.title": event.title,
            "event.venue": event.venue,
            "event.description": event.description,
            "invitation.name": invitation.name,
            "rsvp.access_needs": invitation.rsvp.access_needs,
            "subscriber.name": subscriber.name,
            "subscriber.role": subscriber.role,
        }
        db.session.remove()
        db.engine.dispose()
    return found


CLEANED = {
    "enquiry.title": "Total Place",
    "enquiry.introduction": "One\ntwo",
    "event.title": "Bid and pilot",
    "event.venue": "Town Hall",
    "event.description": "Come[0m\tin\nplease",
    "invitation.name": "Ann Example",
    "rsvp.access_needs": "Ramp\nplease",
    "subscriber.name": "Ada Lovelace",
    "subscriber.role": "R D",
}


def test_control_characters_stored_earlier_are_cleaned_on_sqlite(tmp_path: Path) -> None:
    # Stored, they answered every yes to the event, and every invitation send, with a 500.
    assert _seed_control_characters_and_upgrade(f"sqlite:///{tmp_path / 'clean.db'}") == CLEANED


@pytest.mark.postgres_only
def test_control_characters_stored_earlier_are_cleaned_on_postgresql() -> None:
    from config import normalise_database_url

    url = sa.engine.make_url(normalise_database_url(os.environ["TEST_DATABASE_URL"]))
    name = f"placeevents_clean_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        scratch = url.set(database=name).render_as_string(hide_password=False)
        assert _seed_control_characters_and_upgrade(scratch) == CLEANED
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_the_flask_command_works_on_a_scratch_database_with_no_settings(tmp_path: Path) -> None:
    # A newcomer's `flask db upgrade` / `flask db check` need no environment beyond the URL.
    env = {k: v for k, v in os.environ.items() if k not in ("PLACEEVENTS_ENV", "SECRET_KEY")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'scratch.db'}", FLASK_APP="placeevents")
    for args in (["db", "upgrade"], ["db", "check"]):
        done = subprocess.run(
            [sys.executable, "-m", "flask", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, done.stderr


def test_wsgi_defaults_to_production_and_refuses_the_default_secret_key() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PLACEEVENTS_ENV", "SECRET_KEY")}
    done = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode != 0 and "set SECRET_KEY" in done.stderr
    env["SECRET_KEY"] = "a real secret"
    done = subprocess.run(
        [sys.executable, "-c", "import wsgi; print(wsgi.app.config['PLACEEVENTS_ENV'])"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0 and done.stdout.strip() == "production", done.stderr
