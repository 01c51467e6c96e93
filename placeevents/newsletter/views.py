"""Pages of the mailing list: public (bp) and organiser pages under /manage/ (manage_bp)."""

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from placeevents import erasure, limits
from placeevents.caching import no_store
from placeevents.db import reads_only_from_here
from placeevents.exports.csv import iter_csv
from placeevents.extensions import csrf, db
from placeevents.invitations import responses as invitation_responses
from placeevents.newsletter import imports, services, standing
from placeevents.newsletter.forms import (
    ActionForm,
    EraseForm,
    FilterForm,
    FreshLinkForm,
    ImportForm,
    InPersonForm,
    LinkActionForm,
    PreferencesForm,
    SignupForm,
    StandingForm,
)
from placeevents.newsletter.links import PREFERENCES, UNSUBSCRIBE, token_for
from placeevents.newsletter.models import ConsentSource, Subscriber, SubscriberStatus
from placeevents.public_forms import same_origin_only
from placeevents.settings.services import current_settings

bp = Blueprint("newsletter", __name__, url_prefix="/newsletter")
manage_bp = Blueprint("newsletter", __name__, url_prefix="/newsletter")

SIGNUP_PREFIX = "signup"

Page = str | tuple[str, int] | BaseResponse


def _signup_form() -> SignupForm:
    # Never bound to the request: the partial may sit on a page answering someone else's POST.
    return SignupForm(formdata=None, prefix=SIGNUP_PREFIX)


# The empty signup section differs only by the organisation's name (and the app's path).
SIGNUP_HTML_KEPT = 8


def _signup_html() -> Markup:
    # Every page showing the empty form shows the same HTML: rendered once per process.
    key = (request.script_root, current_settings().organisation_name)
    kept: dict[tuple[str, str], Markup] = current_app.extensions.setdefault(
        "placeevents.signup_html", {}
    )
    html = kept.get(key)
    if html is None:
        if len(kept) >= SIGNUP_HTML_KEPT:
            kept.clear()
        html = kept[key] = Markup(render_template("newsletter/_signup_section.html"))
    return html


@bp.app_context_processor
def _signup_context() -> dict[str, Any]:
    return {"newsletter_signup_form": _signup_form, "newsletter_signup_html": _signup_html}


# These pages carry link tokens or personal details: never cached.
bp.after_request(no_store)


def _status(form_posted: bool) -> int:
    return 422 if form_posted else 200


def _page_url(endpoint: str, purpose: str, subscriber: Subscriber) -> str:
    # Pages link relatively (CSP form-action 'self'); absolute links are for mail only.
    return url_for(endpoint, token=token_for(purpose, subscriber))


def _link_problem(error: services.InvalidLink) -> tuple[str, int]:
    expired = isinstance(error, services.ExpiredLink)
    return (
        render_template(
            "newsletter/link_problem.html",
            message=str(error),
            expired=expired,
            form=FreshLinkForm(formdata=None),
        ),
        410 if expired else 404,
    )


@bp.route("/signup", methods=["GET", "POST"])
@same_origin_only
@limits.SIGNUP
def signup() -> Page:
    form = SignupForm(prefix=SIGNUP_PREFIX)
    if form.validate_on_submit():
        services.request_signup(email=form.email.data, details=form.details())
        db.session.commit()
        # Shown, not redirected to: the page repeats the address typed so a typo can be seen,
        # and no session is needed to carry it.
        return render_template("newsletter/check_inbox.html", email=form.email.data)
    return render_template("newsletter/signup.html", signup_form=form), _status(form.is_submitted())


@bp.get("/check-your-inbox")
def check_inbox() -> str:
    return render_template("newsletter/check_inbox.html")


@bp.route("/fresh-link", methods=["GET", "POST"])
@same_origin_only
@limits.FRESH_LINK
def fresh_link() -> Page:
    form = FreshLinkForm()
    if form.validate_on_submit():
        services.request_fresh_link(email=form.email.data)
        db.session.commit()
        return redirect(url_for(".check_inbox"), 303)
    return render_template("newsletter/fresh_link.html", form=form), _status(form.is_submitted())


# Forms behind a personal link need no session: the token in the link is the proof.
@bp.route("/confirm/<token>", methods=["GET", "POST"])
@csrf.exempt
@limits.PERSONAL_LINK
def confirm(token: str) -> Page:
    form = LinkActionForm()
    try:
        if form.validate_on_submit():
            outcome = services.confirm_subscription(token=token, ip=request.remote_addr or "")
            db.session.commit()
            subscriber = outcome.subscriber
            template = "confirm" if outcome.already_confirmed else "confirmed"
        else:
            subscriber = services.subscriber_for_confirmation(token=token)
            template = "confirm"
    except services.InvalidLink as exc:
        return _link_problem(exc)
    return render_template(
        f"newsletter/{template}.html",
        form=form,
        subscriber=subscriber,
        masked_email=services.mask_email(subscriber.email),
        preferences_url=_page_url(".preferences", PREFERENCES, subscriber),
    )


@bp.route("/preferences/<token>", methods=["GET", "POST"])
@csrf.exempt
@limits.PERSONAL_LINK
def preferences(token: str) -> Page:
    try:
        subscriber = services.subscriber_for_preferences(token=token)
        form = PreferencesForm(
            data={
                "name": subscriber.name,
                "organisation": subscriber.organisation,
                "role": subscriber.role,
                "wants_in_person": subscriber.wants_in_person,
                "wants_online": subscriber.wants_online,
                "wants_news": subscriber.wants_news,
                "standing_for": sorted(standing.chosen_enquiry_ids(subscriber)),
            }
        )
        offered = standing.offered_enquiries()
        form.standing_for.choices = [
            (e.id, f"Invite me to every exploration of {e.title}") for e in offered
        ]
        if form.validate_on_submit():
            services.update_preferences(
                token=token,
                details=form.details(),
                # Someone unsubscribed is not shown the choice, so their form carries none.
                standing_for=form.standing_for.data
                if offered and subscriber.status != SubscriberStatus.UNSUBSCRIBED
                else None,
            )
            db.session.commit()
            flash("Your preferences are saved.", "success")
            return redirect(url_for(".preferences", token=token), 303)
    except services.InvalidLink as exc:
        return _link_problem(exc)
    return render_template(
        "newsletter/preferences.html",
        subscriber=subscriber,
        form=form,
        action=LinkActionForm(formdata=None),
        token=token,
        unsubscribe_url=_page_url(".unsubscribe", UNSUBSCRIBE, subscriber),
    ), _status(form.is_submitted())


@bp.route("/standing/<token>", methods=["GET", "POST"])
@csrf.exempt
@limits.PERSONAL_LINK
def standing_invitation(token: str) -> Page:
    # Linked from the welcome mail: GET only shows the buttons (mail scanners follow links).
    form = StandingForm()
    try:
        subscriber = services.subscriber_for_standing(token=token)
        if form.validate_on_submit():
            services.ask_standing(token=token, enquiry_id=form.enquiry_id.data)
            db.session.commit()
            return redirect(url_for(".standing_invitation", token=token), 303)
    except services.InvalidLink as exc:
        return _link_problem(exc)
    except services.NewsletterError as exc:
        form.enquiry_id.errors = [str(exc)]
    return render_template(
        "newsletter/standing.html",
        subscriber=subscriber,
        form=form,
        enquiries=standing.offered_enquiries(),
        chosen=standing.chosen_enquiry_ids(subscriber),
        preferences_url=_page_url(".preferences", PREFERENCES, subscriber),
    ), _status(form.is_submitted())


@bp.get("/preferences/<token>/my-data.json")
@limits.PERSONAL_LINK
def my_data(token: str) -> Page:
    try:
        data = services.personal_data(token=token)
    except services.InvalidLink as exc:
        return _link_problem(exc)
    data["invitations"] = invitation_responses.personal_data(email=data["email"])
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="what-we-hold-about-you.json"'},
    )


@bp.post("/preferences/<token>/subscribe")
@csrf.exempt
@limits.PERSONAL_LINK
def resubscribe(token: str) -> Page:
    if not LinkActionForm().validate_on_submit():
        abort(400)
    try:
        services.resubscribe(token=token, ip=request.remote_addr or "")
    except services.InvalidLink as exc:
        return _link_problem(exc)
    db.session.commit()
    flash("You are subscribed again. Thank you.", "success")
    return redirect(url_for(".preferences", token=token), 303)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
@limits.PERSONAL_LINK
def unsubscribe(token: str) -> Page:
    # RFC 8058: mail providers POST here with no cookie and no CSRF token; the link is the proof.
    try:
        if request.method == "POST":
            subscriber = services.unsubscribe(token=token)
            db.session.commit()
            # The way back: subscribe again at once, or adjust what we send instead.
            return render_template(
                "newsletter/unsubscribed.html",
                preferences_url=_page_url(".preferences", PREFERENCES, subscriber),
                resubscribe_url=_page_url(".resubscribe", PREFERENCES, subscriber),
                action=LinkActionForm(formdata=None),
            )
        subscriber = services.subscriber_for_unsubscribe(token=token)
    except services.InvalidLink as exc:
        return _link_problem(exc)
    return render_template("newsletter/unsubscribe.html", subscriber=subscriber)


# --- organiser pages


@manage_bp.context_processor
def _organiser_context() -> dict[str, Any]:
    return {"display_timezone": services.display_timezone}


def _filters(form: FilterForm) -> services.SubscriberFilter:
    return services.SubscriberFilter(
        search=form.q.data or "",
        status=SubscriberStatus(form.status.data) if form.status.data else None,
        interest=form.interest.data or None,
        source=ConsentSource(form.source.data) if form.source.data else None,
    )


@manage_bp.get("/")
def index() -> Page:
    form = FilterForm(request.args)
    valid = form.validate()
    filters = _filters(form) if valid else services.SubscriberFilter()
    page = services.list_subscribers(filters=filters, page=request.args.get("page", 1, type=int))
    return render_template(
        "newsletter/index.html",
        form=form,
        filters=filters,
        listing=page,
        export_form=ActionForm(formdata=None),
        statuses=list(SubscriberStatus),
    ), (200 if valid else 422)


@manage_bp.post("/export.csv")
def export() -> Page:
    form = FilterForm(request.form)
    if not (ActionForm().validate_on_submit() and form.validate()):
        abort(400)
    rows = services.export_subscribers(filters=_filters(form))
    db.session.commit()
    # The audit entry is committed: streaming the file only reads.
    reads_only_from_here()
    return Response(
        stream_with_context(iter_csv(services.EXPORT_HEADER, rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="subscribers.csv"'},
    )


@manage_bp.route("/new", methods=["GET", "POST"])
def new() -> Page:
    form = InPersonForm()
    if form.validate_on_submit():
        try:
            subscriber = services.add_in_person(
                email=form.email.data,
                details=form.details(),
                note=form.note.data,
                returning=form.returning.data,
            )
        except services.NewsletterError as exc:
            form.email.errors = [str(exc)]
        else:
            db.session.commit()
            flash(f"{subscriber.email} has been added and sent a confirmation mail.", "success")
            return redirect(url_for(".show", subscriber_id=subscriber.id), 303)
    return render_template("newsletter/new.html", form=form), _status(form.is_submitted())


@manage_bp.get("/<id:subscriber_id>")
def show(subscriber_id: int) -> Page:
    try:
        subscriber = services.get_subscriber(subscriber_id=subscriber_id)
    except services.NewsletterError:
        abort(404)
    return render_template(
        "newsletter/show.html", subscriber=subscriber, erase_form=EraseForm(formdata=None)
    )


@manage_bp.route("/erase", methods=["GET", "POST"])
def erase() -> Page:
    form = EraseForm()
    if form.validate_on_submit():
        try:
            report = erasure.erase_person(email=form.email.data)
        except services.NewsletterError as exc:
            form.email.errors = [str(exc)]
        else:
            db.session.commit()
            flash(f"Erased: {report.summary()}.", "success")
            return redirect(url_for(".index"), 303)
    return render_template("newsletter/erase.html", form=form), _status(form.is_submitted())


@manage_bp.route("/import", methods=["GET", "POST"])
def import_upload() -> Page:
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            batch = imports.start_import(filename=upload.filename or "", data=upload.read())
        except imports.ImportFileError as exc:
            form.file.errors = [str(exc)]
        else:
            db.session.commit()
            return redirect(url_for(".import_preview", batch_id=batch.id), 303)
    return render_template("newsletter/import.html", form=form), _status(form.is_submitted())


@manage_bp.get("/import/<id:batch_id>")
def import_preview(batch_id: int) -> Page:
    try:
        plan = imports.get_preview(batch_id=batch_id)
    except services.NewsletterError as exc:
        flash(str(exc), "warning")
        return redirect(url_for(".import_upload"), 303)
    return render_template(
        "newsletter/import_preview.html",
        plan=plan,
        actions=imports.RowAction,
        form=ActionForm(formdata=None),
    )


@manage_bp.post("/import/<id:batch_id>")
def import_apply(batch_id: int) -> Page:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        batch = imports.apply_import(batch_id=batch_id)
    except services.NewsletterError as exc:
        flash(str(exc), "warning")
        return redirect(url_for(".import_upload"), 303)
    db.session.commit()
    flash(
        f"Imported {batch.filename}: {batch.added} added, {batch.merged} merged, "
        f"{batch.skipped} skipped, {batch.errors} rows with errors left out.",
        "success",
    )
    return redirect(url_for(".index", source=ConsentSource.IMPORT.value), 303)
