"""Calendar downloads: per-event .ics, the enquiry feed and the organisers' enquiry export."""

from datetime import datetime

from flask import Blueprint, Response, abort, request
from werkzeug.http import is_resource_modified

from placeevents.calendar import services
from placeevents.calendar.services import CalendarFile, CalendarNotFound

bp = Blueprint("calendar", __name__)
manage_bp = Blueprint("calendar", __name__, url_prefix="/calendar")

# Calendar apps poll feeds; a short shared cache plus validators keeps repeat polls cheap.
PUBLIC_MAX_AGE = 300


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
        state = services.enquiry_feed_state(slug=slug)
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
