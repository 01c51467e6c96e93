"""Benchmark: 1,000 RSVP answers to one event from 50 concurrent clients, through gunicorn.

Seeds a temporary SQLite database (or the PostgreSQL database given with --database, which it
empties first) with an enquiry, one in-person event with fewer places than yes answers (so the
last yeses go to the waiting list) and 1,000 invitations; serves the app with gunicorn (sync
workers, loopback exempt from rate limits by RATELIMIT_EXEMPT_ADDRESSES), and lets 50 clients
each answer its own share of the invitations as a browser would: open the RSVP page, post the
form's answer, follow the redirect. Prints answers per second, p50 and p99 of the answer (the
POST) and of the whole round (page, answer, redirect), and errors; then checks in the database
that exactly 1,000 answers exist and that places_taken equals the yes-in-person rows.

    .venv/bin/python benchmarks/answers.py [--database URL] [--workers 2] [--clients 50]

Target: no failure, answer p99 under 2 s on PostgreSQL.
"""

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.serve import seeding_app, serve, server_env, stop  # noqa: E402
from placeevents.enquiries.models import Enquiry  # noqa: E402
from placeevents.events.models import Event, EventFormat, EventStatus  # noqa: E402
from placeevents.extensions import db  # noqa: E402
from placeevents.invitations.links import rsvp_token  # noqa: E402
from placeevents.invitations.models import AttendanceMode, Invitation, Rsvp, RsvpAnswer  # noqa: E402
from placeevents.mail.models import OutboxMessage  # noqa: E402

ORIGIN = "https://events.example.org"


def chosen_answer(n: int) -> str:
    """Eight in ten say yes, one maybe, one no."""
    return {8: "maybe", 9: "no"}.get(n % 10, "yes")


def seed(database: str, *, replace: bool, invitations: int, capacity: int) -> dict[int, str]:
    """The enquiry, its event and the invitations; returns each invitation's RSVP path."""
    app = seeding_app(database, replace=replace)
    with app.app_context():
        enquiry = Enquiry(slug="load", title="Answers under load")
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
        event = Event(
            enquiry=enquiry,
            slug="crowded",
            title="A crowded evening",
            format=EventFormat.IN_PERSON,
            venue="The Guildhall",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            capacity=capacity,
            status=EventStatus.PUBLISHED,
            published_at=datetime.now(UTC),
        )
        db.session.add_all([enquiry, event])
        db.session.flush()
        now = datetime.now(UTC)
        db.session.execute(
            sa.insert(Invitation),
            [
                {
                    "event_id": event.id,
                    "email": f"person{n}@example.org",
                    "name": f"Person {n:04d}",
                    "source": "subscriber",
                    "token_nonce": f"{n:032x}",
                    "created_at": now,
                    "sent_at": now,
                }
                for n in range(invitations)
            ],
        )
        db.session.commit()
        rows = db.session.scalars(
            sa.select(Invitation).where(Invitation.event_id == event.id).order_by(Invitation.id)
        ).all()
        return {n: f"/rsvp/{rsvp_token(invitation)}" for n, invitation in enumerate(rows)}


class AnswerForm(HTMLParser):
    """The RSVP page's answer form: its action and the fields a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.buttons: set[str] = set()
        self._in_form = False
        self._found = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "rsvp__form" in a.get("class", "") and not self._found:
            self._in_form = self._found = True
            self.action = a.get("action")
        elif self._in_form and tag == "input" and a.get("name"):
            if a.get("type") not in ("radio", "checkbox") or "checked" in a:
                self.fields[a["name"]] = a.get("value", "")
        elif self._in_form and tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.fields[a["name"]] = ""
        elif self._in_form and tag == "button" and a.get("name") == "answer":
            self.buttons.add(a.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False


@dataclass
class Results:
    answer_seconds: list[float] = field(default_factory=list)
    round_seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Browser:
    """One client: a keep-alive connection (reopened when the server closes it) and a cookie."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str, str]:
        headers = {"User-Agent": "answers-benchmark", "Accept": "text/html"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = ORIGIN
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            raise
        if cookie := response.getheader("Set-Cookie"):
            self.cookie = cookie.split(";", 1)[0]
        return response.status, response.getheader("Location") or "", text


def answer_one(browser: Browser, n: int, path: str, results: Results) -> None:
    started = time.perf_counter()
    status, _, page = browser.request("GET", path)
    if status != 200:
        raise RuntimeError(f"RSVP page answered {status}")
    form = AnswerForm()
    form.feed(page)
    answer = chosen_answer(n)
    if form.action is None or answer not in form.buttons:
        raise RuntimeError("the RSVP page has no answer form")
    fields = dict(form.fields)
    if n % 5 == 0 and "access_needs" in fields:
        fields["access_needs"] = "Step-free access, please"
    fields["answer"] = answer
    posted = time.perf_counter()
    status, location, _ = browser.request("POST", form.action, urlencode(fields))
    answered = time.perf_counter()
    if status != 302:
        raise RuntimeError(f"the answer was refused with {status}")
    status, _, _ = browser.request("GET", location.removeprefix(ORIGIN))
    if status != 200:
        raise RuntimeError(f"the page after answering answered {status}")
    with results.lock:
        results.answer_seconds.append(answered - posted)
        results.round_seconds.append(time.perf_counter() - started)


def warm_up(port: int) -> None:
    """A few requests first, so each worker has loaded the app and its templates."""
    browser = Browser(port)
    for _ in range(10):
        browser.request("GET", "/events/crowded")


def run_clients(port: int, paths: dict[int, str], clients: int) -> tuple[Results, float]:
    results = Results()
    start = threading.Barrier(clients)

    def client(first: int) -> None:
        browser = Browser(port)
        start.wait()
        for n in range(first, len(paths), clients):
            try:
                answer_one(browser, n, paths[n], results)
            except Exception as exc:  # every failure is counted and shown
                with results.lock:
                    results.errors.append(f"invitation {n}: {exc}")

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


def check(database: str, capacity: int, invitations: int) -> bool:
    """Print what the database holds after the run; True if it is exactly right."""
    app = seeding_app(database, replace=False)
    with app.app_context():
        event = db.session.scalars(sa.select(Event).where(Event.slug == "crowded")).one()
        counts = dict(
            db.session.execute(
                sa.select(Rsvp.answer, sa.func.count())
                .join(Invitation)
                .where(Invitation.event_id == event.id)
                .group_by(Rsvp.answer)
            ).all()
        )
        holding = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Rsvp)
            .join(Invitation)
            .where(
                Invitation.event_id == event.id,
                Rsvp.answer.in_([RsvpAnswer.YES, RsvpAnswer.OFFERED]),
                Rsvp.mode == AttendanceMode.IN_PERSON,
            )
        )
        mail = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
        answers = sum(counts.values())
        yeses = sum(1 for n in range(invitations) if chosen_answer(n) == "yes")
        print(
            f"in the database:     {answers} answers ("
            + ", ".join(f"{answer.value} {count}" for answer, count in sorted(counts.items()))
            + f"); places_taken {event.places_taken} of {capacity}; "
            f"yes in person {holding}; {mail} messages in the outbox"
        )
        checks = {
            f"exactly {invitations} answers": answers == invitations,
            "places_taken equals the yes-in-person rows": event.places_taken == holding,
            "no place beyond capacity": event.places_taken <= capacity,
            "every yes beyond the places is on the waiting list": counts.get(
                RsvpAnswer.WAITLISTED, 0
            )
            == max(0, yeses - capacity),
        }
        for name, ok in checks.items():
            print(f"  {'ok  ' if ok else 'FAIL'} {name}")
        return all(checks.values())


def show(label: str, seconds: list[float]) -> None:
    if len(seconds) < 2:
        print(f"{label:<21}no figures")
        return
    cuts = statistics.quantiles(seconds, n=100)
    print(f"{label:<21}p50 {cuts[49] * 1000:6.0f} ms   p99 {cuts[98] * 1000:6.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a PostgreSQL URL to use (its tables are replaced)")
    parser.add_argument("--invitations", type=int, default=1000)
    parser.add_argument("--capacity", type=int, default=700)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        database = args.database or f"sqlite:///{tmp}/benchmark.db"
        paths = seed(
            database,
            replace=bool(args.database),
            invitations=args.invitations,
            capacity=args.capacity,
        )
        server, port = serve("wsgi:app", server_env(database), workers=args.workers)
        try:
            warm_up(port)
            load_before = os.getloadavg()[0]
            cpu_before = time.process_time()
            results, elapsed = run_clients(port, paths, args.clients)
            clients_cpu = time.process_time() - cpu_before
            load_after = os.getloadavg()[0]
        finally:
            stop(server)
        answered = len(results.answer_seconds)
        yeses = sum(1 for n in range(args.invitations) if chosen_answer(n) == "yes")
        print(
            f"database: {database.split(':', 1)[0]}, gunicorn {args.workers} sync workers, "
            f"{args.clients} clients, {args.invitations} invitations, "
            f"{args.capacity} places for {yeses} yeses"
        )
        print(
            f"load average {load_before:.1f} before, {load_after:.1f} after, "
            f"on {os.cpu_count()} cores; the clients used {clients_cpu:.1f} s of CPU"
        )
        print(f"answers:             {answered} in {elapsed:.1f} s, {answered / elapsed:.0f}/s")
        show("answer (POST):", results.answer_seconds)
        show("page+answer+page:", results.round_seconds)
        print(f"errors:              {len(results.errors)}")
        for error in results.errors[:10]:
            print(f"  {error}")
        right = check(database, args.capacity, args.invitations)
    if results.errors or not right:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
