"""Request-wide behaviour: security headers, input guards, error pages, template helpers."""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from itsdangerous import URLSafeTimedSerializer
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException

from placeevents.caching import public_page
from placeevents.enquiries import timezones
from placeevents.extensions import db
from placeevents.settings.services import current_settings
from placeevents.urls import external_url

site = Blueprint("site", __name__)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

# Browsers then use only https for the host and its subdomains for a year after each response.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"

ERROR_MESSAGES = {
    400: ("Something in that request was not right", "Please go back and check what you sent."),
    403: ("Not allowed", "You do not have permission to do that."),
    404: ("Page not found", "The page you asked for is not here. Check the address."),
    405: ("Not allowed", "That action is not available on this page."),
    413: ("Too large", "What you sent was larger than we accept."),
    422: ("Please check the form", "Some of what you entered needs correcting."),
    429: (
        "Too many attempts",
        "Too many attempts from your connection. Please wait a minute and try again.",
    ),
    500: ("Something went wrong on our side", "Nothing you did caused this. Please try again."),
}

DEFAULT_PRIVACY_NOTICE = """
We keep your name, email address, organisation and role, the kinds of events you want to hear
about, and a record of when and how you gave your consent. We use them only to send you what
you asked for: invitations to the enquiry's events, and news about the enquiry if you chose it.
If you answer an invitation we keep your answer and anything you tell us about access or dietary
needs; we delete access and dietary answers a few weeks after the event.

We never sell or share your details. Every mail we send has a link to change your preferences,
download what we hold about you, or unsubscribe in one click. To have everything about you
erased, write to us and we will remove it from every record we keep.
"""


@site.get("/favicon.ico")
def favicon() -> Response:
    # Some clients ask for /favicon.ico whatever the page's <link rel="icon"> says.
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@site.get("/privacy")
@public_page
def privacy() -> str:
    text = current_settings().privacy_notice or DEFAULT_PRIVACY_NOTICE
    paragraphs = [" ".join(p.split()) for p in text.strip().split("\n\n") if p.strip()]
    return render_template("pages/privacy.html", paragraphs=paragraphs)


# Built once: every response carries them unless its view set its own.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)
# Only when the site is served over https: over plain http the header would be ignored.
HTTPS_SECURITY_HEADERS = (
    *SECURITY_HEADERS,
    ("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY),
)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    # One pass over the few headers set so far (a missed lookup in Headers raises and catches).
    present = {name.lower() for name, _ in headers.items()}
    https = current_app.config["PLACEEVENTS_BASE_URL"].startswith("https://")
    for name, value in HTTPS_SECURITY_HEADERS if https else SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    return response


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signer built once per key rather than on
    every request, and nothing to verify for the many requests that carry no cookie."""

    def __init__(self) -> None:
        self._signers: dict[tuple[object, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._signers:
            self._signers[keys] = super().get_signing_serializer(app)
        return self._signers[keys]

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if not session and not session.modified:
            # Nothing to store and no cookie to remove: only say the answer depends on it.
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def _guard_input() -> None:
    # NUL bytes are never meaningful input and PostgreSQL refuses them with a 500.
    environ = request.environ
    sent = []
    # Only what was sent is parsed: no query string, no arguments; no content type, no form.
    if environ.get("QUERY_STRING"):
        sent.append(request.args)
    if environ.get("CONTENT_TYPE"):
        sent.append(request.form)
    limit = current_app.config["MAX_FORM_MEMORY_SIZE"]
    for values in sent:
        for value in values.values():
            if "\x00" in value:
                abort(400, description="The request contained a NUL character.")
            if len(value) > limit:
                abort(400, description="One of the fields you sent is far too long.")
    if "\x00" in request.path:
        abort(400)


def _error_page(error: Exception) -> tuple[str, int]:
    code = error.code if isinstance(error, HTTPException) and error.code else 500
    title, message = ERROR_MESSAGES.get(code, (f"Error {code}", ""))
    if isinstance(error, CSRFError):
        message = "This form had expired or was sent from elsewhere. Please reload and try again."
    # Flask-Limiter's 429 description is the raw limit ("5 per 1 minute"), not a sentence.
    elif isinstance(error, HTTPException) and code not in (404, 429, 500) and error.description:
        # Our own abort() calls carry a sentence for the reader; Werkzeug's defaults do too.
        message = error.description
    if code == 500:
        # The page reads the settings: a transaction the fault left broken must not stop it.
        db.session.rollback()
    return render_template("errors/error.html", code=code, title=title, message=message), code


def _when(event: Any) -> str:
    return timezones.format_range(event.starts_at, event.ends_at, event.enquiry.timezone)


def _iso_utc(moment: Any) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when_html(event: Any) -> Markup:
    """An event's time on a page: in the enquiry's zone, named. For an event people can join
    online from anywhere, the page's script adds the visitor's own time beside it when their
    browser is in another zone (static/js/site.js); without the script the page is complete."""
    in_person = getattr(event, "format", "in_person") == "in_person"
    return _time_html(event.starts_at, event.ends_at, event.enquiry.timezone, in_person)


@lru_cache(maxsize=4096)
def _time_html(starts_at: datetime, ends_at: datetime, tz: str, in_person: bool) -> Markup:
    # A pure function of its values (the instants, not how they are zoned): built once per
    # process for each event's time rather than on every page showing it.
    text = escape(timezones.format_range(starts_at, ends_at, tz))
    zone = escape(timezones.zone_name(tz))
    if in_person:
        return Markup(f'<time datetime="{_iso_utc(starts_at)}">{text}</time> ({zone})')
    return Markup(
        f'<time datetime="{_iso_utc(starts_at)}" data-ends="{_iso_utc(ends_at)}"'
        f' data-zone="{escape(tz)}">{text}</time> ({zone})'
    )


def _paragraphs(text: str) -> Markup:
    from markupsafe import escape

    parts = [p.strip() for p in (text or "").split("\n\n") if p.strip()]
    return Markup("".join(f"<p>{escape(' '.join(p.split()))}</p>" for p in parts))


def _fixed_url_builder() -> Callable[..., str]:
    # One cache per app: a path depends only on the app's URL map and the script root it is
    # served under. Templates pass literal arguments or public slugs; the bound keeps it small.
    built: dict[tuple[object, ...], str] = {}

    def fixed_url(endpoint: str, **values: str) -> str:
        """url_for for a link to a static file or a public page, built once per process and
        script root rather than on every page (the URL map never changes while it runs)."""
        try:
            key = (request.environ.get("SCRIPT_NAME", ""), endpoint, *values.items())
        except RuntimeError:  # no request: url_for knows what to do
            return url_for(endpoint, **values)
        url = built.get(key)
        if url is None:
            if len(built) >= 2048:
                built.clear()
            url = built[key] = url_for(endpoint, **values)
        return url

    return fixed_url


# The parts of the layout a visitor not signed in sees: a few per organisation name and
# script root the app is served under.
LAYOUT_PARTS_KEPT = 32


def _render_part(context: Context, name: str) -> Markup:
    template = context.environment.get_template(f"_layout/{name}.html")
    return Markup(template.render(context.get_all()))


def _layout_part_builder() -> Callable[..., Markup]:
    # One cache per app, keyed by all an anonymous visitor's part shows.
    kept: dict[tuple[str, str, str], Markup] = {}

    @pass_context
    def layout_part(context: Context, name: str) -> Markup:
        """A part of base.html (templates/_layout/<name>.html). A visitor not signed in sees
        only the organisation's name and fixed paths in it: rendered once per process for each
        such name and script root. A signed-in organiser's (with their own form) is rendered
        on every page."""
        user = context.get("current_user")
        if not has_request_context() or user is None or user.is_authenticated:
            return _render_part(context, name)
        key = (name, request.environ.get("SCRIPT_NAME", ""), context["organisation_name"])
        html = kept.get(key)
        if html is None:
            if len(kept) >= LAYOUT_PARTS_KEPT:
                kept.clear()
            html = kept[key] = _render_part(context, name)
        return html

    return layout_part


def init_app(app: Flask) -> None:
    """Register the site blueprint, request hooks, error pages and template helpers."""
    app.register_blueprint(site)
    app.session_interface = CookieSessions()
    app.before_request(_guard_input)
    app.after_request(_security_headers)
    for code in ERROR_MESSAGES:
        app.register_error_handler(code, _error_page)
    app.register_error_handler(CSRFError, _error_page)
    app.jinja_env.filters["when"] = _when
    app.jinja_env.filters["when_html"] = _when_html
    app.jinja_env.filters["paragraphs"] = _paragraphs
    app.jinja_env.globals["format_datetime"] = timezones.format_datetime
    app.jinja_env.globals["format_date"] = timezones.format_date
    app.jinja_env.globals["external_url"] = external_url
    app.jinja_env.globals["fixed_url"] = _fixed_url_builder()
    app.jinja_env.globals["layout_part"] = _layout_part_builder()

    @app.context_processor
    def _site_context() -> dict[str, Any]:
        return {
            "organisation_name": current_settings().organisation_name,
            "dev_mode": app.config["PLACEEVENTS_ENV"] == "development",
        }
