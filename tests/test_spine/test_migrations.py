"""Migrations from empty to head equal the models, on SQLite and on PostgreSQL."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

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
