"""Benchmark: the pages a crowd reaches, under load, against a bare Flask hello-world served
the same way in the same run (machines are noisy; the ratio is the figure).

Seeds a temporary SQLite database with the demo enquiry (or the PostgreSQL database given with
--database, which it empties first), serves the app and benchmarks/hello.py each with gunicorn
(2 sync workers), and loads each page with wrk (-t2 -c16) or, where wrk is not installed, a
Python generator with keep-alive connections. Prints req/s, p50 and p99 latency, errors and
each page's ratio to hello-world, measured again just before each page (a busy machine drifts
over a run; the pair measured together drifts alike).

    .venv/bin/python benchmarks/pages.py [--seconds 10] [--database URL] [--only NAME]

Targets: token RSVP page, public event page and home page at 40 % of hello-world or more; the
feed's 304 at 80 %; the full feed at 40 %.

The token RSVP page is measured twice: one link opened again and again (as mail scanners,
reloads and a second look from the mail do; the process gives the page it kept while nothing
on it has changed), and PEOPLE links opened in turn, so every view is built afresh (a crowd's
first views).
"""

import argparse
import http.client
import itertools
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.serve import seeding_app, serve, server_env, stop  # noqa: E402
from placeevents.extensions import db  # noqa: E402

CONNECTIONS = 16
THREADS = 2
# People with an invitation to the measured event: their RSVP pages are loaded in turn, each
# connection from its own place in the list, so a page comes round again only after more
# others than a process keeps (caching.KEPT_PERSONAL_PAGES): every view is built afresh.
PEOPLE = 5000

# A page's path, or several loaded in turn.
Path_ = str | list[str]


@dataclass
class Figures:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int


# Requests the paths in turn, each thread from its own place in the list.
_ROTATE = """
paths = {%s}
counter = 0
setup = function(thread) thread:set("offset", counter * %d); counter = counter + 1 end
init = function() i = offset or 0 end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


def _wrk(port: int, path: Path_, seconds: int, headers: dict[str, str]) -> Figures:
    args = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if isinstance(path, list):
            script.write(_ROTATE % (", ".join(f'"{p}"' for p in path), len(path) // THREADS))
            script.flush()
            args += ["-s", script.name]
            path = path[0]
        output = subprocess.run(
            [*args, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
        ).stdout

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                          output):
        errors += sum(int(g) for g in match.groups())
    return Figures(rate, latency("50"), latency("99"), errors)


def _python_load(port: int, path: Path_, seconds: int, headers: dict[str, str]) -> Figures:
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    paths = path if isinstance(path, list) else [path]

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        mine: list[float] = []
        turn = itertools.cycle(paths[offset % len(paths):] + paths[:offset % len(paths)])
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                connection.request("GET", next(turn), headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status >= 400:
                    errors[0] += 1
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                connection = http.client.HTTPConnection("127.0.0.1", port)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    workers = [
        threading.Thread(target=client, args=(n * len(paths) // CONNECTIONS,))
        for n in range(CONNECTIONS)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return Figures(len(latencies) / elapsed, cuts[49] * 1000, cuts[98] * 1000, errors[0])


def load(port: int, path: Path_, seconds: int, headers: dict[str, str] | None = None) -> Figures:
    run = _wrk if shutil.which("wrk") else _python_load
    return run(port, path, seconds, headers or {})


def seed(database: str, replace: bool) -> dict[str, Path_]:
    """Load the demo enquiry, and PEOPLE more invitations to its last event; return the paths
    to measure."""
    app = seeding_app(database, replace=replace)
    with app.app_context():
        from placeevents.demo import load_demo
        from placeevents.events.models import Event, EventAccess, EventStatus
        from placeevents.invitations.links import rsvp_token
        from placeevents.invitations.models import Invitation, InvitationSource

        enquiry = load_demo()
        db.session.commit()
        event = db.session.scalars(
            db.select(Event)
            .where(Event.enquiry_id == enquiry.id, Event.status == EventStatus.PUBLISHED)
            .order_by(Event.starts_at.desc())
        ).first()
        invitation = db.session.scalars(
            db.select(Invitation).where(Invitation.event_id == event.id)
        ).first()
        crowd = [
            Invitation(
                event_id=event.id,
                email=f"person{n}@example.org",
                name=f"Person {n}",
                source=InvitationSource.PASTED,
            )
            for n in range(PEOPLE)
        ]
        db.session.add_all(crowd)
        db.session.commit()
        # An event open to registration also shows its "Request a place" form.
        open_event = db.session.scalars(
            db.select(Event)
            .where(
                Event.enquiry_id == enquiry.id,
                Event.status == EventStatus.PUBLISHED,
                Event.access == EventAccess.OPEN,
            )
            .order_by(Event.starts_at.desc())
        ).first()
        paths: dict[str, Path_] = {
            "token RSVP page": f"/rsvp/{rsvp_token(invitation)}",
            f"RSVP pages, {PEOPLE:,} links": [
                f"/rsvp/{rsvp_token(person)}" for person in crowd
            ],
            "public event page": f"/events/{event.slug}",
        }
        if open_event is not None:
            paths["open event page"] = f"/events/{open_event.slug}"
        return paths | {
            "home page": "/",
            "learning page": f"/enquiries/{enquiry.slug}/learning",
            "feed (full)": f"/enquiries/{enquiry.slug}/calendar.ics",
            "privacy (no queries)": "/privacy",
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--database", help="a PostgreSQL URL to use (its tables are replaced)")
    parser.add_argument("--only", help="measure only the pages whose names contain this")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        database = args.database or f"sqlite:///{tmp}/benchmark.db"
        paths = seed(database, replace=bool(args.database))
        if args.only:
            paths = {name: path for name, path in paths.items() if args.only in name}
        env = server_env(database)
        app_server, app_port = serve("wsgi:app", env)
        hello_server, hello_port = serve("benchmarks.hello:app", env)
        try:
            load(hello_port, "/", 2)  # warm both up
            for name, path in paths.items():
                connection = http.client.HTTPConnection("127.0.0.1", app_port)
                connection.request("GET", path[0] if isinstance(path, list) else path)
                status = connection.getresponse().status
                if status != 200:
                    raise SystemExit(f"{name} ({path}) answered {status}")
                load(app_port, path, 1)
            print(f"generator: {'wrk' if shutil.which('wrk') else 'python'}, "
                  f"{CONNECTIONS} connections, {args.seconds} s per page, "
                  f"database: {database.split(':', 1)[0]}")
            print("Each page is measured right after hello-world, and its ratio is to that run:")
            print("the machine's own drift during the benchmark moves both alike.")
            print(f"{'page':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
                  f"{'hello/s':>9}{'ratio':>8}")

            def measure(name: str, path: Path_, headers: dict[str, str] | None = None) -> None:
                ceiling = load(hello_port, "/", args.seconds)
                figures = load(app_port, path, args.seconds, headers)
                print(f"{name:<26}{figures.rate:>9.0f}{figures.p50_ms:>9.1f}"
                      f"{figures.p99_ms:>9.1f}{figures.errors:>8}"
                      f"{ceiling.rate:>9.0f}{figures.rate / ceiling.rate:>8.0%}")

            for name, path in paths.items():
                measure(name, path)
            feed = paths.get("feed (full)")
            if not isinstance(feed, str):
                return
            connection = http.client.HTTPConnection("127.0.0.1", app_port)
            connection.request("GET", feed)
            response = connection.getresponse()
            response.read()
            etag = response.getheader("ETag") or ""
            measure("feed (304)", feed, {"If-None-Match": etag})
        finally:
            stop(app_server, hello_server)


if __name__ == "__main__":
    main()
