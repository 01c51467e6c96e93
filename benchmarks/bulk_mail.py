"""Benchmark: 2,000 invitations queued, then delivered to a local SMTP server by `flask outbox
send` (one process, then three at once), against raw smtplib sending the same bytes over one
connection: the ceiling the outbox is measured against, in the same run.

Seeds a temporary SQLite database (or the PostgreSQL database given with --database, which it
empties first; three workers are only meaningful there), invites every subscriber to one event
as an organiser would, and prints, for queueing and for each way of delivering, the time taken,
messages per second and the ratio to raw smtplib; and how many single-row commits the
database makes per second one after another, the ceiling that committing each message as
it is sent puts on one worker.

    .venv/bin/python benchmarks/bulk_mail.py [--invitations 2000] [--database URL]

Target: delivery at 50 % of raw smtplib or better, each message delivered exactly once.
"""

import argparse
import os
import smtplib
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.local_smtp import CountingHandler, FreePortController  # noqa: E402
from placeevents import create_app  # noqa: E402
from placeevents.auth.models import Organiser  # noqa: E402
from placeevents.enquiries.models import Enquiry  # noqa: E402
from placeevents.events.models import Event, EventFormat, EventStatus  # noqa: E402
from placeevents.extensions import db  # noqa: E402
from placeevents.invitations import sending  # noqa: E402
from placeevents.mail.models import OutboxMessage, OutboxStatus  # noqa: E402
from placeevents.newsletter.models import Subscriber  # noqa: E402

BODY = """We would love you to join the next exploration of Total Place 2.0: what would it take
to shift place-based approaches from the margins to the mainstream?

Tell us whether you can come with the buttons below."""


def seed(count: int) -> Event:
    now = datetime.now(UTC)
    db.session.execute(
        sa.insert(Subscriber),
        [
            {
                "email": f"guest{n:05d}@example.org",
                "name": f"Guest {n:05d}",
                "status": "confirmed",
                "token_nonce": f"{n:032x}",
                "confirmed_at": now,
            }
            for n in range(count)
        ],
    )
    enquiry = Enquiry(slug="total-place-2", title="Total Place 2.0")
    starts = now.replace(microsecond=0) + timedelta(days=30)
    event = Event(
        enquiry=enquiry, slug="exploration", title="Breaking the cycle of bid and pilot",
        format=EventFormat.ONLINE, join_url="https://meet.example.org/tp2",
        starts_at=starts, ends_at=starts + timedelta(hours=2), status=EventStatus.PUBLISHED,
    )
    db.session.add(event)
    db.session.commit()
    return event


def reset_outbox() -> None:
    db.session.execute(
        sa.update(OutboxMessage).values(
            status=OutboxStatus.PENDING, attempts=0, sent_at=None, claimed_by=None,
            claimed_until=None, next_attempt_at=datetime.now(UTC) - timedelta(seconds=1),
        )
    )
    db.session.commit()


def outbox_send(processes: int, env: dict[str, str]) -> float:
    """Run `flask outbox send` in `processes` processes at once until nothing is due."""
    started = time.perf_counter()
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "outbox", "send"], env=env, cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        for _ in range(processes)
    ]
    for process in running:
        output = process.communicate()[0].decode()
        if process.returncode:
            raise SystemExit(f"outbox send failed:\n{output}")
    return time.perf_counter() - started


def raw_smtplib(port: int, messages: list[tuple[str, list[str], bytes]]) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, recipients, raw in messages:
            smtp.sendmail(sender, recipients, raw)
    return time.perf_counter() - started


def commits_per_second(count: int = 500) -> float:
    """Single-row UPDATEs committed one at a time, as a worker records each message sent: what
    that promise alone allows one worker, whatever the mail server's speed."""
    table = OutboxMessage.__table__
    db.session.commit()  # the session's transaction holds SQLite's write lock
    with db.engine.connect() as connection:
        first = connection.scalar(sa.select(sa.func.min(table.c.id)))
        connection.commit()
        started = time.perf_counter()
        for n in range(count):
            connection.execute(
                sa.update(table).where(table.c.id == first).values(last_error=str(n))
            )
            connection.commit()
        return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitations", type=int, default=2000)
    parser.add_argument("--database", help="a PostgreSQL URL to use (its tables are replaced)")
    args = parser.parse_args()
    count = args.invitations

    handler = CountingHandler()
    controller = FreePortController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            database = args.database or f"sqlite:///{tmp}/benchmark.db"
            settings = {
                "PLACEEVENTS_ENV": "production-like",
                "SECRET_KEY": "benchmark",
                "DATABASE_URL": database,
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": str(controller.port),
                "MAIL_BATCH_SIZE": "200",
                "PLACEEVENTS_BASE_URL": "https://events.example.org",
            }
            app = create_app(
                {
                    "PLACEEVENTS_ENV": "testing",
                    "SQLALCHEMY_DATABASE_URI": database,
                    "PLACEEVENTS_BASE_URL": settings["PLACEEVENTS_BASE_URL"],
                    "MAIL_SERVER": "127.0.0.1",
                    "MAIL_PORT": controller.port,
                }
            )
            env = {**os.environ, **settings, "FLASK_APP": "placeevents",
                   "PLACEEVENTS_ENV": "development"}
            with app.app_context():
                if args.database:
                    db.drop_all()
                db.create_all()
                event = seed(count)
                organiser = Organiser(
                    email="organiser@example.org", name="Olive Organiser", password_hash="-"
                )
                db.session.add(organiser)
                db.session.commit()

                started = time.perf_counter()
                sending.send_invitations(
                    event=event,
                    choice=sending.RecipientChoice(subscribers="all"),
                    subject="You're invited: Breaking the cycle of bid and pilot",
                    body=BODY,
                    organiser=organiser,
                )
                db.session.commit()
                queueing = time.perf_counter() - started
                rows = db.session.execute(
                    sa.select(OutboxMessage.sender, OutboxMessage.recipients, OutboxMessage.raw)
                ).all()
                messages = [(s, r.split("\n"), raw) for s, r, raw in rows]
                size = sum(len(m[2]) for m in messages) / len(messages)
                print(f"database:            {db.engine.dialect.name}")
                print(f"invitations queued:  {len(messages)} in {queueing:.2f} s "
                      f"({len(messages) / queueing:.0f}/s), {size / 1024:.1f} KiB each")

                ceiling = raw_smtplib(controller.port, messages)
                handler.clear()
                print(f"raw smtplib:         {len(messages) / ceiling:.0f} messages/s "
                      f"({ceiling:.2f} s, one connection)")

                commits = commits_per_second()
                print(f"commits one at a time: {commits:.0f}/s (one per message sent, alone)")

                runs = [1] if db.engine.dialect.name == "sqlite" else [1, 3]
                for processes in runs:
                    reset_outbox()
                    handler.clear()
                    with_start_up = outbox_send(processes, env)
                    once = len(handler.received) == count and set(handler.received.values()) == {1}
                    # From the first message to the last: the processes' start-up left out.
                    rate = len(messages) / handler.seconds
                    print(f"outbox send x{processes}:     {rate:.0f} messages/s "
                          f"({handler.seconds:.2f} s; {with_start_up:.2f} s with start-up); "
                          f"{rate / (len(messages) / ceiling):.0%} of raw smtplib; "
                          f"each exactly once: {once}")
                if args.database:
                    db.drop_all()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
