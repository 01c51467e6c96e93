"""placeevents: run an organisation's enquiry series."""

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import DEFAULT_SECRET_KEY, Config, TestConfig

ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """The app refuses to start with this configuration."""


class PlaceEventsFlask(Flask):
    """Flask for an app whose views and request hooks are all plain functions: each is called
    as it is, instead of being asked on every request whether it is a coroutine function
    (about ten times a request). `tests/test_spine/test_site.py` holds that none is async."""

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        return func


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, CLI and error pages."""
    overrides = dict(config or {})
    app = PlaceEventsFlask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    base = TestConfig if overrides.get("PLACEEVENTS_ENV") == "testing" else Config
    app.config.from_object(base)
    app.config.update(overrides)
    if app.config["PLACEEVENTS_ENV"] == "production" and (
        app.config["SECRET_KEY"] in (DEFAULT_SECRET_KEY, "", None)
    ):
        raise ConfigurationError("set SECRET_KEY: refusing to run in production with the default")
    app.debug = app.config["PLACEEVENTS_ENV"] == "development" and app.debug
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A file on this machine: no connection goes stale, so no query before each checkout.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from placeevents.caching import KeptPages

    # Kept pages are given before the framework runs (inside ProxyFix: by the address as the
    # visitor asked for it).
    app.wsgi_app = KeptPages(app.wsgi_app, app)  # type: ignore[method-assign]
    if app.config["PLACEEVENTS_PROXY_COUNT"]:
        count = app.config["PLACEEVENTS_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]

    from placeevents.ids import IdConverter

    # Before any route is added: `<id:event_id>` only matches ids a database row can have.
    app.url_map.converters["id"] = IdConverter

    from placeevents import models  # noqa: F401  (every table registered before migrations)
    from placeevents.extensions import csrf, db, limiter, login_manager, mail, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    mail.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from placeevents import manage, web
    from placeevents.audit import views as audit_views
    from placeevents.auth import views as auth_views
    from placeevents.calendar import views as calendar_views
    from placeevents.enquiries import views as enquiries_views
    from placeevents.events import views as events_views
    from placeevents.exports import views as exports_views
    from placeevents.invitations import views as invitations_views
    from placeevents.mail import views as mail_views
    from placeevents.news import views as news_views
    from placeevents.newsletter import views as newsletter_views
    from placeevents.notes import views as notes_views
    from placeevents.settings import views as settings_views

    web.init_app(app)
    _describe_audit_targets(app)
    for public in (
        enquiries_views.bp,
        events_views.bp,
        auth_views.bp,
        newsletter_views.bp,
        invitations_views.bp,
        notes_views.bp,
        calendar_views.bp,
        mail_views.bp,
        news_views.bp,
    ):
        app.register_blueprint(public)
    app.register_blueprint(
        manage.create_blueprint(
            enquiries_views.manage_bp,
            events_views.manage_bp,
            newsletter_views.manage_bp,
            invitations_views.manage_bp,
            notes_views.manage_bp,
            calendar_views.manage_bp,
            exports_views.manage_bp,
            audit_views.manage_bp,
            mail_views.manage_bp,
            news_views.manage_bp,
            auth_views.account_bp,
            admin=(auth_views.team_bp, settings_views.manage_bp),
        )
    )
    # Calendar apps' polls of the enquiry feeds are answered before the framework runs.
    app.wsgi_app = calendar_views.FeedPolls(app.wsgi_app, app)  # type: ignore[method-assign]

    from placeevents.auth.cli import organiser_cli
    from placeevents.calendar import cli as _calendar_cli  # noqa: F401  (joins `flask export`)
    from placeevents.demo import demo_cli
    from placeevents.exports.cli import export_cli
    from placeevents.mail.cli import outbox_cli
    from placeevents.newsletter import cli as _newsletter_cli  # noqa: F401  (export subscribers)
    from placeevents.worker import worker_command

    app.cli.add_command(organiser_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(export_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(worker_command)
    return app


def _describe_audit_targets(app: Flask) -> None:
    # Each domain says how the audit log names its targets; the log itself imports none.
    from placeevents import auth as auth_domain
    from placeevents import enquiries as enquiries_domain
    from placeevents import events as events_domain
    from placeevents import exports as exports_domain
    from placeevents import invitations as invitations_domain
    from placeevents import mail as mail_domain
    from placeevents import news as news_domain
    from placeevents import newsletter as newsletter_domain
    from placeevents import notes as notes_domain
    from placeevents import settings as settings_domain
    from placeevents.audit.services import describe_actions, describe_targets
    from placeevents.auth import services as auth
    from placeevents.enquiries import services as enquiries
    from placeevents.events import services as events
    from placeevents.mail import services as mail
    from placeevents.news import services as news
    from placeevents.newsletter import imports as newsletter_imports
    from placeevents.newsletter import services as newsletter
    from placeevents.notes import services as notes

    describe_targets(app, "organiser", auth.audit_target)
    describe_targets(app, "enquiry", enquiries.audit_target)
    describe_targets(app, "event", events.audit_target)
    describe_targets(app, "note", notes.audit_target)
    describe_targets(app, "subscriber", newsletter.audit_target)
    describe_targets(app, "import batch", newsletter_imports.audit_target)
    describe_targets(app, "outbox_message", mail.audit_target)
    describe_targets(app, "newsletter", news.audit_target)
    for domain in (
        auth_domain,
        enquiries_domain,
        events_domain,
        exports_domain,
        invitations_domain,
        mail_domain,
        news_domain,
        newsletter_domain,
        notes_domain,
        settings_domain,
    ):
        describe_actions(app, domain.AUDIT_ACTIONS)
