"""Organiser login and logout."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from placeevents import limits
from placeevents.auth import services
from placeevents.auth.forms import LoginForm
from placeevents.auth.known_browsers import remember_browser
from placeevents.extensions import db, login_manager

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"
login_manager.user_loader(services.load_organiser)


def safe_next(target: str | None) -> str | None:
    """Only a local path is followed after login."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limits.LOGIN
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("manage.index"))
    form = LoginForm()
    if form.validate_on_submit():
        organiser = services.authenticate(email=form.email.data, password=form.password.data)
        if organiser is not None:
            db.session.commit()
            login_user(organiser)
            response = redirect(safe_next(request.args.get("next")) or url_for("manage.index"))
            remember_browser(response, organiser)
            return response
        form.password.errors.append("That email and password do not match an organiser account.")
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> Response:
    services.end_sessions(current_user)
    db.session.commit()
    logout_user()
    flash("You have logged out.", "info")
    return redirect(url_for("enquiries.home"))
