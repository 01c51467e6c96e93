"""Public event pages, and the organiser pages to create, change, publish and cancel events."""

from functools import cache

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from placeevents.caching import public_page
from placeevents.enquiries.models import Enquiry
from placeevents.events import services
from placeevents.events.forms import CancelForm, EventForm
from placeevents.events.models import Event, EventStatus
from placeevents.events.services import EventDetails
from placeevents.extensions import db
from placeevents.ids import row_id
from placeevents.invitations import attendance, event_changes
from placeevents.mail.outbox import batch_progress
from placeevents.markdown import render_markdown
from placeevents.notes.services import public_notes_for

bp = Blueprint("events", __name__)
bp.add_app_template_filter(render_markdown, "markdown")


@cache
def _by_slug() -> Select[tuple[Event]]:
    # Built once, on first use (once every model is mapped): each request only binds the slug.
    return select(Event).where(Event.slug == bindparam("slug")).options(joinedload(Event.enquiry))


@bp.get("/events/<slug>")
@public_page
def show(slug: str) -> str:
    event = db.session.scalar(_by_slug(), {"slug": slug})
    if event is None or not event.is_public:
        abort(404)
    return render_template("events/show.html", event=event, public_notes=public_notes_for(event))


manage_bp = Blueprint("events", __name__, url_prefix="/events")

Page = str | tuple[str, int] | Response


def _event_or_404(event_id: int) -> Event:
    event = db.session.scalar(
        select(Event).where(Event.id == event_id).options(joinedload(Event.enquiry))
    )
    if event is None:
        abort(404)
    return event


def _show_errors(form: EventForm | CancelForm, error: services.EventError) -> None:
    errors = error.errors if isinstance(error, services.EventInvalid) else {}
    for name, message in errors.items():
        form[name].errors = [*form[name].errors, message]
    if not errors:
        flash(error.message, "error")


def _submitted_details(
    form: EventForm, *, enquiry: Enquiry, event: Event | None = None
) -> EventDetails | None:
    """The details of a valid submission; otherwise None, with every error beside its field.

    When the form finds a fault, the rules are checked too, so one submit shows them all.
    """
    if form.validate_on_submit():
        return form.details()
    if not form.is_submitted():
        return None
    try:
        details = form.details()
    except ValueError:
        # A format or access outside the choices: the form already says so.
        return None
    rules = services.rule_errors(enquiry=enquiry, details=details, event=event)
    for name, message in rules.items():
        if not form[name].errors:
            form[name].errors = [message]
    return None


def _flash_saved(
    saved: services.EventSaved, done: str, calendar_updates: int = 0, notices: int = 0
) -> None:
    flash(done, "info")
    for note in saved.notes:
        flash(note, "warning")
    if saved.changes:
        flash("What changed for the people coming: " + " ".join(saved.changes), "info")
        if calendar_updates:
            count = calendar_updates
            flash(
                f"{count} updated calendar "
                f"{'invitation is on its way' if count == 1 else 'invitations are on their way'}"
                " to the confirmed attendees.",
                "info",
            )
        if notices:
            flash(
                f"{notices} {'person' if notices == 1 else 'people'} on the waiting list, "
                "undecided or yet to answer will be told of the change.",
                "info",
            )


@manage_bp.route("/new", methods=["GET", "POST"])
def new() -> Page:
    enquiry_id = request.args.get("enquiry", type=row_id)
    enquiry = db.session.get(Enquiry, enquiry_id) if enquiry_id is not None else None
    if enquiry is None:
        abort(404)
    form = EventForm()
    details = _submitted_details(form, enquiry=enquiry)
    if details is not None:
        try:
            saved = services.create_event(enquiry=enquiry, details=details)
        except services.EventError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            _flash_saved(saved, "The event is saved as a draft. Publish it when it is ready.")
            return redirect(url_for("manage.events.show", event_id=saved.event.id))
    status = 422 if request.method == "POST" else 200
    return render_template("events/manage/form.html", form=form, enquiry=enquiry), status


@manage_bp.get("/<id:event_id>", endpoint="show")
def manage_show(event_id: int) -> str:
    event = _event_or_404(event_id)
    progress = (
        batch_progress(event_changes.cancellation_batch_key(event))
        if event.status == EventStatus.CANCELLED
        else None
    )
    return render_template(
        "events/manage/show.html",
        event=event,
        cancel_progress=progress,
        warnings=services.publish_warnings(event) if event.status != EventStatus.CANCELLED else [],
    )


@manage_bp.route("/<id:event_id>/edit", methods=["GET", "POST"])
def edit(event_id: int) -> Page:
    event = _event_or_404(event_id)
    form = EventForm(data=EventForm.data_of(event)) if request.method == "GET" else EventForm()
    details = _submitted_details(form, enquiry=event.enquiry, event=event)
    if details is not None:
        try:
            saved = services.update_event(event=event, details=details)
        except services.EventError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            # Everyone who may come hears of the change: the confirmed with a calendar update,
            # the rest with a notice. New places go to the waiting list.
            summary = " ".join(saved.changes)
            updates = notices = 0
            if saved.changes:
                updates = event_changes.queue_event_update(event, change_summary=summary)
                notices = event_changes.queue_change_notices(event, change_summary=summary)
            attendance.capacity_changed(event=event)
            db.session.commit()
            _flash_saved(saved, "Your changes are saved.", updates, notices)
            return redirect(url_for("manage.events.show", event_id=event.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "events/manage/form.html", form=form, enquiry=event.enquiry, event=event
    ), status


@manage_bp.post("/<id:event_id>/publish")
def publish(event_id: int) -> Response:
    event = _event_or_404(event_id)
    try:
        services.publish_event(event=event)
    except services.EventError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        # What is still missing shows on the event's page, where the redirect goes.
        flash("The event is published: it is on the enquiry's public pages.", "info")
    return redirect(url_for("manage.events.show", event_id=event_id))


@manage_bp.route("/<id:event_id>/cancel", methods=["GET", "POST"])
def cancel(event_id: int) -> Page:
    event = _event_or_404(event_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            message = services.cancel_event(event=event, message=form.message.data or "")
        except services.EventError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            recipients = event_changes.announce_cancellation(event=event, message=message)
            db.session.commit()
            flash(
                f"The event is cancelled. Your message is going to {recipients} "
                f"{'person' if recipients == 1 else 'people'}.",
                "info",
            )
            return redirect(url_for("manage.events.show", event_id=event_id))
    status = 422 if request.method == "POST" else 200
    people = event_changes.people_affected(event)
    return render_template(
        "events/manage/cancel.html", form=form, event=event, people=len(people)
    ), status


@manage_bp.post("/<id:event_id>/duplicate")
def duplicate(event_id: int) -> Response:
    copy = services.duplicate_event(event=_event_or_404(event_id))
    db.session.commit()
    flash("This is a new draft copied from the event. Change its date and time.", "info")
    return redirect(url_for("manage.events.edit", event_id=copy.id))


@manage_bp.post("/<id:event_id>/delete")
def delete(event_id: int) -> Response:
    event = _event_or_404(event_id)
    enquiry_id = event.enquiry_id
    try:
        services.delete_event(event=event, people_invited=event_changes.invited_count(event))
    except services.EventError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("manage.events.show", event_id=event_id))
    db.session.commit()
    flash("The draft is deleted.", "info")
    return redirect(url_for("manage.enquiries.show", enquiry_id=enquiry_id))
