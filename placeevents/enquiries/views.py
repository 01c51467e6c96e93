"""Public pages of an enquiry: the home page, an enquiry's page and the archive."""

from flask import Blueprint, abort, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from placeevents.enquiries import services
from placeevents.enquiries.models import Enquiry
from placeevents.extensions import db

bp = Blueprint("enquiries", __name__)


@bp.get("/")
def home() -> str:
    enquiry = services.current_enquiry()
    upcoming, past = services.public_events(enquiry) if enquiry else ([], [])
    return render_template(
        "enquiries/home.html",
        enquiry=enquiry,
        upcoming=upcoming,
        past=past,
        archived=services.archived_enquiries(),
    )


@bp.get("/enquiries/<slug>")
def show(slug: str) -> str:
    enquiry = db.session.scalar(
        select(Enquiry).where(Enquiry.slug == slug).options(selectinload(Enquiry.questions))
    )
    if enquiry is None:
        abort(404)
    upcoming, past = services.public_events(enquiry)
    return render_template("enquiries/show.html", enquiry=enquiry, upcoming=upcoming, past=past)


@bp.get("/archive")
def archive() -> str:
    return render_template("enquiries/archive.html", archived=services.archived_enquiries())

manage_bp = Blueprint("enquiries", __name__, url_prefix="/enquiries")
