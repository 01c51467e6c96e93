"""Benchmark: export 20,000 RSVPs as CSV and XLSX through the app.

Seeds a temporary SQLite database, exports through the test client (logged in as an organiser)
and prints, for each format: time, peak memory growth (tracemalloc), SQL query count, and for
CSV the ratio of its time to writing the same rows with a bare csv.writer from one query.

    .venv/bin/python benchmarks/export_attendees.py [--people 20000]

Targets: CSV peak growth under 30 MB, the same query count for 10 and 20,000 people, ratio < 3.
"""

import argparse
import csv
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from placeevents import create_app  # noqa: E402
from placeevents.auth.services import create_organiser  # noqa: E402
from placeevents.enquiries.models import Enquiry  # noqa: E402
from placeevents.events.models import Event, EventFormat, EventStatus  # noqa: E402
from placeevents.exports.rows import COLUMNS  # noqa: E402
from placeevents.extensions import db  # noqa: E402
from placeevents.invitations.models import Invitation, Rsvp  # noqa: E402

PASSWORD = "benchmark password"
ANSWERS = ["yes", "yes", "yes", "waitlisted", "maybe", "no", "offered"]
MB = 1024 * 1024
# What the export page's form posts: everyone, every column.
FORM = {"who": "everyone", "columns": list(COLUMNS)}


def seed(people: int) -> tuple[int, int]:
    """An enquiry with a large event of `people` RSVPs and a small one of 10; returns their ids."""
    enquiry = Enquiry(slug="benchmark", title="Benchmark enquiry")
    start = datetime(2024, 6, 4, 9, 30, tzinfo=UTC)
    events = [
        Event(
            enquiry=enquiry,
            slug=slug,
            title=slug.title(),
            format=EventFormat.IN_PERSON,
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            status=EventStatus.PUBLISHED,
        )
        for slug in ("large", "small")
    ]
    db.session.add_all([enquiry, *events])
    db.session.commit()
    for event, count in zip(events, (people, 10), strict=True):
        _seed_event(event.id, count, start)
    return events[0].id, events[1].id


def _seed_event(event_id: int, count: int, start: datetime) -> None:
    now = datetime.now(UTC)
    invitations = [
        {
            "event_id": event_id,
            "email": f"person{n}@example.org",
            "name": f"Person {n:05d}",
            "organisation": f"Organisation {n % 250}",
            "role": "Director of Place" if n % 2 else "=Officer",
            "source": "subscriber",
            "token_nonce": f"{n:032x}",
            "created_at": now,
        }
        for n in range(count)
    ]
    db.session.execute(sa.insert(Invitation), invitations)
    ids = db.session.scalars(
        sa.select(Invitation.id).where(Invitation.event_id == event_id).order_by(Invitation.id)
    ).all()
    rsvps = []
    for n, invitation_id in enumerate(ids):
        answer = ANSWERS[n % len(ANSWERS)]
        rsvps.append(
            {
                "invitation_id": invitation_id,
                "answer": answer,
                "mode": "in_person",
                "waitlisted_at": start - timedelta(minutes=n)
                if answer in ("waitlisted", "offered")
                else None,
                "access_needs": "Step-free access, please" if n % 5 == 0 else "",
                "dietary_needs": "Vegetarian" if n % 3 == 0 else "",
                "question": "How do we stop chasing the next pot of money?" if n % 4 == 0 else "",
                "answered_at": start - timedelta(days=10, minutes=n),
                "attended": n % 2 == 0,
                "updated_at": now,
            }
        )
    db.session.execute(sa.insert(Rsvp), rsvps)
    db.session.commit()


class QueryCounter:
    """Counts SQL statements run on the app's engine while active."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any) -> None:
        statement = args[2]
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
            self.count += 1


def export(client: Any, url: str) -> int:
    """Fetch a download through the app, reading the streamed body chunk by chunk."""
    response = client.post(url, data=FORM, buffered=False)
    assert response.status_code == 200, response.status_code
    size = 0
    for chunk in response.response:
        size += len(chunk)
    response.close()
    return size


def bare_csv(event_id: int, target: str) -> int:
    """The floor: one query over the same join, written with a plain csv.writer."""
    query = (
        sa.select(
            Invitation.name,
            Invitation.email,
            Invitation.organisation,
            Invitation.role,
            Rsvp.answer,
            Rsvp.mode,
            Rsvp.answered_at,
            Rsvp.waitlisted_at,
            Rsvp.access_needs,
            Rsvp.dietary_needs,
            Rsvp.question,
            Rsvp.attended,
        )
        .select_from(Invitation)
        .outerjoin(Rsvp)
        .where(Invitation.event_id == event_id)
    )
    rows = 0
    with open(target, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(list(COLUMNS.values()))
        for row in db.session.execute(query):
            writer.writerow(row)
            rows += 1
    db.session.rollback()
    return rows


def timed(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - started)
    return best, result


def peak_growth(func: Callable[[], Any]) -> float:
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - baseline) / MB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "PLACEEVENTS_ENV": "testing",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/benchmark.db",
                "WTF_CSRF_ENABLED": False,
            }
        )
        with app.app_context():
            db.create_all()
            create_organiser(email="bench@example.org", name="Bench", password=PASSWORD)
            db.session.commit()
            started = time.perf_counter()
            large, small = seed(args.people)
            print(f"seeded {args.people:,} RSVPs in {time.perf_counter() - started:.1f} s")
            engine = db.engine

        # Each request gets its own app context and session, as under a real server.
        client = app.test_client()
        login = client.post("/login", data={"email": "bench@example.org", "password": PASSWORD})
        assert login.status_code == 302, "login failed"

        def url(event_id: int, fmt: str) -> str:
            return f"/manage/exports/events/{event_id}/attendees.{fmt}"

        results = {}
        for fmt in ("csv", "xlsx"):
            queries = []
            for event_id in (small, large):
                counter = QueryCounter()
                sa.event.listen(engine, "before_cursor_execute", counter)
                export(client, url(event_id, fmt))
                sa.event.remove(engine, "before_cursor_execute", counter)
                queries.append(counter.count)
            seconds, size = timed(lambda f=fmt: export(client, url(large, f)), args.repeat)
            growth = peak_growth(lambda f=fmt: export(client, url(large, f)))
            results[fmt] = (seconds, growth, queries, size)

        with app.app_context():
            bare_seconds, rows = timed(lambda: bare_csv(large, os.devnull), args.repeat)

    print(f"\n{'':6} {'time':>8} {'peak growth':>12} {'queries':>10} {'size':>10}")
    for fmt, (seconds, growth, queries, size) in results.items():
        print(
            f"{fmt:6} {seconds:7.2f}s {growth:9.1f} MB {queries[0]:>4} / {queries[1]:<4}"
            f" {size / MB:7.1f} MB"
        )
    print(f"{'bare':6} {bare_seconds:7.2f}s  (csv.writer over one query, {rows:,} rows)")
    print(f"(queries: for an event of 10 people / of {args.people:,} people)")
    ratio = results["csv"][0] / bare_seconds
    print(f"\nCSV export time / bare csv.writer time: {ratio:.2f}")
    checks = {
        "CSV peak growth < 30 MB": results["csv"][1] < 30,
        "constant query count": all(q[0] == q[1] for _, _, q, _ in results.values()),
        "ratio < 3": ratio < 3,
    }
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'MISS'} {name}")


if __name__ == "__main__":
    main()
