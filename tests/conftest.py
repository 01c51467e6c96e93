"""Fixtures and factories shared by every test folder.

- `app` is a fresh app per test on SQLite (a file under the test's tmp dir), or on PostgreSQL
  when TEST_DATABASE_URL is set (one database per test session, tables emptied after each test).
- `smtp` is a real SMTP server (aiosmtpd) on a free port; every app sends to it.
- Mail goes out as in production, from the outbox: a test client delivers what is due after
  each request it makes (standing in for the worker), and `live_server` runs a real worker
  (mail only: scheduled jobs follow the clock, which tests move).
- `live_server` serves the app from a thread; `page` is Debian's Chromium driven by Playwright.
- Under CI=true a test that needs a missing tool fails instead of skipping (`require_tool`).
"""

import email
import email.policy
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask, current_app, g, has_app_context
from flask.testing import FlaskClient
from itsdangerous import BadSignature
from werkzeug.serving import make_server

from placeevents import create_app, version_watch
from placeevents.extensions import db
from placeevents.mail.delivery import deliver_due
from placeevents.web import CookieSessions
from placeevents.worker import Worker

CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_tool(available: bool, what: str) -> None:
    """Skip when a tool is missing on a developer's machine; fail under CI=true."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is missing")
    pytest.skip(f"{what} is not available")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that drives Chromium without the browser mark stops the run; PostgreSQL-only
    and system tests are deselected (not skipped) on SQLite runs."""
    unmarked = [
        item.nodeid
        for item in items
        if "_browser" in getattr(item, "fixturenames", ())
        and item.get_closest_marker("browser") is None
    ]
    if unmarked:
        raise pytest.UsageError("mark with @pytest.mark.browser: " + ", ".join(unmarked))
    if os.environ.get("TEST_DATABASE_URL"):
        return
    keep = [item for item in items if not _postgres_only(item)]
    dropped = [item for item in items if _postgres_only(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def _postgres_only(item: pytest.Item) -> bool:
    # System runs need PostgreSQL too, and run once: on the PostgreSQL pass of `make test`.
    return any(item.get_closest_marker(mark) is not None for mark in ("postgres_only", "system"))


# --- SMTP


@dataclass
class Delivered:
    """One message as the SMTP server received it."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""

    def links(self) -> list[str]:
        """Every http(s) link in the text part, in order."""
        return re.findall(r"https?://[^\s<>\"')\]]+", self.text())


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that keeps every message; tests may set `reply` to misbehave."""

    received: list[Delivered] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.append(
                Delivered(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 Message accepted for delivery"


class FreePortController(Controller):
    """aiosmtpd's Controller on port 0: learn the bound port from the server socket."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SMTPServer:
    host: str
    port: int
    handler: RecordingHandler

    @property
    def messages(self) -> list[Delivered]:
        with self.handler.lock:
            return list(self.handler.received)

    def clear(self) -> None:
        with self.handler.lock:
            self.handler.received.clear()

    def to(self, address: str) -> list[Delivered]:
        return [m for m in self.messages if address.lower() in [r.lower() for r in m.rcpt_tos]]

    def last_to(self, address: str) -> Delivered:
        found = self.to(address)
        assert found, f"no mail was delivered to {address}"
        return found[-1]

    def wait_for(self, address: str, count: int = 1, seconds: float = 10) -> Delivered:
        """The `count`th mail to this address, once a worker in another thread has sent it."""
        deadline = time.monotonic() + seconds
        while len(found := self.to(address)) < count:
            assert time.monotonic() < deadline, f"mail {count} to {address} never arrived"
            time.sleep(0.02)
        return found[count - 1]


@pytest.fixture(scope="session")
def _smtp_controller() -> Iterator[SMTPServer]:
    handler = RecordingHandler()
    controller = FreePortController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    yield SMTPServer("127.0.0.1", controller.port, handler)
    controller.stop()


@pytest.fixture
def smtp(_smtp_controller: SMTPServer) -> SMTPServer:
    """The real SMTP server every test app delivers to, emptied for this test."""
    _smtp_controller.clear()
    return _smtp_controller


# --- the client


class DeliveringClient(FlaskClient):
    """A test client that, like the worker would, delivers due mail after each response.

    Responses are buffered, so each is complete before delivery; one asked for unbuffered is
    still streaming when `open` returns, so its request delivers nothing. A test that looks at
    the outbox as it stands with no worker running sets `delivering` to False.
    """

    delivering = True

    def open(self, *args: Any, buffered: bool = True, **kwargs: Any) -> Any:
        if has_app_context():
            # Requests run in the test's app context: the user one request signed in with is
            # not the next one's (in production each request has an app context of its own).
            g.pop("_login_user", None)
        response = super().open(*args, buffered=buffered, **kwargs)
        if not (self.delivering and buffered):
            return response
        if has_app_context() and current_app._get_current_object() is self.application:
            # The request ran on the test's session, which outlives it: roll back what it left
            # uncommitted, as its teardown would have, then deliver on that session (a second
            # one would wait on the SQLite write lock this one may hold).
            db.session.rollback()
            deliver_due()
        else:
            with self.application.app_context():
                deliver_due()
        return response


class ClockTolerantSessions(CookieSessions):
    """The session cookie, read whatever its age: tests move the clock, even back before the
    sign-in, and itsdangerous refuses a cookie signed "in the future". Sign-in sessions still
    expire, by their rows (placeevents.auth.sessions)."""

    def open_session(self, app: Flask, request: Any) -> Any:
        serializer = self.get_signing_serializer(app)
        value = request.cookies.get(self.get_cookie_name(app))
        if serializer is None or not value:
            return self.session_class()
        try:
            return self.session_class(serializer.loads(value))
        except BadSignature:
            return self.session_class()


# --- databases


def _postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """A PostgreSQL database for this test session, or None for SQLite per test."""
    base = _postgres_url()
    if base is None:
        yield None
        return
    from config import normalise_database_url

    base = normalise_database_url(base)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    url = sa.engine.make_url(base)
    name = f"{url.database}_placeevents_{worker}_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    yield url.set(database=name).render_as_string(hide_password=False)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


_schema_ready: set[str] = set()


@pytest.fixture
def make_app(
    database_url: str | None, tmp_path: Any, smtp: SMTPServer
) -> Iterator[Callable[..., Flask]]:
    """Build test apps with overrides; the schema is created once per database."""
    made: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        config: dict[str, Any] = {
            "PLACEEVENTS_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{tmp_path / 'test.db'}",
            "MAIL_SERVER": smtp.host,
            "MAIL_PORT": smtp.port,
            "WTF_CSRF_ENABLED": False,
        }
        config.update(overrides)
        app = create_app(config)
        app.test_client_class = DeliveringClient
        app.session_interface = ClockTolerantSessions()
        with app.app_context():
            key = app.config["SQLALCHEMY_DATABASE_URI"]
            if not key.startswith("postgresql"):
                db.create_all()
            elif key not in _schema_ready:
                db.drop_all()
                db.create_all()
                _schema_ready.add(key)
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
                _truncate_all()
            db.session.remove()
            db.engine.dispose()


def _truncate_all() -> None:
    db.session.remove()
    # The public pages' version is the schema's own row, not data: it stays (and only grows).
    tables = [t for t in db.metadata.sorted_tables if t.name != "public_version"]
    names = ", ".join(f'"{t.name}"' for t in tables)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    """A fresh app with an empty database and an app context pushed."""
    application = make_app()
    with application.app_context():
        yield application
        db.session.remove()


@pytest.fixture
def csrf_app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    """Like `app`, with CSRF protection on, as in production."""
    application = make_app(WTF_CSRF_ENABLED=True)
    with application.app_context():
        yield application
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block, on any engine (the app's, and the
    one the feed's polls are read on with PostgreSQL)."""
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
            statements.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", before)


VERSIONS_READ = "FROM public_version"


def beyond_the_versions(statements: list[str], reads: int = 1) -> list[str]:
    """The statements run beyond the reads of the pages' versions and the test client's mail
    check after each response. The versions are read `reads` times on SQLite (once per request,
    none while this process holds an uncommitted change); on PostgreSQL at most that often, as
    this process has heard them or not yet (version_watch.py), one more where the first read
    met a connection the server dropped."""
    found = [s for s in statements if VERSIONS_READ in s]
    if db.engine.dialect.name == "sqlite":
        assert len(found) == reads, found
    else:
        assert len(found) <= reads, found
    return [s for s in statements if VERSIONS_READ not in s and "outbox_message" not in s]


def terminate_idle_connections() -> list[Any]:
    """PostgreSQL drops this database's idle connections (as a server restart or an idle
    timeout would): the rows of pg_terminate_backend, one per connection dropped. Among them
    is the connection this process listens on for the pages' versions; this returns once the
    process has noticed it lost it (version_watch.py), as it would after a restart."""
    with db.engine.connect() as admin:
        rows = admin.exec_driver_sql(
            "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND application_name = '' AND state = 'idle'"
        ).all()
    dropped = {row.pid for row in rows}
    deadline = time.monotonic() + 5
    for watch in version_watch.watches_here():
        while watch.connected_pid in dropped and time.monotonic() < deadline:
            time.sleep(0.001)
        assert watch.connected_pid not in dropped
    return rows


# --- factories

ORGANISER_PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_organiser(app: Flask) -> Callable[..., Any]:
    """Organisers are admins unless `role` says otherwise, so they may do everything."""
    from placeevents.auth.models import Role
    from placeevents.auth.services import create_organiser

    counter = iter(range(1, 10_000))

    def factory(**kw: Any) -> Any:
        n = next(counter)
        organiser = create_organiser(
            email=kw.get("email", f"organiser{n}@example.org"),
            name=kw.get("name", f"Organiser {n}"),
            password=kw.get("password", ORGANISER_PASSWORD),
            role=Role(kw.get("role", Role.ADMIN)),
        )
        db.session.commit()
        return organiser

    return factory


@pytest.fixture
def organiser(make_organiser: Callable[..., Any]) -> Any:
    return make_organiser(email="organiser@example.org", name="Olive Organiser")


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, email: str = "organiser@example.org", password: str = ORGANISER_PASSWORD):  # type: ignore[no-untyped-def]
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):  # type: ignore[no-untyped-def]
        return self._client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def logged_in(client: FlaskClient, auth: AuthActions, organiser: Any) -> FlaskClient:
    """A test client with the organiser logged in."""
    response = auth.login()
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def make_enquiry(app: Flask) -> Callable[..., Any]:
    from placeevents.enquiries.models import Enquiry, EnquiryQuestion

    counter = iter(range(1, 10_000))

    def factory(**kw: Any) -> Any:
        n = next(counter)
        questions = kw.pop("questions", ["Bid and pilot", "National bodies", "Sharing learning"])
        enquiry = Enquiry(
            slug=kw.pop("slug", f"enquiry-{n}"),
            title=kw.pop("title", f"Enquiry {n}"),
            introduction=kw.pop("introduction", "An enquiry."),
            **kw,
        )
        enquiry.questions = [
            EnquiryQuestion(position=i, title=q, body="") for i, q in enumerate(questions, 1)
        ]
        db.session.add(enquiry)
        db.session.commit()
        return enquiry

    return factory


@pytest.fixture
def make_event(app: Flask, make_enquiry: Callable[..., Any]) -> Callable[..., Any]:
    from placeevents.events.models import Event, EventFormat, EventStatus

    counter = iter(range(1, 10_000))

    def factory(**kw: Any) -> Any:
        n = next(counter)
        if "enquiry" not in kw and "enquiry_id" not in kw:
            kw["enquiry"] = make_enquiry()
        starts_at = kw.pop(
            "starts_at", datetime.now(UTC).replace(microsecond=0) + timedelta(days=14)
        )
        event = Event(
            slug=kw.pop("slug", f"event-{n}"),
            title=kw.pop("title", f"Exploration {n}"),
            format=kw.pop("format", EventFormat.IN_PERSON),
            venue=kw.pop("venue", "Town Hall"),
            address=kw.pop("address", "1 High Street, Leeds"),
            starts_at=starts_at,
            ends_at=kw.pop("ends_at", starts_at + timedelta(hours=2)),
            status=kw.pop("status", EventStatus.PUBLISHED),
            **kw,
        )
        db.session.add(event)
        db.session.commit()
        return event

    return factory


# Answers to an event that has begun were given this long before its start (they close then).
ANSWERED_BEFORE_START = timedelta(days=7)


@pytest.fixture
def make_invitation(app: Flask, make_event: Callable[..., Any]) -> Callable[..., Any]:
    """Invite someone to `event` (a new one if none) and answer through the attendance module,
    so answers, the waiting list and `places_taken` agree as they do in the app.

    - yes, maybe, no, and `attended` (a yes checked in at the start) are recorded as
      `attendance.record_history` records them: no mail, no audit entry. A yes needs a free
      in-person place unless `overbook` is given.
    - "waitlisted": the person answers yes on their RSVP page while every place is taken (fill
      the event first); the mail telling them waits in the outbox, as in the app.
    - "offered": as waitlisted, then one more place opens a day before the start and is offered
      to them, so they must be first in line; the offer mail waits in the outbox.
    The clock stands at `answered_at` meanwhile: by default now, or a week before the start of an
    event that has begun (answers close at the start).
    """
    import time_machine

    from placeevents.clock import utcnow
    from placeevents.events.models import EventFormat
    from placeevents.invitations import attendance
    from placeevents.invitations.models import (
        AttendanceMode,
        Invitation,
        InvitationSource,
        RsvpAnswer,
    )

    counter = iter(range(1, 100_000))
    waiting = (RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED)

    def factory(
        event: Any = None,
        *,
        answer: Any = None,
        mode: Any = None,
        attended: bool = False,
        wants_notes: bool = False,
        overbook: bool = False,
        answered_at: datetime | None = None,
        access_needs: str = "",
        dietary_needs: str = "",
        question: str = "",
        name: str | None = None,
        email: str | None = None,
        source: Any = InvitationSource.PASTED,
        **invitation_fields: Any,
    ) -> Any:
        n = next(counter)
        if event is None:
            event = make_event()
        wanted = RsvpAnswer(answer) if answer is not None else None
        if attended:
            if wanted not in (None, RsvpAnswer.YES):
                raise ValueError("check-in turns every answer into a yes: pass answer='yes'")
            wanted = RsvpAnswer.YES
        if mode is None and event.format == EventFormat.HYBRID:
            mode = AttendanceMode.IN_PERSON
        now = utcnow()
        when = answered_at or (
            event.starts_at - ANSWERED_BEFORE_START if now >= event.starts_at else now
        )
        with time_machine.travel(when, tick=False):
            invitation = Invitation(
                event=event,
                email=email if email is not None else f"guest{n}@example.org",
                name=name if name is not None else f"Guest {n}",
                source=source,
                **invitation_fields,
            )
            db.session.add(invitation)
            db.session.flush()
            if wanted is not None:
                reply = attendance.Answer(
                    answer=RsvpAnswer.YES if wanted in waiting else wanted,
                    mode=mode,
                    wants_notes=wants_notes,
                    access_needs=access_needs,
                    dietary_needs=dietary_needs,
                    question=question,
                )
                if wanted in waiting:
                    attendance.answer_invitation(invitation=invitation, answer=reply)
                else:
                    attendance.record_history(
                        invitation=invitation, answer=reply, answered_at=when, came=attended
                    )
        if wanted == RsvpAnswer.OFFERED:
            with time_machine.travel(max(when, event.starts_at - timedelta(days=1)), tick=False):
                event.capacity += 1
                db.session.flush()
                attendance.capacity_changed(event=event)
        rsvp = invitation.rsvp
        got = rsvp.answer if rsvp is not None else None
        assert got == wanted, (
            f"{invitation.email} ended up {got}, not {wanted} (a waiting list needs a full event, "
            "and an offer goes to the first in line)"
        )
        assert overbook or rsvp is None or not rsvp.overbooked, (
            f"{invitation.email}: every place is taken (answer 'waitlisted', or overbook)"
        )
        db.session.commit()
        return invitation

    return factory


@pytest.fixture
def make_subscriber(app: Flask) -> Callable[..., Any]:
    from placeevents.newsletter.models import Subscriber, SubscriberStatus

    counter = iter(range(1, 100_000))

    def factory(**kw: Any) -> Any:
        n = next(counter)
        subscriber = Subscriber(
            email=kw.pop("email", f"person{n}@example.org"),
            name=kw.pop("name", f"Person {n}"),
            status=kw.pop("status", SubscriberStatus.CONFIRMED),
            wants_in_person=kw.pop("wants_in_person", True),
            wants_online=kw.pop("wants_online", True),
            **kw,
        )
        db.session.add(subscriber)
        db.session.commit()
        return subscriber

    return factory


# --- live server and browser


@dataclass
class LiveServer:
    app: Flask
    url: str


@pytest.fixture
def live_server(make_app: Callable[..., Flask]) -> Iterator[LiveServer]:
    """The app served over HTTP from a thread (CSRF on, as in production), with its worker."""
    application = make_app(WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, application, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    application.config["PLACEEVENTS_BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # Mail only: scheduled jobs follow the clock, which tests move; a test runs the jobs it needs.
    worker = Worker(poll_seconds=0.1, jobs=False)
    worker_thread = threading.Thread(target=_run_worker, args=(application, worker), daemon=True)
    worker_thread.start()
    try:
        yield LiveServer(application, url)
    finally:
        worker.stop()
        worker_thread.join(timeout=10)
        server.shutdown()
        thread.join(timeout=10)


def _run_worker(app: Flask, worker: Worker) -> None:
    with app.app_context():
        worker.run()


@pytest.fixture(scope="session")
def _browser() -> Iterator[Any]:
    require_tool(os.path.exists(CHROMIUM) and shutil.which(CHROMIUM) is not None, "Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(_browser: Any, tmp_path: Any) -> Iterator[Any]:
    """A fresh browser page; a screenshot of where it ended is saved in the test's tmp dir."""
    context = _browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    browser_page = context.new_page()
    yield browser_page
    try:
        browser_page.screenshot(path=str(tmp_path / "final.png"), full_page=True)
    finally:
        context.close()


# --- attendance has one owner


ATTENDANCE_OWNER = "placeevents.invitations.attendance"
# SQL that writes who is coming: answers, the invitations they hang on, and the place count.
_ATTENDANCE_WRITE = re.compile(
    r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(rsvp|invitation)\b"
    r"|^\s*UPDATE\s+\"?event\"?\s+SET\b.*\bplaces_taken\b",
    re.IGNORECASE | re.DOTALL,
)
# Invitations are created and stamped by sending; only their deletion takes answers with them.
_INVITATION_NOT_ANSWER = re.compile(r"^\s*(INSERT\s+INTO|UPDATE)\s+\"?invitation\b", re.I)


_FLUSHING_FOR_OTHERS = ("placeevents.db", "placeevents.caching")


def attendance_writer(statement: str) -> str | None:
    """The app module behind an SQL write of answers or places, if that module is not the
    attendance module; None when the write is allowed (or is not such a write)."""
    if not _ATTENDANCE_WRITE.match(statement) or _INVITATION_NOT_ANSWER.match(statement):
        return None
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module == ATTENDANCE_OWNER or module.startswith(ATTENDANCE_OWNER + "."):
            return None
        # db and caching flush on behalf of whoever commits: look further up for the writer.
        if module.startswith("placeevents.") and module not in _FLUSHING_FOR_OTHERS:
            return f"{module}:{frame.f_lineno}"
        frame = frame.f_back
    # Written by a test's own set-up, not by the app.
    return None


@pytest.fixture(autouse=True)
def attendance_writes_guarded() -> Iterator[list[str]]:
    """Every test fails if app code outside the attendance module writes answers or places."""
    found: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        writer = attendance_writer(statement)
        if writer is not None:
            found.append(f"{writer}: {' '.join(statement.split())[:160]}")

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", before)
    try:
        yield found
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", before)
    assert not found, "answers or places written outside the attendance module:\n" + "\n".join(
        found
    )
