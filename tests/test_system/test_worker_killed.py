"""A `flask worker` killed with SIGKILL in the middle of sending, and started again."""

import signal
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from placeevents import create_app
from placeevents.extensions import db
from placeevents.mail.outbox import build_message, enqueue
from tests.test_system.conftest import Processes, SMTPServer, wait_until

pytestmark = pytest.mark.system

QUEUED = 30
BATCH = 5


def _queue(database_url: str) -> list[str]:
    """Queue QUEUED messages as the app does (NOTIFY included); their Message-IDs."""
    app = create_app({"PLACEEVENTS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        rows = [
            enqueue(
                build_message(to=f"person{n}@example.org", subject=f"Message {n}", text="Hello."),
                kind="test",
            )
            for n in range(QUEUED)
        ]
        db.session.commit()
        ids = [row.message_id for row in rows]
        db.session.remove()
        db.engine.dispose()
    return ids


def test_a_worker_killed_mid_send_and_restarted_loses_nothing_and_repeats_one_message(
    migrated: str,
    engine: sa.Engine,
    processes: Processes,
    unreliable_smtp: Callable[..., SMTPServer],
) -> None:
    # The server takes the 8th message, then holds its reply: the worker is in mid-send.
    smtp = unreliable_smtp(hold_at=BATCH + 3)
    settings = {
        **smtp.settings(),
        "MAIL_BATCH_SIZE": str(BATCH),
        "MAIL_LEASE_SECONDS": "2",
        "MAIL_TIMEOUT": "5",
        "WORKER_POLL_SECONDS": "0.3",
    }
    queued = _queue(migrated)
    first = processes.worker(migrated, **settings)
    wait_until(smtp.handler.holding.is_set, 60, "the worker reaching the held message")
    first.popen.send_signal(signal.SIGKILL)
    first.popen.wait(timeout=10)
    smtp.handler.release.set()

    with engine.connect() as conn:
        statuses = sa.text("SELECT status, count(*) FROM outbox_message GROUP BY status")
        before = {status: count for status, count in conn.execute(statuses)}
    assert before == {"sent": BATCH + 2, "pending": QUEUED - BATCH - 2}

    processes.worker(migrated, **settings)

    def all_sent() -> bool:
        with engine.connect() as conn:
            return not conn.execute(
                sa.text("SELECT count(*) FROM outbox_message WHERE status <> 'sent'")
            ).scalar_one()

    wait_until(all_sent, 60, "every queued message sent by the restarted worker", 0.2)
    counts = smtp.handler.message_ids()
    assert set(counts) == set(queued)
    (held,) = smtp.handler.lost_replies
    assert counts[held] == 2  # the one whose acceptance the dead worker never heard
    assert all(n == 1 for message_id, n in counts.items() if message_id != held)
    assert processes.tracebacks() == []
