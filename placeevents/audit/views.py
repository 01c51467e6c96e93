"""Organiser pages of the audit domain, under /manage/."""

from flask import Blueprint, render_template, request
from wtforms.fields.choices import SelectChoice

from placeevents.audit.forms import AuditFilterForm
from placeevents.audit.services import audit_log

manage_bp = Blueprint("audit", __name__, url_prefix="/audit")


@manage_bp.get("/")
def index() -> tuple[str, int] | str:
    form = AuditFilterForm(formdata=request.args)
    if form.validate():
        log, status = audit_log(action=form.action.data or "", page=form.page.data or 1), 200
    else:
        log, status = audit_log(), 422
    form.action.choices = [SelectChoice("", "All actions"), *map(SelectChoice, log.actions)]
    return render_template("audit/index.html", form=form, log=log), status
