"""What browsers, proxies and this process may keep of a response.

A public page is the same for every anonymous visitor, so each process keeps the last pages it
built (`public_page`) and serves them again while nothing they show has changed: one small
read (`public_version`) instead of the page's queries and its template. The version is a
counter that every commit writing a table public pages read moves, in the same transaction
(`PUBLIC_TABLES`, bumped by the session hooks below), so no process serves a page from before
a change once it has committed. A kept page is also given up after `KEPT_SECONDS`, for what
changes with the clock alone (an event that has started).
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
from werkzeug.wrappers import Response

from placeevents.clock import utcnow
from placeevents.db import ONE_READ, read_engine, read_scalar
from placeevents.extensions import db

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
_WRITES = "placeevents.public_writes"
# Sessions holding public writes not yet committed: while there are any, this process neither
# serves nor keeps a page (a test's session may share the request's connection).
_pending: "weakref.WeakSet[Session]" = weakref.WeakSet()


class PublicVersion(db.Model):
    """One row: how many commits have changed what public pages show."""

    __tablename__ = "public_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)


_VERSION_ID = 1
event.listen(
    PublicVersion.__table__,
    "after_create",
    sa.DDL(f"INSERT INTO public_version (id, version) VALUES ({_VERSION_ID}, 0)"),
)
_READ_VERSION = f"SELECT version FROM public_version WHERE id = {_VERSION_ID}"
_BUMP_VERSION = (
    sa.update(PublicVersion.__table__)
    .where(PublicVersion.__table__.c.id == _VERSION_ID)
    .values(version=PublicVersion.__table__.c.version + 1)
)


def _mark(session: Session) -> None:
    session.info[_WRITES] = True
    _pending.add(session)


@event.listens_for(Session, "after_flush")
def _note_flushed_writes(session: Session, flush_context: Any) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(instance, "__table__", None)
        if table is not None and table.name in PUBLIC_TABLES:
            _mark(session)
            return


@event.listens_for(Session, "do_orm_execute")
def _note_statement_writes(state: ORMExecuteState) -> None:
    statement = state.statement
    if getattr(statement, "is_dml", False):
        table = getattr(statement, "table", None)
        if getattr(table, "name", None) in PUBLIC_TABLES:
            _mark(state.session)


@event.listens_for(Session, "before_commit")
def _bump_version(session: Session) -> None:
    # The flush would otherwise come after this hook: its writes must be seen first.
    session.flush()
    if session.info.get(_WRITES):
        session.execute(_BUMP_VERSION)


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

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class _KeptPage:
    """A public page as its view and `public_page` made it (200, before the app-wide headers
    every response gets), with the version it was built at."""

    version: int
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


def public_version(app: Flask) -> int | None:
    """The version of what public pages (and the enquiry feeds) show, or None where nothing
    may be kept now: read in one statement on a pooled connection of its own, outside the
    request's session and without a transaction (`read_scalar`). What is built after this read
    shows at least this version, so it is kept under it safely. A failed read leaves the
    answer to be built as usual."""
    if _pending:
        return None
    version = read_scalar(read_engine_of(app), _READ_VERSION)
    return None if version is None else int(version)


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


def _fresh(kept: _KeptPage, version: int, now: datetime) -> bool:
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
            version = public_version(app)
        if version is not None:
            key = _page_key(request.environ)
            kept = _kept_pages(app).get(key)
            if kept is not None and _fresh(kept, version, now):
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
            _kept_pages(app).put(key, _KeptPage(version, now, tuple(headers.items()), body))
        return response.make_conditional(request)

    return wrapped
