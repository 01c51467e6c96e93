"""Pages of the notes domain: public (bp) and organiser pages under /manage/ (manage_bp)."""

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from placeevents import limits
from placeevents.caching import no_store, public_page
from placeevents.enquiries.models import Enquiry
from placeevents.enquiries.services import all_enquiries
from placeevents.events.models import Event
from placeevents.extensions import db
from placeevents.mail.outbox import batch_progress
from placeevents.notes import services
from placeevents.notes.forms import ActionForm, NoteForm, ShareForm
from placeevents.notes.models import Note, NoteKind, NoteRevision, NoteVisibility
from placeevents.notes.rendering import markdown_to_text, plain_text, render_markdown
from placeevents.urls import external_url

bp = Blueprint("notes", __name__)
manage_bp = Blueprint("notes", __name__, url_prefix="/notes")

bp.add_app_template_filter(render_markdown, "notes_markdown")
bp.add_app_template_filter(markdown_to_text, "notes_text")
bp.add_app_template_filter(plain_text, "notes_plain")
bp.add_app_template_global(services.attendee_notes, "attendee_notes")


@bp.app_template_global()
def attendee_note_url(invitation: object, note: Note | None = None) -> str:
    """Absolute link to an invitee's notes (or one note), for RSVP pages and mails."""
    token = services.attendee_token(invitation)  # type: ignore[arg-type]
    if note is None:
        return external_url("notes.attendee_index", token=token)
    return external_url("notes.attendee_show", token=token, note_id=note.id)


# --- public pages


@bp.get("/enquiries/<slug>/learning")
@public_page
def learning(slug: str) -> str:
    enquiry = db.session.scalar(
        select(Enquiry).where(Enquiry.slug == slug).options(selectinload(Enquiry.questions))
    )
    if enquiry is None:
        abort(404)
    sections = services.learning(enquiry)
    return render_template(
        "notes/learning.html",
        enquiry=enquiry,
        sections=sections,
        any_notes=any(s.notes for s in sections),
    )


def _not_found() -> Response:
    return no_store(make_response(render_template("notes/link_invalid.html"), 404))


@bp.get("/notes/<token>")
@limits.PERSONAL_LINK
def attendee_index(token: str) -> Response:
    try:
        invitation = services.invitation_for_token(token)
    except services.NoteNotFound:
        return _not_found()
    notes = services.attendee_notes(invitation)
    # Personal links: never kept by browsers or proxies.
    return no_store(
        make_response(
            render_template("notes/attendee_index.html", invitation=invitation, notes=notes)
        )
    )


@bp.get("/notes/<token>/<id:note_id>")
@limits.PERSONAL_LINK
def attendee_show(token: str, note_id: int) -> Response:
    try:
        invitation, note = services.attendee_note(token=token, note_id=note_id)
    except services.NoteNotFound:
        return _not_found()
    return no_store(
        make_response(
            render_template("notes/attendee_show.html", invitation=invitation, note=note)
        )
    )


# --- organiser pages


def _event_or_404(event_id: int) -> Event:
    return db.get_or_404(Event, event_id)


def _note_or_404(note_id: int) -> Note:
    return db.get_or_404(Note, note_id)


def _prepare(form: NoteForm, event: Event) -> None:
    form.questions.choices = [SelectChoice(q.id, q.title) for q in event.enquiry.questions]


def _note_input(form: NoteForm) -> services.NoteInput:
    return services.NoteInput(
        title=form.title.data or "",
        body=form.body.data or "",
        kind=NoteKind(form.kind.data),
        author_name=form.author_name.data or "",
        visibility=NoteVisibility(form.visibility.data),
        attributed=form.attribution.data == "attributed",
        resources=form.resources.data or "",
        tags=form.tags.data or "",
        question_ids=tuple(form.questions.data or ()),
    )


def _refuse(form: NoteForm, error: services.NoteError) -> None:
    db.session.rollback()
    target = getattr(form, error.field, None) if error.field else None
    if target is not None:
        target.errors = [*target.errors, error.message]
    else:
        form.form_errors.append(error.message)


@manage_bp.get("/")
def index() -> str:
    return render_template(
        "notes/manage_index.html",
        enquiries=all_enquiries(),
        counts=services.note_counts_by_event(),
    )


@manage_bp.get("/events/<id:event_id>", endpoint="list")
def list_notes(event_id: int) -> str:
    event = _event_or_404(event_id)
    return render_template(
        "notes/list.html",
        event=event,
        notes=services.notes_for_event(event),
        shared_counts=services.shares_by_note(event),
    )


@manage_bp.route("/events/<id:event_id>/new", methods=["GET", "POST"])
def new(event_id: int) -> str | Response | tuple[str, int]:
    event = _event_or_404(event_id)
    form = NoteForm()
    _prepare(form, event)
    if form.validate_on_submit():
        try:
            note = services.create_note(
                event=event, data=_note_input(form), editor=current_user._get_current_object()
            )
        except services.NoteError as error:
            _refuse(form, error)
        else:
            db.session.commit()
            flash("The note was saved.")
            return redirect(url_for(".show", note_id=note.id))
    status = 422 if form.is_submitted() else 200
    return render_template("notes/new.html", event=event, form=form), status


@manage_bp.get("/<id:note_id>")
def show(note_id: int) -> str:
    note = _note_or_404(note_id)
    return render_template(
        "notes/show.html", note=note, event=note.event, form=ShareForm(note_id=note.id)
    )


@manage_bp.route("/<id:note_id>/edit", methods=["GET", "POST"])
def edit(note_id: int) -> str | Response | tuple[str, int]:
    note = _note_or_404(note_id)
    event = note.event
    if request.method == "GET":
        form = NoteForm(
            data={
                "title": note.title,
                "kind": note.kind.value,
                "author_name": note.author_name,
                "attribution": "attributed" if note.attributed else "unattributed",
                "visibility": note.visibility.value,
                "body": note.body,
                "resources": note.resources,
                "questions": [q.id for q in note.questions],
                "tags": note.tags,
                "base_revision": str(note.revision),
            }
        )
    else:
        form = NoteForm()
    _prepare(form, event)
    conflict = None
    if form.validate_on_submit():
        base = form.base_revision.data
        try:
            before = note.revision
            services.update_note(
                note=note,
                data=_note_input(form),
                editor=current_user._get_current_object(),
                base_revision=int(base) if base and base.isdigit() else None,
            )
        except services.NoteConflict as error:
            db.session.rollback()
            conflict = error
            # Their text stays in the form, now based on the current revision: saving again wins.
            form.base_revision.data = str(error.current_revision)
        except services.NoteError as error:
            _refuse(form, error)
        else:
            db.session.commit()
            flash(
                f"Saved as revision {note.revision}."
                if note.revision != before
                else "Nothing had changed, so no new revision was made."
            )
            return redirect(url_for(".show", note_id=note.id))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "notes/edit.html", note=note, event=event, form=form, conflict=conflict
    ), status


@manage_bp.get("/<id:note_id>/revisions")
def revisions(note_id: int) -> str:
    note = db.first_or_404(
        select(Note)
        .where(Note.id == note_id)
        .options(selectinload(Note.revisions).joinedload(NoteRevision.edited_by))
    )
    return render_template(
        "notes/revisions.html",
        note=note,
        event=note.event,
        history=services.revision_history(note),
        form=ActionForm(),
    )


@manage_bp.get("/<id:note_id>/revisions/<id:number>")
def revision(note_id: int, number: int) -> str:
    note = _note_or_404(note_id)
    found = next((r for r in note.revisions if r.number == number), None)
    if found is None:
        abort(404)
    return render_template(
        "notes/revision.html", note=note, event=note.event, revision=found, form=ActionForm()
    )


@manage_bp.post("/<id:note_id>/revisions/<id:number>/restore")
def restore(note_id: int, number: int) -> Response:
    note = _note_or_404(note_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.restore_revision(
            note=note, number=number, editor=current_user._get_current_object()
        )
    except services.NoteError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".revisions", note_id=note_id))
    db.session.commit()
    flash(f"Revision {number} was restored as revision {note.revision}.")
    return redirect(url_for(".show", note_id=note.id))


@manage_bp.route("/<id:note_id>/delete", methods=["GET", "POST"])
def delete(note_id: int) -> str | Response:
    note = _note_or_404(note_id)
    form = ActionForm()
    if form.validate_on_submit():
        event_id = note.event_id
        services.delete_note(note=note, editor=current_user._get_current_object())
        db.session.commit()
        flash("The note was deleted.")
        return redirect(url_for(".list", event_id=event_id))
    return render_template("notes/delete.html", note=note, event=note.event, form=form)


def _share_page(event: Event, form: ShareForm, audience: str, problem: str = "") -> str:
    # Each button on the page sends to the audience shown.
    form.audience.data = audience
    return render_template(
        "notes/share.html",
        event=event,
        preview=services.share_preview(event, audience),
        audiences=services.share_audiences(event),
        form=form,
        problem=problem,
    )


@manage_bp.route("/events/<id:event_id>/share", methods=["GET", "POST"])
@limits.ORGANISER_SEND
def share(event_id: int) -> str | Response | tuple[str, int]:
    event = _event_or_404(event_id)
    form = ShareForm()
    chosen = form.audience.data if request.method == "POST" else request.args.get("audience")
    audience = chosen or services.SHARE_ALL
    if audience not in services.SHARE_AUDIENCES:
        problem = services.UnknownShareAudience().message
        return _share_page(event, form, services.SHARE_ALL, problem), 400
    if form.validate_on_submit():
        note = None
        if form.note_id.data:
            note = db.session.get(Note, form.note_id.data)
            if note is None:
                abort(404)
        try:
            result = services.share_notes(
                event=event,
                note=note,
                editor=current_user._get_current_object(),
                audience=audience,
            )
        except services.NoteError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for(".share", event_id=event.id, audience=audience))
        db.session.commit()
        return redirect(url_for(".share_progress", event_id=event.id, batch=result.batch_key))
    if form.is_submitted():
        abort(400)
    return _share_page(event, form, audience)


@manage_bp.get("/events/<id:event_id>/share/progress")
def share_progress(event_id: int) -> str:
    event = _event_or_404(event_id)
    batch_key = request.args.get("batch", "")
    if not services.share_batch_belongs_to(batch_key, event):
        abort(404)
    progress = batch_progress(batch_key)
    if not progress.queued:
        abort(404)
    return render_template("notes/share_progress.html", event=event, progress=progress)
