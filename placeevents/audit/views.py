"""Organiser pages of the audit domain, under /manage/."""

from flask import Blueprint, render_template, request
from wtforms.fields.choices import SelectChoice

from placeevents.audit.forms import AuditFilterForm
from placeevents.audit.services import audit_log
from placeevents.enquiries.services import organisation_timezone

manage_bp = Blueprint("audit", __name__, url_prefix="/audit")


@manage_bp.get("/")
def index() -> tuple[str, int] | str:
    form = AuditFilterForm(formdata=request.args)
    tz = organisation_timezone()
    if form.validate():
        log = audit_log(tz=tz, action=form.action.data or "", page=form.page.data or 1)
        status = 200
    else:
        log, status = audit_log(tz=tz), 422
    choices = [SelectChoice(action, words) for action, words in log.actions]
    form.action.choices = [SelectChoice("", "All actions"), *choices]
    return render_template("audit/index.html", form=form, log=log), status
