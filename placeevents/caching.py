"""What browsers, proxies and this process may keep of a response.

A public page is the same for every anonymous visitor, so each process keeps the last pages it
built (`public_page`) and serves them again while nothing they show has changed: one small
read (`public_version`) instead of the page's queries and its template. The version is a
counter that every commit writing a table public pages read moves, in the same transaction
(`PUBLIC_TABLES`, bumped by the session hooks below), so no process serves a page from before
a change once it has committed. A kept page is also given up after `KEPT_SECONDS`, for what
changes with the clock alone (an event that has started).

A personal link's page (an invitee's RSVP page) is the same for whoever holds the link, so it
is kept the same way by its address, which holds the token (`personal_page`), while both the
public version and a second counter, moved by every commit writing a table such pages read
beyond the public ones (`PERSONAL_TABLES`: invitations, answers, the mailing list), read the
same. Mail scanners, reloads and a second look from the mail open it again; an answer, which
writes, is never answered from what was kept.

Once the app has given a kept page, the layer in front of the framework (`KeptPages`) gives
that whole answer again to a visitor with no cookie, after the same one read of the versions:
no request context, hooks, limiter or session for it.

On PostgreSQL the versions are mostly not read but heard (`version_watch`): the row notifies
each process when it moves, so a kept page or a feed's poll costs no round trip at all. A
change another process commits shows here once its notice has arrived, within milliseconds;
one this process commits shows at once.
"""

import hashlib
import weakref
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from threading import Lock
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app, make_response, request
from flask_login import current_user
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, SessionTransaction, mapped_column
from werkzeug.http import http_date
from werkzeug.wrappers import Response

from placeevents.clock import utcnow
from placeevents.db import ONE_READ, read_engine, read_first
from placeevents.extensions import db
from placeevents.version_watch import NOTIFY_DDL, moved_here, watch_of

# A public page may be kept this long by a shared cache (a proxy or CDN) before it asks again:
# short, so a change (a place taken, a new event) shows within a minute. A browser asks every
# time (max-age=0), and the ETag makes asking cheap: someone who has just taken the last place
# and goes back to the event's page sees it full.
PUBLIC_MAX_AGE = 60
# Written once: setting werkzeug's cache-control attributes one by one rebuilds the header each.
PUBLIC_CACHE_CONTROL = f"public, max-age=0, s-maxage={PUBLIC_MAX_AGE}"


def no_store(response: Response) -> Response:
    """Mark a personal page (reached by token, or an organiser's) never to be kept anywhere."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _anonymous_without_session() -> bool:
    """A visitor with no session cookie and not signed in sees what everyone sees."""
    if current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
        return False
    return not current_user.is_authenticated


# --- the version of what public pages show

# The tables public pages read (the settings, enquiries and their lines, events with their
# places, public notes, the newsletter archive). A commit that writes one moves the version.
PUBLIC_TABLES = frozenset(
    {
        "site_settings",
        "enquiry",
        "enquiry_question",
        "event",
        "note",
        "note_question",
        "note_revision",
        "newsletter",
        "calendar_organizer",
    }
)
# The tables a personal link's page reads beyond the public ones (its invitation, answers
# and places, notes shared with the person, their mailing-list standing). A commit that writes
# one moves the personal version.
PERSONAL_TABLES = frozenset(
    {"invitation", "rsvp", "note_share", "subscriber", "standing_invitation"}
)
# Each table written, and the column of the version row its commit moves.
_COUNTERS = {
    **{name: "version" for name in PUBLIC_TABLES},
    **{name: "personal" for name in PERSONAL_TABLES},
}
_WRITES = "placeevents.public_writes"
# Sessions holding writes to those tables not yet committed: while there are any, this
# process neither serves nor keeps a page (a test's session may share the request's
# connection).
_pending: "weakref.WeakSet[Session]" = weakref.WeakSet()


class PublicVersion(db.Model):
    """One row: how many commits have changed what public pages show (`version`) and what
    personal links' pages show beyond that (`personal`)."""

    __tablename__ = "public_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    personal: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")


_VERSION_ID = 1
event.listen(
    PublicVersion.__table__,
    "after_create",
    sa.DDL(f"INSERT INTO public_version (id, version, personal) VALUES ({_VERSION_ID}, 0, 0)"),
)
for _statement in NOTIFY_DDL:  # PostgreSQL tells each process's watch when the row moves
    event.listen(
        PublicVersion.__table__,
        "after_create",
        sa.DDL(_statement).execute_if(dialect="postgresql"),
    )
_READ_VERSIONS = f"SELECT version, personal FROM public_version WHERE id = {_VERSION_ID}"
_TABLE = PublicVersion.__table__
_BUMPS = {
    counters: sa.update(_TABLE)
    .where(_TABLE.c.id == _VERSION_ID)
    .values({name: _TABLE.c[name] + 1 for name in sorted(counters)})
    for counters in (
        frozenset({"version"}),
        frozenset({"personal"}),
        frozenset({"version", "personal"}),
    )
}


def _mark(session: Session, table_name: str | None) -> None:
    counter = _COUNTERS.get(table_name or "")
    if counter is None:
        return
    written = session.info.setdefault(_WRITES, set())
    written.add(counter)
    _pending.add(session)


@event.listens_for(Session, "after_flush")
def _note_flushed_writes(session: Session, flush_context: Any) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(instance, "__table__", None)
        if table is not None:
            _mark(session, table.name)


@event.listens_for(Session, "do_orm_execute")
def _note_statement_writes(state: ORMExecuteState) -> None:
    statement = state.statement
    if getattr(statement, "is_dml", False):
        table = getattr(statement, "table", None)
        _mark(state.session, getattr(table, "name", None))


@event.listens_for(Session, "before_commit")
def _bump_version(session: Session) -> None:
    # The flush would otherwise come after this hook: its writes must be seen first.
    session.flush()
    written = session.info.get(_WRITES)
    if written:
        session.execute(_BUMPS[frozenset(written)])


@event.listens_for(Session, "after_commit")
def _tell_this_process(session: Session) -> None:
    # This process sees its own change at once, before the server's notice reaches its watch.
    if session.info.get(_WRITES):
        moved_here()


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITES, None)
        _pending.discard(session)


# --- pages kept by this process

# A kept page is built again after this long even if nothing was written: some of what a page
# says moves with the clock (an event that has started, a deadline passed).
KEPT_SECONDS = 10
KEPT_PAGES = 256
# Personal pages are one per person: the last ones opened, a few megabytes at most.
KEPT_PERSONAL_PAGES = 512

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class _KeptPage:
    """A page as its view and `public_page` or `personal_page` made it (200, before the
    app-wide headers every response gets), with the version(s) it was built at."""

    version: object
    made_at: datetime
    headers: tuple[tuple[str, str], ...]
    body: bytes


class Kept(Generic[K, V]):
    """The last `size` values a process put, by key, the oldest used given up first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)


def kept_by_app(app: Flask, name: str, size: int) -> Kept[Any, Any]:
    """The `Kept` of `app` called `name` (one per app: tests build several apps a process)."""
    kept = app.extensions.get(name)
    if kept is None:
        kept = app.extensions.setdefault(name, Kept(size))
    return kept


def _kept_pages(app: Flask) -> "Kept[str, _KeptPage]":
    return kept_by_app(app, "placeevents.kept_pages", KEPT_PAGES)


def _kept_personal_pages(app: Flask) -> "Kept[str, _KeptPage]":
    return kept_by_app(app, "placeevents.kept_personal_pages", KEPT_PERSONAL_PAGES)


def forget_kept_pages(app: Flask) -> None:
    """Give up every page `app` keeps (public and personal): the next request for each builds
    it. For measuring what building a page costs (benchmarks/queries.py)."""
    for name in ("placeevents.kept_pages", "placeevents.kept_personal_pages"):
        app.extensions.pop(name, None)


def read_engine_of(app: Flask) -> Engine:
    """The engine `app`'s one-statement reads before or beside a request run on (the public
    version, the feed's polls): `db.read_engine` for the app's database and engine options."""
    engine = app.extensions.get("placeevents.read_engine")
    if engine is None:
        with app.app_context():
            options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
            engine = read_engine(db.engine, options)
        app.extensions["placeevents.read_engine"] = engine
    return engine


def one_read(app: Flask) -> AbstractContextManager[Connection]:
    """A connection of `read_engine_of(app)` for reads that need no transaction around them,
    each statement consistent by itself (`ONE_READ`): a page that only shows what it reads.
    On PostgreSQL it is not pinged first: a connection the server dropped fails its statement
    with `connection_invalidated` set, and the caller reads again on the session's."""
    return read_engine_of(app).connect().execution_options(**ONE_READ)


def versions(app: Flask) -> tuple[int, int] | None:
    """The version of what public pages (and the enquiry feeds) show and the personal version,
    or None where nothing may be kept now. On PostgreSQL, as this process last heard them
    (`version_watch`), with no round trip; else (SQLite, or nothing heard yet) read in one
    statement on a pooled connection of its own, outside the request's session and without a
    transaction (`read_first`). What is built after this shows at least these versions, so it
    is kept under them safely. A failed read leaves the answer to be built as usual."""
    if _pending:
        return None
    engine = read_engine_of(app)
    watch = watch_of(engine, _READ_VERSIONS)
    if watch is not None:
        heard = watch.known()  # PostgreSQL: as heard, with no round trip (version_watch)
        if heard is not None:
            return heard
        generation = watch.generation()
    row = read_first(engine, _READ_VERSIONS)
    if row is None:
        return None
    found = (int(row[0]), int(row[1]))
    if watch is not None:
        watch.offer(found, generation)
    return found


def public_version(app: Flask) -> int | None:
    """The public version of `versions`: all public pages and the enquiry feeds depend on."""
    found = versions(app)
    return None if found is None else found[0]


def _page_key(environ: dict[str, Any]) -> str:
    # The address as the request gave it: scheme, host, script root, path and query.
    return " ".join(
        (
            environ["wsgi.url_scheme"],
            environ.get("HTTP_HOST", ""),
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
        )
    )


def _fresh(kept: _KeptPage, version: object, now: datetime) -> bool:
    return kept.version == version and abs((now - kept.made_at).total_seconds()) < KEPT_SECONDS


def public_page(view: Callable[..., Any]) -> Callable[..., Response]:
    """A page every anonymous visitor sees alike (home, enquiry, event, learning, archive):
    `Cache-Control: public` with a short shared max-age and an ETag hashed from the body, so a proxy
    or CDN in front can serve it and a browser revalidates cheaply; a body that changes with
    the clock (an event that has started) changes its ETag with it.

    Anyone carrying a session (an organiser, or a visitor with a message waiting) gets a
    `private` answer: what they see may be theirs alone.

    The process keeps what it gave anonymous visitors, by address, and gives it again without
    running the view while the public version reads the same and for a few seconds at most
    (see the module's docstring): the same body, headers and ETag.
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        version, key, now = None, "", utcnow()
        if request.method in {"GET", "HEAD"} and _anonymous_without_session():
            found = _versions_read_in_front() or versions(app)
            version = None if found is None else found[0]
        if version is not None:
            key = _page_key(request.environ)
            kept = _kept_pages(app).get(key)
            if kept is not None and _fresh(kept, version, now):
                request.environ[_GIVEN] = kept
                again = Response(kept.body, headers=list(kept.headers))
                return again.make_conditional(request)
        response = make_response(view(*args, **kwargs))
        headers = response.headers
        if "Vary" in headers:  # the view's own Vary is kept
            response.vary.add("Cookie")
        else:
            headers["Vary"] = "Cookie"
        if response.status_code != 200 or "Set-Cookie" in headers:
            return response
        if not _anonymous_without_session():
            response.cache_control.private = True
            response.cache_control.no_cache = True
            return response
        headers["Cache-Control"] = PUBLIC_CACHE_CONTROL
        body = response.get_data()
        response.set_etag(hashlib.sha256(body).hexdigest()[:32])
        if version is not None and not _pending:
            page = _KeptPage(version, now, tuple(headers.items()), body)
            _kept_pages(app).put(key, page)
            request.environ[_GIVEN] = page
        return response.make_conditional(request)

    return wrapped


def personal_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """A personal link's page (an invitee's RSVP page): what it shows depends on the link
    alone, so the process keeps what it gave by address (the token is part of it) and gives it
    again without running the view while neither the public nor the personal version has
    moved, and for a few seconds at most (see the module's docstring). The view's blueprint
    still marks it `no-store`: nothing outside this process keeps it.

    Only a visitor with no session gets or leaves a kept page: someone with a message waiting
    (after an answer) or an organiser gets one built for them.
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        found, key, now = None, "", utcnow()
        if request.method in {"GET", "HEAD"} and _anonymous_without_session():
            found = _versions_read_in_front() or versions(app)
        if found is not None:
            key = _page_key(request.environ)
            kept = _kept_personal_pages(app).get(key)
            if kept is not None and _fresh(kept, found, now):
                request.environ[_GIVEN] = kept
                return Response(kept.body, headers=list(kept.headers))
        response = make_response(view(*args, **kwargs))
        if (
            found is not None
            and response.status_code == 200
            and "Set-Cookie" not in response.headers
            and _anonymous_without_session()
            and not _pending
        ):
            page = _KeptPage(found, now, tuple(response.headers.items()), response.get_data())
            _kept_personal_pages(app).put(key, page)
            request.environ[_GIVEN] = page
        return response

    return wrapped


# --- kept pages given before the framework runs

# The environ keys of what the layer in front tells the app (the versions it read) and the app
# tells it back (the kept page a response gave).
_VERSIONS = "placeevents.versions"
_GIVEN = "placeevents.kept_page"
# Requests the layer in front leaves to the app: anyone with a cookie (a session, a sign-in),
# and conditional or partial requests, which the app answers from the same kept pages.
_LEFT_TO_THE_APP = (
    "HTTP_COOKIE",
    "HTTP_AUTHORIZATION",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_RANGE",
)


# Headers of one answer only: its date, and the rate limiter's count for the client it went to
# (an answer given in front passes no limit, so it says none).
_NOT_REPLAYED = ("date", "x-ratelimit-", "retry-after")


def _versions_read_in_front() -> tuple[int, int] | None:
    return request.environ.pop(_VERSIONS, None)


@dataclass(frozen=True)
class _Answer:
    """A kept page as the whole app answered it: its status line and every header but Date."""

    page: _KeptPage
    status: str
    headers: tuple[tuple[str, str], ...]
    dated: bool


StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Any]


class KeptPages:
    """The WSGI layer that gives kept pages (`public_page`, `personal_page`) before the
    framework runs: no request context, hooks, limiter or session for the many views that are
    answered with a page already built, only the one small read of the versions.

    It answers a GET or HEAD with no cookie, no precondition and no range, for an address whose
    kept page is still fresh and whose whole answer it has seen the app give (status and
    headers, the app-wide ones included): the same answer again, with a new Date. Anything else
    goes on to the app, told the versions already read so it does not read them again.
    """

    def __init__(self, wsgi_app: WSGIApp, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app
        # The whole answers seen, by page address: each valid while its page is the one kept.
        self._answers: Kept[str, _Answer] = Kept(KEPT_PAGES + KEPT_PERSONAL_PAGES)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        method = environ.get("REQUEST_METHOD")
        if (method == "GET" or method == "HEAD") and not any(
            name in environ for name in _LEFT_TO_THE_APP
        ):
            key = _page_key(environ)
            answer = self._answers.get(key)
            if answer is not None:
                found = versions(self.app)
                if found is not None and self._current(key, answer, found):
                    headers = [*answer.headers, *([("Date", http_date())] if answer.dated else [])]
                    start_response(answer.status, headers)
                    return [] if method == "HEAD" else [answer.page.body]
                environ[_VERSIONS] = found
            return self.wsgi_app(environ, self._learning(key, environ, start_response))
        return self.wsgi_app(environ, start_response)

    def _current(self, key: str, answer: _Answer, found: tuple[int, int]) -> bool:
        page = answer.page
        kept = (_kept_personal_pages if isinstance(page.version, tuple) else _kept_pages)(
            self.app
        ).get(key)
        wanted = found if isinstance(page.version, tuple) else found[0]
        return kept is page and _fresh(page, wanted, utcnow())

    def _learning(
        self, key: str, environ: dict[str, Any], start_response: StartResponse
    ) -> StartResponse:
        # Learns the whole answer of a response that gave a kept page, as the app sent it.
        def learn(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            page = environ.get(_GIVEN)
            names = {name.lower() for name, _ in headers}
            if (
                page is not None
                and status.startswith("200 ")
                and "set-cookie" not in names  # a cookie is one visitor's, never replayed
                and dict((n.lower(), v) for n, v in headers).get("content-length")
                == str(len(page.body))
            ):
                kept_headers = tuple(
                    (name, value)
                    for name, value in headers
                    if not name.lower().startswith(_NOT_REPLAYED)
                )
                dated = "date" in names
                self._answers.put(key, _Answer(page, status, kept_headers, dated))
            return start_response(status, headers, *rest)

        return learn
