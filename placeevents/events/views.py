"""Public event pages."""

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from placeevents.events.models import Event
from placeevents.extensions import db

bp = Blueprint("events", __name__)


@bp.get("/events/<slug>")
def show(slug: str) -> str:
    event = db.session.scalar(select(Event).where(Event.slug == slug))
    if event is None or not event.is_public:
        abort(404)
    return render_template("events/show.html", event=event)

manage_bp = Blueprint("events", __name__, url_prefix="/events")
