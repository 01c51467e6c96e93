"""Delivering outbox messages: claim a batch with a lease, send it over one connection, retry.

Delivery is at least once with at most one repeat: each message is marked sent and committed
as soon as the server accepts it, so only a message whose acceptance reply was lost is sent
again, with the same Message-ID.

A message the server refuses for good (a 5xx for its recipient or its content, or a recipient
already on the bounce list) is failed in one transaction with what its domain registered for
such a refusal (placeevents.mail.refusals). Giving up after temporary failures, or a message we
cannot build or send as stored, is not a refusal: the address may well work.
"""

import hashlib
import os
import smtplib
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from flask import current_app
from flask_mail import Connection
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from placeevents.addresses import wire_address
from placeevents.clock import utcnow
from placeevents.extensions import db, mail
from placeevents.mail.backoff import retry_delay
from placeevents.mail.bounces import bounced_among, record_bounce
from placeevents.mail.models import OutboxMessage, OutboxStatus
from placeevents.mail.refusals import RefusedMessage, tell_refused
from placeevents.mail.requests import answer_due_requests, requests_due


class MailConfigurationError(Exception):
    """The mail server refused us as a whole (5xx at connect or login, no server set)."""


@dataclass
class DeliveryReport:
    """What one delivery pass did; `stopped` says why it ended early, if it did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    stopped: str | None = None
    # Mail requests from public forms answered before the sending (placeevents.mail.requests).
    requests: int = 0

    def __str__(self) -> str:
        line = f"sent {self.sent}, retried {self.retried}, failed {self.failed}"
        if self.requests:
            line = f"{line}, answered {self.requests} requests"
        return f"{line}; stopped: {self.stopped}" if self.stopped else line


@dataclass
class _Claimed:
    id: int
    message_id: str
    sender: str
    recipients: list[str]
    raw: bytes | None
    attempts: int
    # Until when this worker's lease on the message runs, as it last wrote it.
    held_until: datetime
    kind: str = ""
    batch_key: str | None = None


# --- transports


class Transport(Protocol):
    """Where claimed messages go: an SMTP connection or the development mailbox."""

    @property
    def connected(self) -> bool: ...

    def send(self, sender: str, recipients: list[str], raw: bytes) -> dict[str, Any]: ...

    def reset(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


class TimeoutConnection(Connection):
    """Flask-Mail's connection with a socket timeout (Flask-Mail 0.10 opens one without)."""

    def __init__(self, state: Any, *, timeout: float) -> None:
        super().__init__(state)
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP:
        state = self.mail
        smtp_class = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = smtp_class(state.server, state.port, timeout=self.timeout)
        try:
            host.set_debuglevel(int(state.debug))
            if state.use_tls:
                host.starttls()
            if state.username and state.password:
                host.login(state.username, state.password)
        except BaseException:
            host.close()
            raise
        return host

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.host is None:
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            # A server that dropped us cannot say goodbye; the socket is closed either way.
            self.host.close()


class SMTPTransport:
    """The configured SMTP server, reached through Flask-Mail's settings and connection."""

    def __init__(self) -> None:
        app = current_app
        # Read the live configuration, so a changed MAIL_* setting takes effect at once.
        state = mail.init_mail(app.config, app.debug, app.testing)
        self.connection = TimeoutConnection(state, timeout=app.config["MAIL_TIMEOUT"])

    def __enter__(self) -> Self:
        self.connection.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.connection.__exit__(*exc)

    @property
    def connected(self) -> bool:
        host = self.connection.host
        return host is None or host.sock is not None

    def send(self, sender: str, recipients: list[str], raw: bytes) -> dict[str, Any]:
        """Send over the open connection; refusals are keyed by the addresses as given."""
        host = self.connection.host
        if host is None:
            return {}  # MAIL_SUPPRESS_SEND: Flask-Mail's "pretend to send"
        envelope = {wire_address(a): a for a in recipients}
        sender = wire_address(sender)
        headers = raw.partition(b"\r\n\r\n")[0]
        international = not (sender.isascii() and all(a.isascii() for a in envelope))
        # Without SMTPUTF8 on offer, smtplib raises SMTPNotSupportedError before MAIL FROM.
        options = ["SMTPUTF8"] if international or not headers.isascii() else []
        try:
            refused = host.sendmail(sender, list(envelope), raw, mail_options=options)
        except smtplib.SMTPRecipientsRefused as exc:
            raise smtplib.SMTPRecipientsRefused(
                {envelope.get(a, a): reply for a, reply in exc.recipients.items()}
            ) from exc
        return {envelope.get(a, a): reply for a, reply in refused.items()}

    def reset(self) -> None:
        """After an unforeseen error mid-message: start afresh, or hang up if that fails."""
        host = self.connection.host
        if host is None or host.sock is None:
            return
        try:
            host.rset()
        except (smtplib.SMTPException, OSError):
            host.close()


class MailboxTransport:
    """Development without a mail server: each message becomes an .eml file in a folder."""

    connected = True

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __enter__(self) -> Self:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def send(self, sender: str, recipients: list[str], raw: bytes) -> dict[str, Any]:
        digest = hashlib.sha256(raw).hexdigest()[:12]
        name = f"{utcnow():%Y%m%d-%H%M%S-%f}-{digest}.eml"
        partial = self.directory / f".{name}.part"
        partial.write_bytes(raw)
        partial.replace(self.directory / name)
        return {}

    def reset(self) -> None:
        return None


def mailbox_dir() -> Path:
    """The development mailbox folder (PLACEEVENTS_MAILBOX_DIR, else instance/mailbox)."""
    configured = current_app.config.get("PLACEEVENTS_MAILBOX_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "mailbox"


def uses_mailbox() -> bool:
    """Whether mail goes to the development mailbox rather than a server."""
    config = current_app.config
    return (
        config["PLACEEVENTS_ENV"] == "development"
        and not config["MAIL_SERVER"]
        and not config["MAIL_SUPPRESS_SEND"]
    )


def open_transport() -> Transport:
    """The transport the configuration asks for (not yet connected)."""
    config = current_app.config
    if uses_mailbox():
        return MailboxTransport(mailbox_dir())
    if not config["MAIL_SERVER"] and not config["MAIL_SUPPRESS_SEND"]:
        raise MailConfigurationError("MAIL_SERVER is not set")
    return SMTPTransport()


# --- classifying failures

CONFIG, TEMPORARY, PERMANENT = "configuration", "temporary", "permanent"


def _response_text(code: int, response: bytes | str) -> str:
    text = response.decode("utf-8", "replace") if isinstance(response, bytes) else response
    return f"{code} {' '.join(text.split())}"


def classify(exc: BaseException) -> tuple[str, str]:
    """(kind, reason) for a delivery failure: configuration, temporary or permanent."""
    if isinstance(exc, MailConfigurationError):
        return CONFIG, str(exc)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return CONFIG, f"login refused: {_response_text(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return CONFIG, f"server does not support what the settings ask: {exc}"
    if isinstance(exc, smtplib.SMTPResponseException):
        reason = _response_text(exc.smtp_code, exc.smtp_error)
        if exc.smtp_code < 500:
            return TEMPORARY, reason
        # Refusing our connection, greeting or sender refuses every message alike.
        whole = (smtplib.SMTPConnectError, smtplib.SMTPHeloError, smtplib.SMTPSenderRefused)
        if isinstance(exc, whole):
            return CONFIG, f"server refused us: {reason}"
        return PERMANENT, reason
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TEMPORARY, f"connection lost: {exc}" if str(exc) else "connection lost"
    if isinstance(exc, TimeoutError):
        return TEMPORARY, "the mail server did not answer in time"
    if isinstance(exc, OSError):
        return TEMPORARY, f"could not reach the mail server: {exc.strerror or exc}"
    if isinstance(exc, ValueError):
        # Encoding and similar errors come from the message itself: another try changes nothing.
        return PERMANENT, f"this message cannot be sent as stored: {exc}"
    return TEMPORARY, str(exc) or type(exc).__name__


# --- the claim and its bookkeeping (each step commits: the worker commits per message)


def _claim_token() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _held(row_id: int, token: str) -> ColumnElement[bool]:
    return and_(
        OutboxMessage.id == row_id,
        OutboxMessage.claimed_by == token,
        OutboxMessage.status == OutboxStatus.PENDING,
    )


def _mail_due(cutoff: datetime, now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.next_attempt_at <= cutoff,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def _anything_due() -> tuple[bool, bool]:
    """Whether mail requests, and whether messages, are due: one read for an idle pass."""
    now = utcnow()
    requests, messages = db.session.execute(
        select(requests_due(now), exists().where(*_mail_due(now, now)))
    ).one()
    db.session.commit()
    return bool(requests), bool(messages)


def _claim(*, token: str, cutoff: datetime) -> list[_Claimed]:
    config = current_app.config
    now = utcnow()
    due = (
        select(OutboxMessage.id)
        .where(*_mail_due(cutoff, now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(config["MAIL_BATCH_SIZE"])
    )
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # One statement claims: on SQLite it runs under the write lock, so it is atomic there too.
    held_until = now + timedelta(seconds=config["MAIL_LEASE_SECONDS"])
    claimed = db.session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due))
        .values(claimed_by=token, claimed_until=held_until)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    rows: list[_Claimed] = []
    if claimed:
        result = db.session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.message_id,
                OutboxMessage.sender,
                OutboxMessage.recipients,
                OutboxMessage.raw,
                OutboxMessage.attempts,
                OutboxMessage.kind,
                OutboxMessage.batch_key,
            )
            .where(OutboxMessage.id.in_(claimed))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        )
        rows = [
            _Claimed(r.id, r.message_id, r.sender, [a for a in r.recipients.split("\n") if a],
                     r.raw, r.attempts, held_until, r.kind, r.batch_key)
            for r in result
        ]
    db.session.commit()
    return rows


def _update_held(row: _Claimed, token: str, **values: Any) -> bool:
    result = db.session.execute(
        update(OutboxMessage)
        .where(_held(row.id, token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _extend_lease(row: _Claimed, token: str) -> bool:
    """Make sure the lease outlasts one send before sending; True while this worker holds it.

    While more than half the lease is left nobody else can have claimed the message, so no
    round trip is needed: a batch claimed together is sent on the claim's lease, and only a
    slow batch writes a longer one.
    """
    lease = timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
    now = utcnow()
    if row.held_until - now > lease / 2:
        return True
    row.held_until = now + lease
    return _update_held(row, token, claimed_until=row.held_until)


def _mark_sent(row: _Claimed, token: str, note: str = "") -> None:
    held = _update_held(
        row, token, status=OutboxStatus.SENT, sent_at=utcnow(), attempts=row.attempts + 1,
        claimed_until=None, last_error=note,
    )
    if not held:
        current_app.logger.warning("message %s was sent after its lease ran out", row.message_id)


def _fail(row: _Claimed, token: str, reason: str, *, refused: bool = False) -> None:
    """Fail the message for good; `refused` when the server refused it (see the docstring)."""
    values: dict[str, Any] = {
        "status": OutboxStatus.FAILED, "attempts": row.attempts + 1, "claimed_by": None,
        "claimed_until": None, "last_error": reason[:2000],
    }
    held = db.session.execute(
        update(OutboxMessage)
        .where(_held(row.id, token))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if held and refused:
        problem = tell_refused(
            RefusedMessage(row.kind, row.batch_key, tuple(row.recipients), reason)
        )
        if problem:
            note = f"{reason}; what depended on it was not undone: {problem}"
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(last_error=note[:2000])
                .execution_options(synchronize_session=False)
            )
    db.session.commit()


def _retry(row: _Claimed, token: str, reason: str) -> bool:
    """Schedule another attempt, or fail the message once it has had its last; True if retried."""
    attempt = row.attempts + 1
    if attempt >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        _fail(row, token, f"gave up after {attempt} attempts: {reason}")
        return False
    _update_held(
        row, token, attempts=attempt, next_attempt_at=utcnow() + retry_delay(attempt),
        claimed_by=None, claimed_until=None, last_error=reason[:2000],
    )
    return True


def _release(rows: Iterable[_Claimed], token: str) -> None:
    ids = [row.id for row in rows]
    if ids:
        db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.claimed_by == token,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


# --- delivery


def _record_outcome(report: DeliveryReport, row: _Claimed, token: str, kind: str,
                    reason: str, *, refused: bool = False) -> None:
    if kind == PERMANENT:
        _fail(row, token, reason, refused=refused)
        report.failed += 1
    elif _retry(row, token, reason):
        report.retried += 1
    else:
        report.failed += 1


def _refused_recipients(
    report: DeliveryReport, row: _Claimed, token: str, refused: dict[str, tuple[int, bytes]],
    bounced: set[str],
) -> None:
    permanent = {a: r for a, r in refused.items() if r[0] >= 500}
    for address_, (code, response) in permanent.items():
        record_bounce(email=address_, reason=_response_text(code, response))
        bounced.add(address_.lower())
    reason = "; ".join(f"{a}: {_response_text(c, r)}" for a, (c, r) in refused.items())
    if permanent == refused:
        _record_outcome(report, row, token, PERMANENT, reason, refused=True)
    else:
        _record_outcome(report, row, token, TEMPORARY, reason)


def _deliver_batch(
    rows: list[_Claimed], token: str, report: DeliveryReport, should_stop: Callable[[], bool]
) -> None:
    bounced = bounced_among(a for row in rows for a in row.recipients)
    try:
        transport = open_transport().__enter__()
    except (MailConfigurationError, smtplib.SMTPException, OSError) as exc:
        kind, reason = classify(exc)
        if kind == CONFIG:
            _release(rows, token)
        else:
            for row in rows:
                _record_outcome(report, row, token, TEMPORARY, reason)
        current_app.logger.warning("mail delivery stopped: %s", reason)
        report.stopped = reason
        return
    try:
        _send_each(transport, rows, token, report, should_stop, bounced)
    finally:
        transport.__exit__(None, None, None)


def _send_each(
    transport: Transport, rows: list[_Claimed], token: str, report: DeliveryReport,
    should_stop: Callable[[], bool], bounced: set[str],
) -> None:
    waiting = list(rows)
    while waiting:
        if should_stop():
            _release(waiting, token)
            return
        row = waiting.pop(0)
        if not _extend_lease(row, token):
            continue  # the lease ran out and another worker has it
        recipients = [a for a in row.recipients if a.lower() not in bounced]
        if not recipients:
            # The server refused these addresses before: it is as good as refusing this one.
            _fail(row, token, "every recipient is on the bounce list", refused=True)
            report.failed += 1
            continue
        if row.raw is None:
            _fail(row, token, "the message body is no longer stored")
            report.failed += 1
            continue
        try:
            refused = transport.send(row.sender, recipients, row.raw)
        except smtplib.SMTPRecipientsRefused as exc:
            _refused_recipients(report, row, token, exc.recipients, bounced)
        except smtplib.SMTPNotSupportedError as exc:
            # Connected, so not STARTTLS: this message needs what the server lacks (SMTPUTF8).
            _fail(row, token, f"the mail server cannot take this message: {exc}")
            report.failed += 1
        except (smtplib.SMTPException, OSError) as exc:
            kind, reason = classify(exc)
            if kind == CONFIG:
                _release([row, *waiting], token)
                report.stopped = reason
                current_app.logger.warning("mail delivery stopped: %s", reason)
                return
            # A 5xx reply to the message (not our failure to build or send it) refuses it.
            refused_here = isinstance(exc, smtplib.SMTPResponseException)
            _record_outcome(report, row, token, kind, reason, refused=refused_here)
        except Exception as exc:
            # One message must never stop the rest: settle it, and start the next one afresh.
            current_app.logger.exception("could not send message %s", row.message_id)
            transport.reset()
            _record_outcome(report, row, token, *classify(exc))
        else:
            note = "; ".join(f"{a}: {_response_text(c, r)}" for a, (c, r) in refused.items())
            _mark_sent(row, token, note)
            for address_, (code, response) in refused.items():
                if code >= 500:
                    record_bounce(email=address_, reason=_response_text(code, response))
            db.session.commit()
            report.sent += 1
        if not transport.connected:
            # The rest wait for a fresh connection in the next batch.
            _release(waiting, token)
            return


def deliver_due(*, should_stop: Callable[[], bool] | None = None) -> DeliveryReport:
    """Answer due mail requests, then deliver every message due now, batch by batch; one pass.

    Each message is tried at most once per pass; a configuration error or an unreachable
    server ends the pass early, leaving the rest due.
    """
    stop = should_stop or (lambda: False)
    report = DeliveryReport()
    requests, messages = _anything_due()
    if requests:
        # First, so the mail a request leads to goes out in this same pass.
        report.requests = answer_due_requests(should_stop=stop)
    elif not messages:
        return report
    token = _claim_token()
    cutoff = utcnow()
    while report.stopped is None and not stop():
        rows = _claim(token=token, cutoff=cutoff)
        if not rows:
            break
        _deliver_batch(rows, token, report, stop)
    return report

