"""Enquiry pages: the home page, an enquiry's page and the archive; the organiser pages."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from placeevents.caching import public_page
from placeevents.enquiries import services
from placeevents.enquiries.forms import EnquiryForm, QuestionForm
from placeevents.enquiries.models import Enquiry, EnquiryQuestion
from placeevents.events.services import public_events
from placeevents.extensions import db
from placeevents.invitations.responses import answer_counts

bp = Blueprint("enquiries", __name__)


@bp.get("/")
@public_page
def home() -> str:
    enquiry = services.current_enquiry()
    upcoming, past = public_events(enquiry) if enquiry else ([], [])
    return render_template(
        "enquiries/home.html",
        enquiry=enquiry,
        questions=services.public_questions(enquiry) if enquiry else [],
        upcoming=upcoming,
        past=past,
        archived=services.archived_enquiries(),
    )


@bp.get("/enquiries/<slug>")
@public_page
def show(slug: str) -> str:
    enquiry = db.session.scalar(select(Enquiry).where(Enquiry.slug == slug))
    if enquiry is None:
        abort(404)
    upcoming, past = public_events(enquiry)
    return render_template(
        "enquiries/show.html",
        enquiry=enquiry,
        questions=services.public_questions(enquiry),
        upcoming=upcoming,
        past=past,
    )


@bp.get("/archive")
@public_page
def archive() -> str:
    return render_template("enquiries/archive.html", archived=services.archived_enquiries())


manage_bp = Blueprint("enquiries", __name__, url_prefix="/enquiries")

Page = str | tuple[str, int] | Response


def _field_error(form: EnquiryForm | QuestionForm, error: services.EnquiryError) -> None:
    if error.field and error.field in form:
        form[error.field].errors = [*form[error.field].errors, error.message]
    else:
        flash(error.message, "error")


def _enquiry_form_valid(form: EnquiryForm) -> bool:
    """Whether a submitted enquiry form is valid; if not, the rules' errors join the form's."""
    if form.validate_on_submit():
        return True
    if form.is_submitted():
        rules = services.rule_errors(
            title=form.title.data or "", timezone=form.timezone.data or ""
        )
        for name, message in rules.items():
            if not form[name].errors:
                form[name].errors = [message]
    return False


def _status() -> int:
    return 422 if request.method == "POST" else 200


@manage_bp.get("/")
def index() -> str:
    return render_template("enquiries/manage/index.html", enquiries=services.all_enquiries())


@manage_bp.route("/new", methods=["GET", "POST"])
def new() -> Page:
    form = EnquiryForm()
    if _enquiry_form_valid(form):
        try:
            enquiry = services.create_enquiry(**form.values())
        except services.EnquiryError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash("The enquiry is open: it is the current one on the home page.", "info")
            return redirect(url_for("manage.enquiries.show", enquiry_id=enquiry.id))
    return render_template("enquiries/manage/form.html", form=form, enquiry=None), _status()


def _enquiry_page(enquiry_id: int, question_form: QuestionForm) -> str:
    enquiry = services.enquiry_for_organisers(enquiry_id)
    if enquiry is None:
        abort(404)
    return render_template(
        "enquiries/manage/show.html",
        enquiry=enquiry,
        question_form=question_form,
        home_enquiry=services.current_enquiry(),
        answers=answer_counts(event_ids=[event.id for event in enquiry.events]),
    )


@manage_bp.get("/<id:enquiry_id>", endpoint="show")
def manage_show(enquiry_id: int) -> str:
    return _enquiry_page(enquiry_id, QuestionForm(formdata=None))


@manage_bp.route("/<id:enquiry_id>/edit", methods=["GET", "POST"])
def edit(enquiry_id: int) -> Page:
    enquiry = db.get_or_404(Enquiry, enquiry_id)
    form = EnquiryForm(obj=enquiry)
    if _enquiry_form_valid(form):
        try:
            services.update_enquiry(enquiry=enquiry, **form.values())
        except services.EnquiryError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash("The enquiry is saved.", "info")
            return redirect(url_for("manage.enquiries.show", enquiry_id=enquiry_id))
    return render_template("enquiries/manage/form.html", form=form, enquiry=enquiry), _status()


@manage_bp.post("/<id:enquiry_id>/archive", endpoint="archive")
def manage_archive(enquiry_id: int) -> Response:
    services.archive_enquiry(enquiry=db.get_or_404(Enquiry, enquiry_id))
    db.session.commit()
    flash("The enquiry is archived: it is listed with the earlier enquiries.", "info")
    return redirect(url_for("manage.enquiries.show", enquiry_id=enquiry_id))


@manage_bp.post("/<id:enquiry_id>/make-current")
def make_current(enquiry_id: int) -> Response:
    services.make_current(enquiry=db.get_or_404(Enquiry, enquiry_id))
    db.session.commit()
    flash("This is now the current enquiry, shown on the home page.", "info")
    return redirect(url_for("manage.enquiries.show", enquiry_id=enquiry_id))


@manage_bp.post("/<id:enquiry_id>/questions")
def add_question(enquiry_id: int) -> Page:
    enquiry = db.get_or_404(Enquiry, enquiry_id)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            services.add_question(
                enquiry=enquiry, title=form.title.data or "", body=form.body.data or ""
            )
        except services.EnquiryError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash("The line of enquiry is added.", "info")
            return redirect(url_for("manage.enquiries.show", enquiry_id=enquiry_id) + "#questions")
    return _enquiry_page(enquiry_id, form), 422


@manage_bp.route("/questions/<id:question_id>/edit", methods=["GET", "POST"])
def edit_question(question_id: int) -> Page:
    question = db.get_or_404(EnquiryQuestion, question_id)
    form = QuestionForm(obj=question)
    if form.validate_on_submit():
        try:
            services.update_question(
                question=question, title=form.title.data or "", body=form.body.data or ""
            )
        except services.EnquiryError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash("The line of enquiry is saved.", "info")
            return redirect(
                url_for("manage.enquiries.show", enquiry_id=question.enquiry_id) + "#questions"
            )
    return render_template(
        "enquiries/manage/question.html", form=form, question=question
    ), _status()


@manage_bp.post("/questions/<id:question_id>/move")
def move_question(question_id: int) -> Response:
    question = db.get_or_404(EnquiryQuestion, question_id)
    offset = -1 if request.form.get("direction") == "up" else 1
    services.move_question(question=question, offset=offset)
    db.session.commit()
    return redirect(url_for("manage.enquiries.show", enquiry_id=question.enquiry_id) + "#questions")


@manage_bp.post("/questions/<id:question_id>/remove")
def remove_question(question_id: int) -> Response:
    question = db.get_or_404(EnquiryQuestion, question_id)
    enquiry_id = question.enquiry_id
    services.remove_question(question=question)
    db.session.commit()
    flash("The line of enquiry is removed.", "info")
    return redirect(url_for("manage.enquiries.show", enquiry_id=enquiry_id) + "#questions")
