"""The organiser area: every page under /manage/ needs a logged-in organiser, checked here.

Each domain keeps its organiser views in a blueprint of its own; create_blueprint nests them
all under this one, so the login check below is the only one there is.
"""

from flask import Blueprint, render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from placeevents.caching import no_store
from placeevents.clock import utcnow
from placeevents.enquiries.models import EnquiryStatus
from placeevents.enquiries.services import all_enquiries
from placeevents.extensions import login_manager


def _require_organiser() -> Response | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def index() -> str:
    enquiries = all_enquiries()
    current = [e for e in enquiries if e.status == EnquiryStatus.CURRENT]
    archived = [e for e in enquiries if e.status == EnquiryStatus.ARCHIVED]
    return render_template("manage/index.html", current=current, archived=archived, now=utcnow())


def create_blueprint(*children: Blueprint) -> Blueprint:
    """The /manage/ blueprint with every domain's organiser blueprint nested under it."""
    bp = Blueprint("manage", __name__, url_prefix="/manage")
    bp.before_request(_require_organiser)
    # Organiser pages hold personal data: never cached by browsers or proxies.
    bp.after_request(no_store)
    bp.add_url_rule("/", "index", index)
    for child in children:
        bp.register_blueprint(child)
    return bp
