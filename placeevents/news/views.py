"""Pages of newsletters: the public archive (bp) and organiser pages under /manage/ (manage_bp)."""

from collections.abc import Callable

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectChoice

from placeevents import limits
from placeevents.caching import public_page
from placeevents.enquiries.timezones import (
    NonexistentLocalTime,
    format_datetime,
    from_local,
    local_input_value,
)
from placeevents.extensions import db
from placeevents.mail.devmailbox import framed_html
from placeevents.mail.views import MAILBOX_HTML_POLICY
from placeevents.news import services
from placeevents.news.forms import ActionForm, NewsletterForm, ScheduleForm
from placeevents.news.models import Newsletter
from placeevents.newsletter.services import display_timezone

bp = Blueprint("news", __name__, url_prefix="/news")
manage_bp = Blueprint("news", __name__, url_prefix="/news")

Page = str | tuple[str, int] | BaseResponse


# --- the public archive


@bp.get("/")
@public_page
def archive() -> str:
    return render_template(
        "news/archive.html", newsletters=services.archive(), timezone=display_timezone()
    )


@bp.get("/<id:newsletter_id>")
@public_page
def show(newsletter_id: int) -> str:
    try:
        newsletter = services.archived(newsletter_id=newsletter_id)
    except services.NewsError:
        abort(404)
    return render_template(
        "news/show.html",
        newsletter=newsletter,
        content=services.content_html(newsletter),
        timezone=display_timezone(),
    )


# --- organiser pages


def _newsletter(newsletter_id: int) -> Newsletter:
    try:
        return services.get_newsletter(newsletter_id=newsletter_id)
    except services.NewsError:
        abort(404)


def _prepare(form: NewsletterForm) -> None:
    tz = display_timezone()
    form.event_ids.choices = [
        SelectChoice(e.id, f"{e.title} ({format_datetime(e.starts_at, tz)})")
        for e in services.attended_events()
    ]


@manage_bp.get("/")
def index() -> str:
    return render_template(
        "news/index.html",
        newsletters=services.all_newsletters(),
        action_form=ActionForm(),
        timezone=display_timezone(),
    )


@manage_bp.route("/new", methods=["GET", "POST"])
def new() -> Page:
    form = NewsletterForm()
    _prepare(form)
    if form.validate_on_submit():
        try:
            newsletter = services.create_newsletter(data=form.news_input(), organiser=current_user)
        except services.NewsError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
            return render_template("news/new.html", form=form), 422
        db.session.commit()
        return redirect(url_for(".edit", newsletter_id=newsletter.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("news/new.html", form=form), status


@manage_bp.post("/digest")
def new_digest() -> Page:
    _require_button()
    try:
        newsletter = services.create_digest(organiser=current_user)
    except services.NewsError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".index"), 303)
    db.session.commit()
    flash("The digest is ready to read through and send.", "info")
    return redirect(url_for(".edit", newsletter_id=newsletter.id), 303)


def _edit_page(newsletter: Newsletter, form: NewsletterForm, status: int = 200) -> Page:
    tz = display_timezone()
    schedule_form = ScheduleForm(formdata=None)
    return (
        render_template(
            "news/edit.html",
            newsletter=newsletter,
            form=form,
            schedule_form=schedule_form,
            action_form=ActionForm(formdata=None),
            preview=services.preview(newsletter=newsletter),
            count=services.count_recipients(newsletter=newsletter) if newsletter.editable
            else None,
            progress=None if newsletter.editable else services.progress(newsletter=newsletter),
            blocks=services.BLOCKS,
            timezone=tz,
            scheduled_value=local_input_value(newsletter.scheduled_for, tz),
        ),
        status,
    )


def _submitted(newsletter_id: int) -> tuple[Newsletter, NewsletterForm]:
    newsletter = _newsletter(newsletter_id)
    saved = {
        "subject": newsletter.subject,
        "body": newsletter.body,
        "interests": newsletter.interest_list,
        "event_ids": newsletter.event_id_list,
    }
    # What was posted, or on GET what is saved.
    form = NewsletterForm(data=None if request.method == "POST" else saved)
    _prepare(form)
    return newsletter, form


def _refused(newsletter_id: int, form: NewsletterForm, error: services.NewsError) -> Page:
    db.session.rollback()
    form.form_errors.append(str(error))
    return _edit_page(_newsletter(newsletter_id), form, 422)


@manage_bp.route("/<id:newsletter_id>", methods=["GET", "POST"])
def edit(newsletter_id: int) -> Page:
    newsletter, form = _submitted(newsletter_id)
    if request.method == "GET":
        return _edit_page(newsletter, form)
    if not form.validate_on_submit():
        return _edit_page(newsletter, form, 422)
    action = request.form.get("action", "save")
    block = action.removeprefix("insert-") if action.startswith("insert-") else None
    try:
        services.update_newsletter(
            newsletter=newsletter, data=form.news_input(), organiser=current_user, insert=block
        )
    except services.NewsError as exc:
        return _refused(newsletter_id, form, exc)
    db.session.commit()
    flash("Saved." if block is None else "Saved, with the block added at the end.", "info")
    return redirect(url_for(".edit", newsletter_id=newsletter.id), 303)


def _back(newsletter: Newsletter, message: str, category: str, to: str | None = None) -> Page:
    flash(message, category)
    return redirect(to or url_for(".edit", newsletter_id=newsletter.id), 303)


def _acted(
    newsletter: Newsletter, action: Callable[[], object], done: str, to: str | None = None
) -> Page:
    """Run one service action on the newsletter: commit and say so, or roll back and say why
    not; back to its page (or `to`)."""
    try:
        action()
    except services.NewsError as exc:
        db.session.rollback()
        return _back(newsletter, str(exc), "error")
    db.session.commit()
    return _back(newsletter, done, "info", to)


def _require_button() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


@manage_bp.post("/<id:newsletter_id>/send")
@limits.ORGANISER_SEND
def send(newsletter_id: int) -> Page:
    newsletter, form = _submitted(newsletter_id)
    if not form.validate_on_submit():
        return _edit_page(newsletter, form, 422)
    try:
        data = form.news_input()
        if request.form.get("action") == "send":
            services.send_now(newsletter=newsletter, data=data, organiser=current_user)
            message = "Sending has started: the messages are being queued."
        else:
            services.send_test(newsletter=newsletter, data=data, organiser=current_user)
            message = f"A test has been sent to {current_user.email}."
    except services.NewsError as exc:
        return _refused(newsletter_id, form, exc)
    db.session.commit()
    return _back(newsletter, message, "info")


@manage_bp.post("/<id:newsletter_id>/schedule")
def schedule(newsletter_id: int) -> Page:
    newsletter = _newsletter(newsletter_id)
    form = ScheduleForm()
    if not form.validate_on_submit():
        error = " ".join(form.send_at.errors) or "Enter the date and time to send it."
        return _back(newsletter, error, "error")
    tz = display_timezone()
    try:
        when = from_local(form.send_at.data, tz).utc
    except NonexistentLocalTime as exc:
        return _back(newsletter, str(exc), "error")
    return _acted(
        newsletter,
        lambda: services.schedule(newsletter=newsletter, when=when, organiser=current_user),
        f"Scheduled for {format_datetime(when, tz)}.",
    )


@manage_bp.post("/<id:newsletter_id>/cancel")
def cancel(newsletter_id: int) -> Page:
    newsletter = _newsletter(newsletter_id)
    _require_button()
    return _acted(
        newsletter,
        lambda: services.cancel_schedule(newsletter=newsletter, organiser=current_user),
        "The schedule is cancelled: the newsletter is a draft again.",
    )


@manage_bp.post("/<id:newsletter_id>/delete")
def delete(newsletter_id: int) -> Page:
    newsletter = _newsletter(newsletter_id)
    _require_button()
    return _acted(
        newsletter,
        lambda: services.delete_draft(newsletter=newsletter, organiser=current_user),
        "The draft is deleted.",
        to=url_for(".index"),
    )


@manage_bp.get("/<id:newsletter_id>/preview.html")
def preview_html(newsletter_id: int) -> Response:
    newsletter = _newsletter(newsletter_id)
    html = services.preview(newsletter=newsletter).html
    response = Response(framed_html(html), mimetype="text/html")
    # Shown in a sandboxed frame on the newsletter's page: no script, nothing fetched.
    response.headers["Content-Security-Policy"] = MAILBOX_HTML_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
