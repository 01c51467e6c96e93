"""Building messages and queueing them in the caller's transaction."""

import email.policy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import render_template
from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session, SessionTransaction

from placeevents.addresses import ascii_domain
from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.mail.models import OutboxMessage, OutboxStatus
from placeevents.settings.services import current_settings

# CRLF line ends (smtplib sends stored bytes as they are, and servers refuse bare LFs), and
# room for a long link on one header line: folding a List-Unsubscribe link would turn it into
# RFC 2047 encoded words, which RFC 2369 readers do not decode.
WIRE_POLICY = email.policy.SMTP.clone(max_line_length=998)
# A mailbox name that is not ASCII cannot be encoded (RFC 2047 forbids it in addresses): such a
# message carries UTF-8 headers (RFC 6532) and goes out with SMTPUTF8.
UTF8_WIRE_POLICY = email.policy.SMTPUTF8.clone(max_line_length=998)
ADDRESS_HEADERS = ("From", "Sender", "Reply-To", "To", "Cc")

# Workers LISTEN here on PostgreSQL; enqueue() NOTIFYs, which the server delivers on commit.
OUTBOX_CHANNEL = "placeevents_outbox"


class MailHeaderError(ValueError):
    """A header value would carry a line break or other control character."""


@dataclass(frozen=True)
class RenderedEmail:
    """A mail rendered from templates/email/<name>.{subject.txt,txt,html}."""

    subject: str
    text: str
    html: str


def subject_as_sent(subject: str) -> str:
    """A mail's subject as every mail carries it: the settings' subject prefix first, once."""
    return current_settings().prefixed(subject)


def render_email(name: str, **context: object) -> RenderedEmail:
    """Render a mail's subject, text and HTML from its template triple."""
    subject = " ".join(render_template(f"email/{name}.subject.txt", **context).split())
    # The HTML part's title is the subject as sent: filters score a title unlike it as spam.
    mail_subject = subject_as_sent(subject)
    return RenderedEmail(
        subject=subject,
        text=render_template(f"email/{name}.txt", **context),
        html=render_template(f"email/{name}.html", mail_subject=mail_subject, **context),
    )


def _check_header(value: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise MailHeaderError("header values may not contain control characters")
    return value


def _check_header_name(name: str) -> str:
    # RFC 5322 field names: printable ASCII except the colon.
    if not name or any(not 33 <= ord(ch) <= 126 or ch == ":" for ch in name):
        raise MailHeaderError(f"not a header name: {name!r}")
    return name


def address(email: str, name: str = "") -> Address:
    """A To/From address; the display name is encoded, never spliced in raw.

    Line breaks and tabs in a stored name become spaces (one odd row must not stop a bulk
    send); any other control character is refused.
    """
    _check_header(email)
    name = " ".join(name.split())
    _check_header(name)
    username, _, domain = email.rpartition("@")
    if not username or not domain:
        raise MailHeaderError(f"not an email address: {email!r}")
    return Address(display_name=name, username=username, domain=domain)


def default_sender() -> Address:
    """The From address: the sender's name and address on the settings page (by default
    MAIL_DEFAULT_SENDER's)."""
    settings = current_settings()
    return address(settings.sender_email, settings.sender_name)


def build_message(
    *,
    to: Address | str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: Mapping[str, str] | None = None,
    calendar: bytes | None = None,
    calendar_method: str | None = None,
    attachments: Iterable[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """Build a complete message: text, optional HTML, optional iMIP calendar part, attachments.

    With a calendar part the body is multipart/alternative [text/plain, text/html,
    text/calendar; method=...], as RFC 6047 expects.
    """
    message = EmailMessage()
    message["From"] = default_sender()
    message["To"] = to if isinstance(to, Address) else address(to)
    # The one place every kind of mail gets the settings' subject prefix.
    message["Subject"] = _check_header(subject_as_sent(subject))
    for key, value in (headers or {}).items():
        message[_check_header_name(key)] = _check_header(value)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    if calendar is not None:
        message.add_alternative(
            calendar,
            maintype="text",
            subtype="calendar",
            params={"method": calendar_method or "PUBLISH", "charset": "UTF-8"},
        )
        # add_alternative with bytes sets base64 and no charset; restate the charset.
        part = message.get_payload()[-1]
        part.set_param("charset", "UTF-8")
        if calendar_method:
            part.set_param("method", calendar_method)
    for filename, mimetype, data in attachments:
        maintype, _, subtype = mimetype.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


# Every mail the app sends is written by the app, not a person: autoresponders (RFC 3834) and
# Exchange's out-of-office replies stay quiet. Non-delivery reports still come back as bounces.
AUTOMATIC_HEADERS = {
    "Auto-Submitted": "auto-generated",
    "X-Auto-Response-Suppress": "OOF, AutoReply",
}


def enqueue(
    message: EmailMessage, *, kind: str = "", batch_key: str | None = None, bulk: bool = False
) -> OutboxMessage:
    """Store a message in the outbox in the current transaction; the worker sends it after commit.

    Assigns a stable Message-ID under the sender's domain, so a repeat after a lost
    acceptance reply carries the same one. `bulk` marks one of many sent alike (an invitation,
    a reminder, a newsletter) with `Precedence: bulk`, which mail systems expect of such mail.
    """
    [row] = enqueue_all([message], kind=kind, batch_key=batch_key, bulk=bulk)
    return row


def enqueue_all(
    messages: Iterable[EmailMessage],
    *,
    kind: str = "",
    batch_key: str | None = None,
    bulk: bool = False,
) -> list[OutboxMessage]:
    """enqueue() for many messages of one bulk send, stored with a single flush."""
    rows = [_outbox_row(message, kind, batch_key, bulk) for message in messages]
    if rows:
        db.session.add_all(rows)
        db.session.flush()
        wake_workers()
    return rows


@dataclass(frozen=True)
class PreparedMessage:
    """A message ready for the outbox: its wire bytes and what its row records of it."""

    message_id: str
    sender: str
    recipients: list[str]
    subject: str
    raw: bytes


def enqueue_prepared(
    messages: Iterable[PreparedMessage], *, kind: str = "", batch_key: str | None = None
) -> int:
    """Store prepared messages of one bulk send in one multi-row INSERT; how many were stored."""
    now = utcnow()
    values = [
        {
            "message_id": m.message_id,
            "kind": kind,
            "batch_key": batch_key,
            "sender": m.sender,
            "recipients": "\n".join(m.recipients),
            "subject": m.subject,
            "raw": m.raw,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "created_at": now,
        }
        for m in messages
    ]
    if values:
        db.session.execute(insert(OutboxMessage), values)
        wake_workers()
    return len(values)


def complete_headers(message: EmailMessage, *, bulk: bool) -> None:
    """Add what every queued message carries: the automatic-mail headers, `Precedence: bulk`
    for bulk mail, a Message-ID under the sender's domain and the Date."""
    for name, value in AUTOMATIC_HEADERS.items():
        if name not in message:
            message[name] = value
    if bulk and "Precedence" not in message:
        message["Precedence"] = "bulk"
    if "Message-ID" not in message:
        sender = message["From"].addresses[0].addr_spec
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    if "Date" not in message:
        message["Date"] = format_datetime(utcnow())


def prepare(message: EmailMessage, *, bulk: bool = False) -> PreparedMessage:
    """The message as the outbox stores it (Bcc taken out of the headers into the envelope)."""
    complete_headers(message, bulk=bulk)
    recipients = [
        a.addr_spec for header in ("To", "Cc", "Bcc") for a in _addresses(message, header)
    ]
    if "Bcc" in message:
        del message["Bcc"]
    return PreparedMessage(
        message_id=message["Message-ID"],
        sender=message["From"].addresses[0].addr_spec,
        recipients=recipients,
        subject=str(message["Subject"] or "")[:300],
        raw=wire_bytes(message),
    )


def _outbox_row(
    message: EmailMessage, kind: str, batch_key: str | None, bulk: bool
) -> OutboxMessage:
    prepared = prepare(message, bulk=bulk)
    return OutboxMessage(
        message_id=prepared.message_id,
        kind=kind,
        batch_key=batch_key,
        sender=prepared.sender,
        recipients="\n".join(prepared.recipients),
        subject=prepared.subject,
        raw=prepared.raw,
        next_attempt_at=utcnow(),
    )


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as sent: internationalised domains as A-labels, and UTF-8 headers only when
    a mailbox name needs them."""
    for header in ADDRESS_HEADERS:
        found = _addresses(message, header)
        if all(a.addr_spec.isascii() for a in found):
            continue
        message.replace_header(
            header, [Address(a.display_name, a.username, ascii_domain(a.domain)) for a in found]
        )
    international = any(
        not a.addr_spec.isascii() for h in ADDRESS_HEADERS for a in _addresses(message, h)
    )
    return message.as_bytes(policy=UTF8_WIRE_POLICY if international else WIRE_POLICY)


def wake_workers() -> None:
    """NOTIFY listening workers, once per transaction; PostgreSQL holds it back until commit."""
    session = db.session()
    if session.info.get("outbox_notified") or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(select(func.pg_notify(OUTBOX_CHANNEL, "")))
    session.info["outbox_notified"] = True


def _addresses(message: EmailMessage, header: str) -> list[Address]:
    value = message[header]
    return list(value.addresses) if value is not None else []


@event.listens_for(Session, "after_transaction_end")
def _forget_notified(session: Session, transaction: SessionTransaction) -> None:
    # Savepoints too (a NOTIFY rolled back with one must be sent again), not a flush's own.
    if transaction.parent is None or transaction.nested:
        session.info.pop("outbox_notified", None)


@dataclass(frozen=True)
class BatchProgress:
    """How far a bulk send has got."""

    queued: int
    sent: int
    failed: int

    @property
    def pending(self) -> int:
        return self.queued - self.sent - self.failed

    @property
    def done(self) -> bool:
        return self.pending == 0


def batch_progress(batch_key: str) -> BatchProgress:
    """Counts of one bulk send's messages: queued in all, sent, failed."""
    rows = db.session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.batch_key == batch_key)
        .group_by(OutboxMessage.status)
    ).all()
    counts = {status: n for status, n in rows}
    return BatchProgress(
        queued=sum(counts.values()),
        sent=counts.get(OutboxStatus.SENT, 0),
        failed=counts.get(OutboxStatus.FAILED, 0),
    )
