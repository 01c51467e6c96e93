"""Sign-in and sign-out, password resets, joining the team; the team and account pages."""

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.config import COOKIE_NAME
from werkzeug.wrappers import Response

from placeevents import limits
from placeevents.auth import services, sessions, two_factor
from placeevents.auth.forms import (
    CodeForm,
    ConfirmForm,
    DisableTwoFactorForm,
    EmailChangeForm,
    EnableTwoFactorForm,
    ForgotPasswordForm,
    InviteForm,
    JoinForm,
    LoginForm,
    NameForm,
    NewPasswordForm,
    PasswordChangeForm,
    RoleForm,
)
from placeevents.auth.known_browsers import remember_browser
from placeevents.auth.models import Organiser, Role
from placeevents.caching import no_store
from placeevents.clock import timestamp
from placeevents.extensions import db, login_manager
from placeevents.settings.services import current_settings

bp = Blueprint("auth", __name__)
bp.after_request(no_store)

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"
login_manager.user_loader(sessions.load_organiser)

# A sign-in waiting for its second factor lapses after this many seconds.
PENDING_SECONDS = 300


@bp.before_app_request
def load_session_early() -> None:
    cookies = request.cookies
    if (
        current_app.config["SESSION_COOKIE_NAME"] not in cookies
        and current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) not in cookies
    ):
        # No cookie to sign anyone in: a visitor, known without asking the session or the
        # database (Flask-Login takes the user it finds in g as already loaded).
        g._login_user = login_manager.anonymous_user()
        return
    # The loader may note when the session was last seen: before any view has changed anything.
    if "_user_id" in session and request.endpoint != "static":
        current_user._get_current_object()


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


def _signed_in(organiser: Organiser, next_url: str | None) -> Response:
    services.sign_in(organiser=organiser)
    db.session.commit()
    # A fresh session, and so a fresh CSRF token: nothing from before sign-in carries over.
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    login_user(organiser)
    response = redirect(safe_next(next_url) or url_for("manage.index"))
    remember_browser(response, organiser)
    return response


@bp.route("/login", methods=["GET", "POST"])
@limits.LOGIN
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("manage.index"))
    form = LoginForm()
    if form.validate_on_submit():
        organiser = services.authenticate(email=form.email.data, password=form.password.data)
        if organiser is not None and organiser.has_two_factor:
            session["two_factor"] = {
                "id": organiser.id,
                "fingerprint": services.pending_sign_in_fingerprint(organiser),
                "at": timestamp(),
                "next": safe_next(request.args.get("next")) or "",
            }
            return redirect(url_for("auth.login_code"))
        if organiser is not None:
            return _signed_in(organiser, request.args.get("next"))
        form.password.errors.append("That email and password do not match an organiser account.")
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def pending_sign_in() -> Organiser | None:
    """The organiser who gave their password and owes a code, if that was recent."""
    pending = session.get("two_factor")
    if not isinstance(pending, dict) or timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    organiser = db.session.get(Organiser, pending.get("id", 0))
    if (
        organiser is None
        or not organiser.active
        or pending.get("fingerprint") != services.pending_sign_in_fingerprint(organiser)
    ):
        return None
    return organiser


@bp.route("/login/code", methods=["GET", "POST"])
@limits.TWO_FACTOR
def login_code() -> str | Response | tuple[str, int]:
    organiser = pending_sign_in()
    if organiser is None:
        flash("Please log in again.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        if services.check_sign_in_code(organiser=organiser, code=form.code.data):
            return _signed_in(organiser, session["two_factor"]["next"])
        db.session.commit()  # the refusal stays in the audit log
        form.code.errors.append("That code is not right, or was used already.")
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login_code.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> Response:
    services.sign_out(organiser=current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have logged out.", "info")
    return redirect(url_for("enquiries.home"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limits.PASSWORD_RESET
def forgot_password() -> str | tuple[str, int]:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(email=form.email.data)
        db.session.commit()
        # The same answer whether or not the address has an account.
        return render_template("auth/reset_sent.html", email=form.email.data)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form), status


def _link_problem(problem: services.LinkProblem) -> tuple[str, int]:
    return render_template("auth/link_problem.html", message=str(problem)), 410


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limits.PERSONAL_LINK
def reset_password(token: str) -> str | Response | tuple[str, int]:
    try:
        organiser = services.organiser_to_reset(token=token)
    except services.LinkProblem as problem:
        return _link_problem(problem)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token=token, password=form.password.data)
        except services.OrganiserError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            flash("Your password is changed. Please log in with it.", "success")
            return redirect(url_for("auth.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/reset_password.html", form=form, organiser=organiser), status


@bp.route("/join/<token>", methods=["GET", "POST"])
@limits.PERSONAL_LINK
def join(token: str) -> str | Response | tuple[str, int]:
    try:
        organiser = services.invited_organiser(token=token)
    except services.LinkProblem as problem:
        return _link_problem(problem)
    form = JoinForm()
    if form.validate_on_submit():
        try:
            services.join(token=token, name=form.name.data, password=form.password.data)
        except services.OrganiserError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            flash("Welcome to the team. Please log in with your new password.", "success")
            return redirect(url_for("auth.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/join.html", form=form, organiser=organiser), status


@bp.route("/confirm-email/<token>", methods=["GET", "POST"])
@limits.PERSONAL_LINK
def confirm_email(token: str) -> str | Response | tuple[str, int]:
    try:
        organiser, new_email = services.email_change(token=token)
    except services.LinkProblem as problem:
        return _link_problem(problem)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.confirm_email_change(token=token)
        except services.OrganiserError as error:
            return render_template("auth/link_problem.html", message=str(error)), 409
        db.session.commit()
        flash(f"Your email address is now {new_email}.", "success")
        return redirect(
            url_for("manage.account.index" if current_user.is_authenticated else "auth.login")
        )
    return render_template(
        "auth/confirm_email.html", form=form, organiser=organiser, new_email=new_email
    )


def _confirmed() -> None:
    # A button's POST carries nothing but its CSRF token.
    if not ConfirmForm().validate_on_submit():
        abort(400)


# --- the organiser's own account, under /manage/account/

account_bp = Blueprint("account", __name__, url_prefix="/account")


def _account_page(status: int = 200, **forms: object) -> tuple[str, int]:
    context = {
        "name_form": NameForm(formdata=None, name=current_user.name),
        "email_form": EmailChangeForm(formdata=None),
        "password_form": PasswordChangeForm(formdata=None),
        "disable_form": DisableTwoFactorForm(formdata=None),
        **forms,
    }
    return render_template(
        "auth/account.html",
        sessions=sessions.live_sessions(organiser=current_user),
        recovery_left=two_factor.unused_recovery_codes(organiser=current_user),
        **context,
    ), status


@account_bp.get("/")
def index() -> tuple[str, int]:
    return _account_page()


@account_bp.post("/name")
def change_name() -> Response | tuple[str, int]:
    form = NameForm()
    if form.validate_on_submit():
        try:
            services.change_name(organiser=current_user, name=form.name.data)
        except services.OrganiserError as error:
            form.name.errors.append(str(error))
        else:
            db.session.commit()
            flash("Your name is changed.", "success")
            return redirect(url_for("manage.account.index"))
    return _account_page(422, name_form=form)


@account_bp.post("/email")
def change_email() -> Response | tuple[str, int]:
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            new_email = services.request_email_change(
                organiser=current_user, new_email=form.email.data
            )
        except services.OrganiserError as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"We have mailed a link to {new_email}: follow it to confirm.", "success")
            return redirect(url_for("manage.account.index"))
    return _account_page(422, email_form=form)


@account_bp.post("/password")
def change_password() -> Response | tuple[str, int]:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                organiser=current_user, current=form.current.data, new=form.password.data
            )
        except services.OrganiserError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            flash("Your password is changed; your other sessions have ended.", "success")
            return redirect(url_for("manage.account.index"))
    return _account_page(422, password_form=form)


@account_bp.post("/sessions/<id:session_id>/end")
def end_session(session_id: int) -> Response:
    _confirmed()
    services.end_session(organiser=current_user, session_id=session_id)
    db.session.commit()
    flash("That session has ended.", "success")
    return redirect(url_for("manage.account.index"))


@account_bp.post("/sessions/end-others")
def end_other_sessions() -> Response:
    _confirmed()
    ended = services.end_other_sessions(organiser=current_user)
    db.session.commit()
    flash(f"Ended {ended} other session{'s' if ended != 1 else ''}.", "success")
    return redirect(url_for("manage.account.index"))


@account_bp.route("/two-factor", methods=["GET", "POST"])
def two_factor_setup() -> str | tuple[str, int]:
    # The secret waits in the (signed) session cookie until a code from the app confirms it.
    if request.method == "POST" or "totp_pending" not in session:
        session["totp_pending"] = services.start_two_factor()
    secret = session["totp_pending"]
    uri = two_factor.provisioning_uri(
        secret=secret, email=current_user.email, issuer=current_settings().organisation_name
    )
    return render_template(
        "auth/two_factor.html",
        form=EnableTwoFactorForm(formdata=None),
        secret=secret,
        qr_code=two_factor.qr_code_svg(uri),
    )


@account_bp.post("/two-factor/enable")
def enable_two_factor() -> str | tuple[str, int]:
    form = EnableTwoFactorForm()
    secret = session.get("totp_pending")
    if secret and form.validate_on_submit():
        try:
            codes = services.enable_two_factor(
                organiser=current_user, secret=secret, code=form.code.data
            )
        except services.OrganiserError as error:
            form.code.errors.append(str(error))
        else:
            db.session.commit()
            session.pop("totp_pending", None)
            # Shown once, in this response: only their hashes are kept.
            return render_template("auth/recovery_codes.html", codes=codes)
    if not secret:
        form.code.errors.append("Start again: the set-up had expired.")
        secret = services.start_two_factor()
        session["totp_pending"] = secret
    uri = two_factor.provisioning_uri(
        secret=secret, email=current_user.email, issuer=current_settings().organisation_name
    )
    page = render_template(
        "auth/two_factor.html", form=form, secret=secret, qr_code=two_factor.qr_code_svg(uri)
    )
    return page, 422


@account_bp.post("/two-factor/disable")
def disable_two_factor() -> Response | tuple[str, int]:
    form = DisableTwoFactorForm()
    if form.validate_on_submit():
        try:
            services.disable_two_factor(organiser=current_user, password=form.password.data)
        except services.OrganiserError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            flash("Two-factor sign-in is off.", "success")
            return redirect(url_for("manage.account.index"))
    return _account_page(422, disable_form=form)


# --- the team, under /manage/team/ (admins only: see placeevents.manage)

team_bp = Blueprint("team", __name__, url_prefix="/team")


def _team_page(status: int = 200, invite_form: InviteForm | None = None) -> tuple[str, int]:
    return render_template(
        "auth/team.html",
        team=services.team(),
        last_admin_id=services.last_admin_id(),
        invite_form=invite_form or InviteForm(formdata=None),
        Role=Role,
    ), status


def _organiser_or_404(organiser_id: int) -> Organiser:
    return db.get_or_404(Organiser, organiser_id)


@team_bp.get("/", endpoint="index")
def team_index() -> tuple[str, int]:
    return _team_page()


@team_bp.post("/invite")
def invite() -> Response | tuple[str, int]:
    form = InviteForm()
    if form.validate_on_submit():
        try:
            organiser = services.invite_colleague(
                email=form.email.data, role=Role(form.role.data), invited_by=current_user
            )
        except services.OrganiserError as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"We have mailed an invitation to {organiser.email}.", "success")
            return redirect(url_for("manage.admin.team.index"))
    return _team_page(422, invite_form=form)


def _team_change(change: Callable[[Organiser], None], organiser_id: int, done: str) -> Response:
    organiser = _organiser_or_404(organiser_id)
    try:
        change(organiser)
    except services.OrganiserError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(done.format(name=organiser.name or organiser.email), "success")
    return redirect(url_for("manage.admin.team.index"))


@team_bp.post("/<id:organiser_id>/role")
def change_role(organiser_id: int) -> Response:
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    role = Role(form.role.data)
    return _team_change(
        lambda o: services.change_role(organiser=o, role=role),
        organiser_id,
        "{name} is now " + ("an admin." if role == Role.ADMIN else "an organiser."),
    )


@team_bp.post("/<id:organiser_id>/deactivate")
def deactivate(organiser_id: int) -> Response:
    _confirmed()
    return _team_change(
        lambda o: services.deactivate(organiser=o),
        organiser_id,
        "{name} can no longer sign in; their sessions have ended.",
    )


@team_bp.post("/<id:organiser_id>/reactivate")
def reactivate(organiser_id: int) -> Response:
    _confirmed()
    return _team_change(
        lambda o: services.reactivate(organiser=o), organiser_id, "{name} can sign in again."
    )


@team_bp.post("/<id:organiser_id>/two-factor-reset")
def reset_two_factor(organiser_id: int) -> Response:
    _confirmed()
    if organiser_id == current_user.id:
        abort(403, description="Another admin turns off your two-factor sign-in, not you.")
    return _team_change(
        lambda o: services.reset_two_factor(organiser=o),
        organiser_id,
        "Two-factor sign-in is off for {name}; they sign in with their password and may set it up "
        "again.",
    )
