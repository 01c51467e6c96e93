"""What the load benchmarks share: a database to seed, the app's production environment, and
gunicorn serving a module on a free loopback port."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent

SECRET = "benchmark-secret-key"  # the seed signs the RSVP links the server then checks


def seeding_app(database: str, *, replace: bool) -> Flask:
    """An app on `database` with the schema created (its tables dropped first if `replace`)."""
    from placeevents import create_app
    from placeevents.extensions import db

    app = create_app(
        {"PLACEEVENTS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": SECRET}
    )
    with app.app_context():
        if replace:
            db.drop_all()
        db.create_all()
    return app


def server_env(database: str) -> dict[str, str]:
    """The environment of the served app: production, loopback exempt from rate limits."""
    return {
        **os.environ,
        "PLACEEVENTS_ENV": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database,
        "PLACEEVENTS_BASE_URL": "https://events.example.org",
        "RATELIMIT_EXEMPT_ADDRESSES": "127.0.0.1",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(
    module: str, env: dict[str, str], workers: int = 2
) -> tuple[subprocess.Popen[bytes], int]:
    """Start gunicorn (sync workers) on a free port; return the process and the port."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            module,
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"gunicorn did not start for {module}")


def stop(*servers: subprocess.Popen[bytes]) -> None:
    for server in servers:
        server.terminate()
        server.wait()
