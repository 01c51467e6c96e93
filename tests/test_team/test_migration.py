"""Revision 0007_team on a database that already has organisers: every one becomes an admin."""

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]


def _flask(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "PLACEEVENTS_ENV": "development"}
    env["FLASK_APP"] = "placeevents"
    done = subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_existing_organisers_become_admins_and_come_back_on_downgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'team.db'}"
    _flask(url, "db", "upgrade", "0005")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for n, active in ((1, True), (2, False)):
            conn.execute(
                sa.text(
                    "INSERT INTO organiser (email, name, password_hash, session_token, active,"
                    " created_at) VALUES (:email, :name, 'scrypt:1024:8:1$x$y', :token, :active,"
                    " '2026-11-01 09:00:00')"
                ),
                {"email": f"o{n}@example.org", "name": f"O{n}", "token": f"t{n}", "active": active},
            )
    _flask(url, "db", "upgrade", "0007_team")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT email, role FROM organiser ORDER BY id")).all()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("organiser")}
    assert [tuple(r) for r in rows] == [("o1@example.org", "admin"), ("o2@example.org", "admin")]
    assert "session_token" not in columns
    _flask(url, "db", "downgrade", "0005")
    with engine.connect() as conn:
        tokens = conn.execute(sa.text("SELECT session_token FROM organiser")).scalars().all()
    assert len(tokens) == 2 and all(tokens) and len(set(tokens)) == 2
    engine.dispose()
