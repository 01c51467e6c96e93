"""Calendar downloads: per-event .ics, the enquiry feed and the organisers' enquiry export,
and the feed's polls answered in front of the app (FeedPolls)."""

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, abort, request
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import dump_options_header, http_date, is_resource_modified, quote_etag

from placeevents.caching import Kept, public_version, read_engine_of
from placeevents.calendar import services
from placeevents.calendar.services import CalendarFile, CalendarNotFound
from placeevents.db import ONE_READ
from placeevents.web import HTTPS_SECURITY_HEADERS, SECURITY_HEADERS

bp = Blueprint("calendar", __name__)
manage_bp = Blueprint("calendar", __name__, url_prefix="/calendar")

# Calendar apps poll feeds; a short shared cache plus validators keeps repeat polls cheap.
PUBLIC_MAX_AGE = 300
# Feed states a process keeps for its polls (one per enquiry; enquiries are few).
KEPT_STATES = 64


def _validated(response: Response, *, etag: str, last_modified: datetime, public: bool) -> Response:
    response.set_etag(etag)
    response.last_modified = last_modified
    if public:
        response.cache_control.public = True
        response.cache_control.max_age = PUBLIC_MAX_AGE
    return response


def _calendar_response(file: CalendarFile, *, public: bool) -> Response:
    response = Response(file.body, mimetype="text/calendar")
    response.headers.set("Content-Disposition", "attachment", filename=file.filename)
    _validated(response, etag=file.etag, last_modified=file.last_modified, public=public)
    return response.make_conditional(request)


@bp.get("/events/<slug>/calendar.ics")
def event_ics(slug: str) -> Response:
    try:
        file = services.public_event_calendar(slug=slug)
    except CalendarNotFound:
        abort(404)
    return _calendar_response(file, public=True)


@bp.get("/enquiries/<slug>/calendar.ics")
def enquiry_feed(slug: str) -> Response:
    try:
        # Read already by FeedPolls where it passed the request on (a body not yet built).
        state = request.environ.get(FEED_STATE) or services.enquiry_feed_state(slug=slug)
        if not is_resource_modified(
            request.environ, etag=state.etag, last_modified=state.last_modified
        ):
            # Polled again with nothing changed: answered from one small query.
            not_modified = Response(status=304)
            return _validated(
                not_modified, etag=state.etag, last_modified=state.last_modified, public=True
            )
        file = services.enquiry_feed(state=state)
    except CalendarNotFound:
        abort(404)
    return _calendar_response(file, public=True)


@manage_bp.get("/enquiries/<id:enquiry_id>.ics")
def export_enquiry(enquiry_id: int) -> Response:
    try:
        file = services.enquiry_export(enquiry_id=enquiry_id)
    except CalendarNotFound:
        abort(404)
    return _calendar_response(file, public=False)


bp.add_app_template_global(services.google_calendar_url, "google_calendar_url")
bp.add_app_template_global(services.outlook_calendar_url, "outlook_calendar_url")
bp.add_app_template_global(services.feed_url, "calendar_feed_url")
bp.add_app_template_global(services.webcal_url, "calendar_webcal_url")


# --- the feed's polls, in front of the app

# Where FeedPolls leaves the state it read for the view, when it passes a request on.
FEED_STATE = "placeevents.feed_state"
_FEED_PATH = re.compile(r"/enquiries/([a-z0-9-]{1,80})/calendar\.ics")
# Requests the poll answerer leaves to the app: preconditions that can fail (412), ranges.
_LEFT_TO_THE_APP = ("HTTP_COOKIE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_RANGE")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class FeedPolls:
    """Every subscriber's calendar app fetches the enquiry feed again every few minutes, nearly
    always to learn that nothing changed. This WSGI layer answers those polls before the
    framework runs: the feed's state is kept from the last poll while the public version reads
    the same (one small read, `caching.public_version`), else read afresh in one query
    (read_feed_state); then a 304, or the body this process already built for that ETag. No
    request context, session, limiter or template: the feed is public, carries no personal
    data and no limit, and a request with a cookie, a precondition or a range, or for a body
    not yet built, goes on to the app, which answers it as before. The headers are the app's
    own (the tests compare the two answers).
    """

    def __init__(self, wsgi_app: WSGIApp, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app
        # Each enquiry feed's state by slug and base URL, with the public version it was read at.
        self._kept: Kept[tuple[str, str], tuple[int, services.FeedState]] = Kept(KEPT_STATES)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if (
            (method == "GET" or method == "HEAD")
            and not environ.get("QUERY_STRING")
            and not any(name in environ for name in _LEFT_TO_THE_APP)
            and (match := _FEED_PATH.fullmatch(environ.get("PATH_INFO", "")))
        ):
            answer = self._answer(environ, match.group(1))
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return [] if method == "HEAD" else [body]
        return self.wsgi_app(environ, start_response)

    def _answer(
        self, environ: dict[str, Any], slug: str
    ) -> tuple[str, list[tuple[str, str]], bytes] | None:
        config = self.app.config
        base = config["PLACEEVENTS_BASE_URL"]
        state = self._state(slug, base)
        if state is None:
            return None  # the app answers: its 404 page, or its error page if the database is down
        security = HTTPS_SECURITY_HEADERS if base.startswith("https://") else SECURITY_HEADERS
        after = [*security, ("Vary", "Cookie")]
        validators = [
            ("ETag", quote_etag(state.etag)),
            ("Cache-Control", f"public, max-age={PUBLIC_MAX_AGE}"),
        ]
        if not is_resource_modified(environ, etag=state.etag, last_modified=state.last_modified):
            return "304 NOT MODIFIED", [*validators, *after], b""
        file = services.kept_feed(self.app, state.etag)
        if file is None:
            environ[FEED_STATE] = state  # the app builds the body, and keeps it for next time
            return None
        headers = [
            ("Content-Type", "text/calendar; charset=utf-8"),
            ("Content-Length", str(len(file.body))),
            ("Content-Disposition", dump_options_header("attachment", {"filename": file.filename})),
            validators[0],
            ("Last-Modified", http_date(file.last_modified)),
            validators[1],
            ("Date", http_date()),
            *after,
        ]
        return "200 OK", headers, file.body

    def _state(self, slug: str, base: str) -> services.FeedState | None:
        """The feed's state: kept from an earlier poll while the public version reads the same
        (one small read), else read afresh and kept under the version read first."""
        version = public_version(self.app)
        if version is not None:
            kept = self._kept.get((slug, base))
            if kept is not None and kept[0] == version:
                return kept[1]
        try:
            with self.engine().connect().execution_options(**ONE_READ) as connection:
                state = services.read_feed_state(connection, slug=slug, base=base)
        except SQLAlchemyError:
            return None
        if state is not None and version is not None:
            self._kept.put((slug, base), (version, state))
        return state

    def engine(self) -> Engine:
        return read_engine_of(self.app)
