"""Organiser pages of the exports domain, under /manage/exports/."""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from placeevents.db import reads_only_from_here
from placeevents.enquiries.models import Enquiry
from placeevents.events.models import Event
from placeevents.exports import services
from placeevents.exports.forms import AttendeeListForm, CheckInSearchForm, DownloadForm
from placeevents.extensions import db
from placeevents.ids import row_id
from placeevents.invitations import attendance

manage_bp = Blueprint("exports", __name__, url_prefix="/exports")


def _event(event_id: int) -> Event:
    try:
        return services.get_event(event_id=event_id)
    except services.NotFoundError:
        abort(404)


def _enquiry(enquiry_id: int) -> Enquiry:
    try:
        return services.get_enquiry(enquiry_id=enquiry_id)
    except services.NotFoundError:
        abort(404)


def _download(download: services.Download) -> Response:
    # Called after the audit entry is committed: streaming the file only reads.
    reads_only_from_here()
    response = Response(stream_with_context(download.chunks), mimetype=download.mimetype)
    response.headers["Content-Disposition"] = download.content_disposition
    return response


@manage_bp.get("/")
def index() -> str:
    return render_template("exports/index.html", groups=services.events_by_enquiry())


@manage_bp.get("/events/<id:event_id>/")
def event(event_id: int) -> str:
    # The defaults: confirmed people, the usual columns.
    form = AttendeeListForm(formdata=None)
    overview = services.event_overview(event=_event(event_id))
    return render_template("exports/event.html", form=form, overview=overview)


def _invalid_list(event: Event, form: AttendeeListForm) -> tuple[str, int]:
    overview = services.event_overview(event=event)
    return render_template("exports/event.html", form=form, overview=overview), 422


# Downloads are POSTed from buttons: each one writes an audit entry, and GET never writes.
@manage_bp.post("/events/<id:event_id>/attendees.csv", defaults={"fmt": "csv"})
@manage_bp.post("/events/<id:event_id>/attendees.xlsx", defaults={"fmt": "xlsx"})
def attendees(event_id: int, fmt: str) -> Response | tuple[str, int]:
    event = _event(event_id)
    form = AttendeeListForm()
    if not form.validate_on_submit():
        return _invalid_list(event, form)
    download = services.export_attendees(
        event=event, who=form.who.data, columns=form.columns.data, fmt=fmt
    )
    db.session.commit()
    return _download(download)


@manage_bp.post("/events/<id:event_id>/sign-in-sheet")
def sign_in_sheet(event_id: int) -> str | tuple[str, int]:
    event = _event(event_id)
    form = AttendeeListForm()
    if not form.validate_on_submit():
        return _invalid_list(event, form)
    sheet = services.sign_in_sheet(
        event=event, who=form.who.data, include_online=request.form.get("online") == "1"
    )
    db.session.commit()
    # The page's button asks again with the same choices, those joining online added.
    return render_template("exports/sign_in_sheet.html", sheet=sheet, form=form)


@manage_bp.get("/events/<id:event_id>/check-in")
def check_in(event_id: int) -> str | tuple[str, int]:
    event = _event(event_id)
    form = CheckInSearchForm(formdata=request.args)
    if not form.validate():
        listing = services.check_in_list(event=event)
        return render_template("exports/check_in.html", form=form, listing=listing), 422
    listing = services.check_in_list(event=event, search=form.q.data or "")
    overbook = None
    if (overbook_id := request.args.get("overbook", type=row_id)) is not None:
        try:
            overbook = services.invitation_on_list(event=event, invitation_id=overbook_id)
        except services.NotFoundError:
            pass
    return render_template(
        "exports/check_in.html", form=form, listing=listing, overbook=overbook
    )


def _back_to_check_in(
    event_id: int, invitation_id: int, *, overbook: int | None = None
) -> BaseResponse:
    search = request.form.get("q", "")[:200]
    target = url_for(".check_in", event_id=event_id, q=search or None, overbook=overbook)
    return redirect(f"{target}#person-{invitation_id}", code=303)


@manage_bp.post("/events/<id:event_id>/check-in/<id:invitation_id>")
def mark_attended(event_id: int, invitation_id: int) -> BaseResponse:
    try:
        event = _event(event_id)
        invitation = services.invitation_on_list(event=event, invitation_id=invitation_id)
        attendance.check_in(
            event=event,
            invitation=invitation,
            organiser=current_user,
            overbook=request.form.get("overbook") == "1",
        )
    except services.NotFoundError as error:
        flash(error.message, "error")
        return redirect(url_for(".check_in", event_id=event_id), code=303)
    except attendance.PlaceNeeded as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back_to_check_in(event_id, invitation_id, overbook=invitation_id)
    db.session.commit()
    return _back_to_check_in(event_id, invitation_id)


@manage_bp.post("/events/<id:event_id>/check-in/<id:invitation_id>/undo")
def undo_attended(event_id: int, invitation_id: int) -> BaseResponse:
    try:
        event = _event(event_id)
        invitation = services.invitation_on_list(event=event, invitation_id=invitation_id)
        attendance.undo_check_in(event=event, invitation=invitation, organiser=current_user)
    except services.NotFoundError as error:
        flash(error.message, "error")
        return redirect(url_for(".check_in", event_id=event_id), code=303)
    db.session.commit()
    return _back_to_check_in(event_id, invitation_id)


@manage_bp.post("/events/<id:event_id>/check-in/close")
def close_check_in(event_id: int) -> BaseResponse:
    attendance.close_check_in(event=_event(event_id), organiser=current_user)
    db.session.commit()
    flash("Check-in is finished: anyone who said yes and was not checked in did not come.")
    return redirect(url_for(".check_in", event_id=event_id), code=303)


@manage_bp.post("/events/<id:event_id>/check-in/reopen")
def reopen_check_in(event_id: int) -> BaseResponse:
    attendance.reopen_check_in(event=_event(event_id), organiser=current_user)
    db.session.commit()
    flash("Check-in is open again.")
    return redirect(url_for(".check_in", event_id=event_id), code=303)


@manage_bp.get("/enquiries/<id:enquiry_id>/matrix")
def matrix(enquiry_id: int) -> str:
    enquiry = _enquiry(enquiry_id)
    matrix = services.attendance_matrix(enquiry=enquiry)
    return render_template(
        "exports/matrix.html", enquiry=enquiry, matrix=matrix, download_form=DownloadForm()
    )


@manage_bp.post("/enquiries/<id:enquiry_id>/matrix.csv", defaults={"fmt": "csv"})
@manage_bp.post("/enquiries/<id:enquiry_id>/matrix.xlsx", defaults={"fmt": "xlsx"})
def matrix_download(enquiry_id: int, fmt: str) -> Response:
    enquiry = _enquiry(enquiry_id)
    if not DownloadForm().validate_on_submit():
        abort(400)
    download = services.export_matrix(enquiry=enquiry, fmt=fmt)
    db.session.commit()
    return _download(download)
