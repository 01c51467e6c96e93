"""The settings page, under /manage/settings/ (admins only: see placeevents.manage)."""

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from placeevents.extensions import db
from placeevents.settings import services
from placeevents.settings.forms import SettingsForm

manage_bp = Blueprint("settings", __name__, url_prefix="/settings")


@manage_bp.get("/")
def edit() -> str:
    settings = services.current_settings()
    form = SettingsForm(formdata=None, obj=settings)
    return render_template("settings/edit.html", form=form, settings=settings)


@manage_bp.post("/")
def update() -> Response | tuple[str, int]:
    settings = services.current_settings()
    form = SettingsForm()
    if form.validate_on_submit():
        try:
            changed = services.update_settings(**{n: form[n].data for n in services.FIELDS})
        except services.SettingsError as error:
            form.organisation_name.errors.append(str(error))
        else:
            db.session.commit()
            if "sender_email" in changed:
                flash(
                    "The sender's address is changed. Events already in people's calendars keep "
                    f"{settings.sender_email} as their organiser, so their updates still apply.",
                    "info",
                )
            flash("Settings saved." if changed else "Nothing changed.", "success")
            return redirect(url_for("manage.admin.settings.edit"))
    return render_template("settings/edit.html", form=form, settings=settings), 422
