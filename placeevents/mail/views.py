"""Pages of the mail domain: the dev mailbox (bp) and the organisers' outbox page (manage_bp)."""

from io import BytesIO

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from placeevents.extensions import db
from placeevents.mail import devmailbox
from placeevents.mail.bounces import list_bounces
from placeevents.mail.delivery import uses_mailbox
from placeevents.mail.requests import failed_requests
from placeevents.mail.services import (
    MailError,
    outbox_overview,
    remove_from_bounce_list,
    retry_message,
)

bp = Blueprint("mail", __name__)
manage_bp = Blueprint("mail", __name__, url_prefix="/mail")

# The mail HTML is shown sandboxed: no script, nothing fetched, links open the whole window.
MAILBOX_HTML_POLICY = "; ".join(
    [
        "default-src 'none'",
        "img-src data:",
        "style-src 'unsafe-inline'",
        "frame-ancestors 'self'",
        "sandbox allow-popups allow-popups-to-escape-sandbox"
        " allow-top-navigation-by-user-activation",
    ]
)


# --- the development mailbox


@bp.before_request
def _development_only() -> None:
    if current_app.config["PLACEEVENTS_ENV"] != "development":
        abort(404)


@bp.get("/dev/mailbox")
def mailbox() -> str:
    return render_template(
        "mail/mailbox.html", messages=devmailbox.list_messages(), active=uses_mailbox()
    )


@bp.get("/dev/mailbox/<name>")
def mailbox_message(name: str) -> str:
    message = devmailbox.read_message(name) or abort(404)
    return render_template(
        "mail/mailbox_message.html", message=message, text=devmailbox.linkify(message.text())
    )


@bp.get("/dev/mailbox/<name>/html")
def mailbox_html(name: str) -> Response:
    message = devmailbox.read_message(name) or abort(404)
    html = message.html()
    if html is None:
        abort(404)
    response = Response(devmailbox.framed_html(html), mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAILBOX_HTML_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/dev/mailbox/<name>/parts/<int:index>")
def mailbox_part(name: str, index: int) -> Response:
    message = devmailbox.read_message(name) or abort(404)
    found = message.part(index) or abort(404)
    part, payload = found
    return send_file(
        BytesIO(payload), mimetype=part.content_type, as_attachment=True,
        download_name=part.filename,
    )


# --- organisers: the outbox


@manage_bp.get("/")
def index() -> str:
    return render_template(
        "mail/index.html",
        overview=outbox_overview(),
        bounces=list_bounces(),
        failed_requests=failed_requests(),
        mailbox=uses_mailbox(),
    )


@manage_bp.post("/messages/<id:message_id>/retry")
def retry(message_id: int) -> BaseResponse:
    try:
        message = retry_message(message_id=message_id)
    except MailError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("manage.mail.index"))
    db.session.commit()
    flash(f"Message {message.id} to {', '.join(message.recipient_list)} will be sent again.")
    return redirect(url_for("manage.mail.index"))


@manage_bp.post("/bounces/<id:bounce_id>/remove")
def remove_bounce(bounce_id: int) -> BaseResponse:
    bounce = remove_from_bounce_list(bounce_id=bounce_id) or abort(404)
    db.session.commit()
    flash(f"{bounce.email} is off the bounce list; mail to it will be sent again.")
    return redirect(url_for("manage.mail.index"))
