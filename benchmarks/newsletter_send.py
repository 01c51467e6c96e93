"""Benchmark: queue a newsletter to 10,000 subscribers, then deliver it to a local SMTP server.

Seeds a temporary SQLite database (or the PostgreSQL database given with --database, which it
empties first), presses send, runs the send job's batches as the worker does, then delivers the
outbox over SMTP to an in-process aiosmtpd server. Prints, for queueing and for delivery, the
time taken and messages per second, with the longest single transaction of the queueing.

    .venv/bin/python benchmarks/newsletter_send.py [--subscribers 10000] [--database URL]

Targets: every subscriber queued exactly once; no queueing transaction longer than a few
seconds, whatever the list's size.
"""

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.local_smtp import CountingHandler, FreePortController  # noqa: E402
from placeevents import create_app  # noqa: E402
from placeevents.extensions import db  # noqa: E402
from placeevents.mail.delivery import deliver_due  # noqa: E402
from placeevents.news import services  # noqa: E402
from placeevents.newsletter.models import Subscriber  # noqa: E402

BODY = """## News from the enquiry

Our second exploration met in **Leeds**: thirty people from councils, health services and
community groups asked what it would take to stop chasing the next pot of money.

- Read [what we are learning](https://example.org/learning)
- Join us online in June
"""


def seed(count: int) -> None:
    """`count` confirmed subscribers who chose news, in one bulk insert."""
    now = datetime.now(UTC)
    db.session.execute(
        sa.insert(Subscriber),
        [
            {
                "email": f"reader{n:05d}@example.org",
                "name": f"Reader {n:05d}",
                "wants_news": True,
                "status": "confirmed",
                "token_nonce": f"{n:032x}",
                "confirmed_at": now,
            }
            for n in range(count)
        ],
    )
    db.session.commit()


def queue(newsletter_id: int) -> tuple[float, float, int]:
    """Run the send job's steps, committing per batch; (seconds, longest batch, batches)."""
    started = time.perf_counter()
    services.start_due()
    db.session.commit()
    token = services.new_claim_token()
    newsletter = services.claim_send(token=token)
    assert newsletter is not None and newsletter.id == newsletter_id
    db.session.commit()
    longest, batches = 0.0, 0
    while True:
        batch_started = time.perf_counter()
        more = services.queue_batch(newsletter=newsletter, token=token)
        db.session.commit()
        longest = max(longest, time.perf_counter() - batch_started)
        batches += 1
        if not more:
            break
    return time.perf_counter() - started, longest, batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--database", help="a PostgreSQL URL to use (its tables are replaced)")
    args = parser.parse_args()

    handler = CountingHandler()
    controller = FreePortController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = create_app(
                {
                    "PLACEEVENTS_ENV": "testing",
                    "SQLALCHEMY_DATABASE_URI": args.database or f"sqlite:///{tmp}/benchmark.db",
                    "MAIL_SERVER": "127.0.0.1",
                    "MAIL_PORT": controller.port,
                    "MAIL_BATCH_SIZE": 200,
                }
            )
            with app.app_context():
                if args.database:
                    db.drop_all()
                db.create_all()
                seed(args.subscribers)
                newsletter = services.create_newsletter(
                    data=services.NewsInput(subject="Spring news", body=BODY), organiser=None
                )
                services.send_now(newsletter=newsletter, organiser=None)
                db.session.commit()

                seconds, longest, batches = queue(newsletter.id)
                queued = newsletter.queued
                print(f"subscribers:        {args.subscribers}")
                print(f"queued:             {queued} messages in {batches} batches")
                print(f"queueing:           {seconds:.2f} s, {queued / seconds:.0f} messages/s")
                print(f"longest transaction: {longest:.2f} s (one batch of {services.BATCH_SIZE})")

                started = time.perf_counter()
                sent = 0
                while (report := deliver_due()).sent:
                    sent += report.sent
                seconds = time.perf_counter() - started
                print(f"delivery:           {sent} sent in {seconds:.2f} s, "
                      f"{sent / seconds:.0f} messages/s")
                once = len(handler.received) == args.subscribers and set(
                    handler.received.values()
                ) == {1}
                print(f"each subscriber exactly once: {once}")
                if args.database:
                    db.drop_all()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
