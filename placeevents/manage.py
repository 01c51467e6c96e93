"""The organiser area: every page under /manage/ needs a logged-in organiser, checked here.

Each domain keeps its organiser views in a blueprint of its own; create_blueprint nests them
all under this one, so the login check below is the only one there is. The admins' pages (the
team, the settings) are nested one level deeper, under "manage.admin", whose one check refuses
everyone else.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from placeevents.caching import no_store
from placeevents.clock import utcnow
from placeevents.enquiries.models import EnquiryStatus
from placeevents.enquiries.services import all_enquiries
from placeevents.extensions import login_manager
from placeevents.settings.services import current_settings

# Pages an admin still reaches while the settings require a two-factor set-up they lack.
TWO_FACTOR_SET_UP = "manage.account."


def _require_organiser() -> Response | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if (
        current_user.is_admin
        and not current_user.has_two_factor
        and not (request.endpoint or "").startswith(TWO_FACTOR_SET_UP)
        and current_settings().admins_need_two_factor
    ):
        flash("Admins must use two-factor sign-in: please set it up first.", "info")
        return redirect(url_for("manage.account.two_factor_setup"))
    return None


def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403, description="Only an admin can do that.")


def index() -> str:
    enquiries = all_enquiries()
    current = [e for e in enquiries if e.status == EnquiryStatus.CURRENT]
    archived = [e for e in enquiries if e.status == EnquiryStatus.ARCHIVED]
    return render_template("manage/index.html", current=current, archived=archived, now=utcnow())


def create_blueprint(*children: Blueprint, admin: tuple[Blueprint, ...] = ()) -> Blueprint:
    """The /manage/ blueprint with every domain's organiser blueprint nested under it, and the
    `admin` blueprints nested under "manage.admin" (same URLs, admins only)."""
    bp = Blueprint("manage", __name__, url_prefix="/manage")
    bp.before_request(_require_organiser)
    # Organiser pages hold personal data: never cached by browsers or proxies.
    bp.after_request(no_store)
    bp.add_url_rule("/", "index", index)
    for child in children:
        bp.register_blueprint(child)
    admin_bp = Blueprint("admin", __name__)
    admin_bp.before_request(_require_admin)
    for child in admin:
        admin_bp.register_blueprint(child)
    bp.register_blueprint(admin_bp)
    return bp
