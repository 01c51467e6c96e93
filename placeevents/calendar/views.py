"""Calendar downloads: per-event .ics, the enquiry feed and the organisers' enquiry export."""

from flask import Blueprint, Response, abort, request

from placeevents.calendar import services
from placeevents.calendar.services import CalendarFile, CalendarNotFound

bp = Blueprint("calendar", __name__)
manage_bp = Blueprint("calendar", __name__, url_prefix="/calendar")

# Calendar apps poll feeds; a short shared cache plus validators keeps repeat polls cheap.
PUBLIC_MAX_AGE = 300


def _calendar_response(file: CalendarFile, *, public: bool) -> Response:
    response = Response(file.body, mimetype="text/calendar")
    response.headers.set("Content-Disposition", "attachment", filename=file.filename)
    response.set_etag(file.etag)
    response.last_modified = file.last_modified
    if public:
        response.cache_control.public = True
        response.cache_control.max_age = PUBLIC_MAX_AGE
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
        file = services.enquiry_feed(slug=slug)
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
