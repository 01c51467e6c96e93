"""The app as it is deployed, on free loopback ports: gunicorn, `flask worker`, PostgreSQL,
Redis, and an SMTP server that misbehaves as real ones do.

Every test here carries the `system` mark: it runs on PostgreSQL only (deselected on SQLite
runs, like `postgres_only`), and under CI=true a missing service fails instead of skipping.
Processes import this checkout's code (cwd and PYTHONPATH), and are ended by their own id.
"""

import asyncio
import email.parser
import email.policy
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import alembic.config
import alembic.script
import pytest
import sqlalchemy as sa

from tests.conftest import Delivered, FreePortController, require_tool
from tests.test_system.browser import Browser, StatusLog

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "system-test-secret-key"
ORGANISER_EMAIL = "organiser@example.org"
ORGANISER_PASSWORD = "a long organiser password"


def wait_until(check: Callable[[], Any], seconds: float, what: str, pause: float = 0.05) -> Any:
    """Poll `check` until it returns something true; fail saying `what` never happened."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds} s")
        time.sleep(pause)


# --- PostgreSQL


def _head_revision() -> str:
    config = alembic.config.Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    head = alembic.script.ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def _tables(conn: sa.Connection) -> list[str]:
    query = sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    quote = conn.dialect.identifier_preparer.quote
    return [quote(name) for name in conn.scalars(query)]


def empty_database(url: str) -> None:
    """Drop every table: the database is as `CREATE DATABASE` left it."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tables = _tables(conn)
        if tables:
            conn.exec_driver_sql(f"DROP TABLE {', '.join(tables)} CASCADE")
    engine.dispose()


def newest_and_empty(url: str) -> None:
    """Bring the database to the newest revision through the migrations, with no rows."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        versioned = conn.scalar(sa.text("SELECT to_regclass('alembic_version')")) is not None
        query = sa.text("SELECT version_num FROM alembic_version")
        revisions = conn.scalars(query).all() if versioned else []
    if revisions != [_head_revision()]:
        # Made by the other tests' create_all, or left part-way by a failed migrations test.
        empty_database(url)
        flask(url, "db", "upgrade")
    with engine.begin() as conn:
        # The schema's own rows stay: its revision, and the public pages' version.
        tables = [t for t in _tables(conn) if t not in {"alembic_version", "public_version"}]
        conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture
def postgres(database_url: str | None) -> str:
    """The session's PostgreSQL database (tests/conftest.py makes one per session)."""
    require_tool(database_url is not None, "PostgreSQL (TEST_DATABASE_URL)")
    assert database_url is not None
    return database_url


@pytest.fixture
def migrated(postgres: str) -> Iterator[str]:
    """The database at the newest revision, as `flask db upgrade` leaves it, with no rows; it
    is left so for the next test (the schema equals the models, which other tests expect)."""
    newest_and_empty(postgres)
    yield postgres
    newest_and_empty(postgres)


@pytest.fixture
def engine(migrated: str) -> Iterator[sa.Engine]:
    """An engine of the test's own on that database, for set-up and for checking rows."""
    made = sa.create_engine(migrated)
    yield made
    made.dispose()


def flask_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a `flask` or gunicorn process on this checkout and database."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FLASK_APP": "placeevents",
        "PLACEEVENTS_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": database_url,
        **settings,
    }


def flask(database_url: str, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run one `flask` command to its end; fail with its output if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=flask_env(database_url, **settings),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"flask {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


# --- Redis


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database for rate limits, claimed for this test and emptied of limits."""
    try:
        import redis
    except ImportError:
        require_tool(False, "the redis package (pip install '.[redis]')")
    marker = "placeevents:system-test"
    client: Any = None
    try:
        for number in range(15, 0, -1):
            client = redis.Redis(host="127.0.0.1", port=6379, db=number, socket_timeout=5)
            # A database no other run of these tests holds; the marker lapses if we die.
            if client.set(marker, os.getpid(), nx=True, ex=600):
                break
            client.close()
        else:
            pytest.fail("every Redis database 1-15 is claimed by another test run")
    except redis.ConnectionError as exc:
        require_tool(False, f"Redis at 127.0.0.1:6379 ({exc})")

    def forget_limits() -> None:
        for key in client.scan_iter("LIMITS*"):
            client.delete(key)

    forget_limits()
    yield f"redis://127.0.0.1:6379/{number}"
    forget_limits()
    client.delete(marker)
    client.close()


# --- SMTP


def message_id_of(raw: bytes) -> str:
    headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
    return str(headers["Message-ID"])


@dataclass
class UnreliableHandler:
    """An SMTP server with a real one's bad days, decided by each message's Message-ID.

    On a message's first attempt only: one in `refuse_every` is refused with 451, one in
    `busy_every` gets 421 (and smtplib drops the connection), one in `slow_every` is accepted
    after `slow_seconds`. The `drop_at`th DATA of the run is accepted and the connection cut
    before the reply, so the sender never hears of it. The `hold_at`th DATA is accepted, then
    held until `release` is set (the moment to kill a worker).
    """

    refuse_every: int = 0
    busy_every: int = 0
    slow_every: int = 0
    slow_seconds: float = 0.3
    drop_at: int | None = None
    hold_at: int | None = None
    received: list[Delivered] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    # What the server did: "451", "421", "slow", "lost reply", "held".
    events: Counter[str] = field(default_factory=Counter)
    lost_replies: set[str] = field(default_factory=set)
    data_calls: int = 0
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _chosen(self, message_id: str, every: int, salt: bytes) -> bool:
        return every > 0 and zlib.crc32(salt + message_id.encode()) % every == 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content
        message_id = message_id_of(raw)
        with self.lock:
            self.data_calls += 1
            call = self.data_calls
            self.attempts[message_id] += 1
            first = self.attempts[message_id] == 1
        delivered = Delivered(envelope.mail_from, list(envelope.rcpt_tos), raw)
        if call == self.drop_at:
            self._accept(delivered, "lost reply")
            server.transport.close()
            return "250 Accepted, but the reply never arrives"
        if call == self.hold_at:
            self._accept(delivered, "held")
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
            return "250 Accepted after a long pause"
        if first and self._chosen(message_id, self.refuse_every, b"451"):
            self._note("451")
            return "451 4.3.0 Mailbox busy, try again later"
        if first and self._chosen(message_id, self.busy_every, b"421"):
            self._note("421")
            return "421 4.7.0 Too many connections, closing"
        if first and self._chosen(message_id, self.slow_every, b"slow"):
            self._note("slow")
            await asyncio.sleep(self.slow_seconds)
        self._accept(delivered)
        return "250 Message accepted"

    def _note(self, what: str) -> None:
        with self.lock:
            self.events[what] += 1

    def _accept(self, delivered: Delivered, lost: str = "") -> None:
        with self.lock:
            self.received.append(delivered)
            if lost:
                # Taken, but the sender cannot know it: it may well send the message again.
                self.events[lost] += 1
                self.lost_replies.add(delivered.message_id)

    def message_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(d.message_id for d in self.received)

    def to(self, address: str) -> list[Delivered]:
        with self.lock:
            return [d for d in self.received if address in d.rcpt_tos]


@dataclass
class SMTPServer:
    host: str
    port: int
    handler: UnreliableHandler

    def settings(self) -> dict[str, str]:
        return {"MAIL_SERVER": self.host, "MAIL_PORT": str(self.port)}

    def wait_for_link(self, address: str, prefix: str, seconds: float = 120) -> str:
        """The first link starting with `prefix` in a mail delivered to this address."""

        def link() -> str | None:
            for delivered in self.handler.to(address):
                for found in delivered.links():
                    if found.startswith(prefix):
                        return found
            return None

        return str(wait_until(link, seconds, f"a mail to {address} linking to {prefix}", 0.1))


@pytest.fixture
def unreliable_smtp() -> Iterator[Callable[..., SMTPServer]]:
    """Start SMTP servers that misbehave as told, on free loopback ports."""
    controllers: list[FreePortController] = []

    def start(**behaviour: Any) -> SMTPServer:
        handler = UnreliableHandler(**behaviour)
        controller = FreePortController(handler, hostname="127.0.0.1", port=0)
        controller.start()
        controllers.append(controller)
        return SMTPServer("127.0.0.1", controller.port, handler)

    yield start
    for controller in controllers:
        controller.handler.release.set()
        controller.stop()


# --- processes


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    stop_signal: int = signal.SIGTERM

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Processes:
    """The processes a test starts, each logging to a file; all ended after the test."""

    directory: Path
    started: list[Process] = field(default_factory=list)

    def start(self, name: str, args: list[str], env: dict[str, str],
              pass_fds: tuple[int, ...] = ()) -> Process:
        log = self.directory / f"{name}-{len(self.started)}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, pass_fds=pass_fds,
            )
        process = Process(name, popen, log)
        self.started.append(process)
        return process

    def worker(self, database_url: str, **settings: str) -> Process:
        """A `flask worker` process."""
        return self.start(
            "worker", [sys.executable, "-m", "flask", "worker"], flask_env(database_url, **settings)
        )

    def gunicorn(self, database_url: str, *, workers: int = 3, **settings: str) -> "Web":
        """gunicorn serving wsgi:app with sync workers on a free port, each worker ready."""
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(256)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        env = flask_env(database_url, PLACEEVENTS_BASE_URL=url, **settings)
        args = [
            sys.executable, "-m", "gunicorn", "wsgi:app", "--workers", str(workers),
            "--worker-class", "sync", "--bind", f"fd://{listener.fileno()}",
            "--graceful-timeout", "5", "--access-logfile", "-", "--access-logformat",
            ACCESS_LOG_FORMAT,
        ]
        # The socket is bound before gunicorn starts, so the port is known and never raced for.
        process = self.start("gunicorn", args, env, pass_fds=(listener.fileno(),))
        process.stop_signal = signal.SIGINT  # a quick shutdown: the test has had its answers
        listener.close()
        web = Web(url, process)

        def every_worker_answered() -> bool:
            assert process.popen.poll() is None, process.output()
            with ThreadPoolExecutor(max_workers=2 * workers) as pool:
                list(pool.map(lambda _: _answers(url), range(2 * workers)))
            return len({pid for pid, _ in web.served("GET", "/privacy")}) >= workers

        # A worker logs its boot before it loads the app: ask until each one has answered.
        wait_until(every_worker_answered, 90, "every gunicorn worker answering", 0.2)
        return web

    def stop_all(self) -> None:
        for process in reversed(self.started):
            if process.popen.poll() is None:
                process.popen.send_signal(process.stop_signal)
        for process in reversed(self.started):
            try:
                process.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait(timeout=10)

    def tracebacks(self) -> list[str]:
        """The logs of processes that logged an exception."""
        return [p.output() for p in self.started if "Traceback" in p.output()]


# Each request as "<worker pid> METHOD path status", so a test can tell which worker served it.
ACCESS_LOG_FORMAT = "%(p)s %(m)s %(U)s %(s)s"


@dataclass
class Web:
    """A running gunicorn: its address and its process."""

    url: str
    process: Process

    def served(self, method: str, path: str) -> list[tuple[str, int]]:
        """(worker pid, status) of each request for this path, from the access log."""
        line = rf"^<(\d+)> {re.escape(method)} {re.escape(path)} (\d{{3}})$"
        return [(pid, int(status)) for pid, status in re.findall(line, self.process.output(), re.M)]


def _answers(url: str) -> bool:
    try:
        return Browser(url, StatusLog(), timeout=30).get("/privacy").status == 200
    except OSError:
        return False  # still starting, or too busy to answer yet


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture
def status_log() -> StatusLog:
    return StatusLog()
