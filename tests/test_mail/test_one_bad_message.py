"""One message that cannot go out never stops the others: international addresses, odd errors."""

import email
import email.policy
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from placeevents.extensions import db
from placeevents.mail import delivery
from placeevents.mail.delivery import deliver_due
from placeevents.mail.models import OutboxMessage, OutboxStatus
from tests.test_mail.conftest import ScriptedServer, queue_mail

GOOD = ["ada@example.org", "bob@example.org", "cy@example.org"]
INTERNATIONAL = "üser@example.com"
IDN = "ida@bücher.de"


def _by_recipient() -> dict[str, OutboxMessage]:
    db.session.expire_all()
    return {row.recipients: row for row in db.session.scalars(select(OutboxMessage))}


def test_international_addresses_are_delivered_with_smtputf8_and_a_labels(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()  # aiosmtpd's controller offers SMTPUTF8
    mail_app(**server.config())
    queue_mail(0, recipients=[GOOD[0], INTERNATIONAL, IDN])

    report = deliver_due()

    assert (report.sent, report.failed, report.stopped) == (3, 0, None)
    received = {d.rcpt_tos[0]: d for d in server.handler.received}
    assert set(received) == {GOOD[0], INTERNATIONAL, "ida@xn--bcher-kva.de"}
    utf8 = received[INTERNATIONAL]
    # UTF-8 headers (RFC 6532): the address itself, not RFC 2047 encoded words around it.
    headers = email.message_from_string(utf8.raw.decode(), policy=email.policy.default)
    assert headers["To"].addresses[0].addr_spec == INTERNATIONAL
    assert b"=?utf-8?" not in utf8.raw.partition(b"\r\n\r\n")[0]
    # A domain alone needs no SMTPUTF8: its A-labels are plain ASCII, in the header too.
    idn = received["ida@xn--bcher-kva.de"]
    assert idn.raw.partition(b"\r\n\r\n")[0].isascii()
    assert idn.message["To"].addresses[0].addr_spec == "ida@xn--bcher-kva.de"
    # The outbox keeps the address as the app knows it (bounces and erasure match on it).
    assert set(_by_recipient()) == {GOOD[0], INTERNATIONAL, IDN}


@pytest.mark.parametrize("command", [["outbox", "send"], ["worker", "--once"]])
def test_a_server_without_smtputf8_fails_only_that_message_and_the_batch_goes_on(
    mail_app: Callable[..., Flask],
    scripted_smtp: Callable[..., ScriptedServer],
    command: list[str],
) -> None:
    server = scripted_smtp(enable_SMTPUTF8=False)
    app = mail_app(**server.config())
    queue_mail(0, recipients=[GOOD[0], INTERNATIONAL, GOOD[1], IDN, GOOD[2]])

    result = app.test_cli_runner().invoke(args=command)

    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert "sent 4, retried 0, failed 1" in result.output
    rows = _by_recipient()
    assert rows[INTERNATIONAL].status == OutboxStatus.FAILED
    assert "SMTPUTF8" in rows[INTERNATIONAL].last_error
    assert all(rows[a].status == OutboxStatus.SENT for a in [*GOOD, IDN])
    assert sorted(d.rcpt_tos[0] for d in server.handler.received) == sorted(
        [*GOOD, "ida@xn--bcher-kva.de"]
    )
    assert len(set(server.handler.peers)) == 1  # one connection, kept after the refusal


def test_a_failed_international_message_shows_its_reason_to_organisers(
    make_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer],
    make_organiser: Callable[..., Any],
) -> None:
    server = scripted_smtp(enable_SMTPUTF8=False)
    app = make_app(**server.config())
    with app.app_context():
        make_organiser(email="organiser@example.org")
        queue_mail(0, recipients=[INTERNATIONAL, GOOD[0]])
        client = app.test_client()
        client.post("/login", data={"email": "organiser@example.org",
                                    "password": "correct horse battery staple"})
        page = client.get("/manage/mail/").get_data(as_text=True)
    assert INTERNATIONAL in page and "SMTPUTF8" in page


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (UnicodeEncodeError("ascii", "ü", 0, 1, "ordinal not in range(128)"), OutboxStatus.FAILED),
        (RuntimeError("something nobody foresaw"), OutboxStatus.PENDING),
    ],
)
def test_any_error_sending_one_message_settles_that_message_alone(
    mail_app: Callable[..., Flask],
    scripted_smtp: Callable[..., ScriptedServer],
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    status: OutboxStatus,
) -> None:
    server = scripted_smtp()
    app = mail_app(**server.config())
    queue_mail(0, recipients=[GOOD[0], "poison@example.org", GOOD[1], GOOD[2]])
    send = delivery.SMTPTransport.send

    def poisoned(self: Any, sender: str, recipients: list[str], raw: bytes) -> Any:
        if recipients == ["poison@example.org"]:
            raise error
        return send(self, sender, recipients, raw)

    monkeypatch.setattr(delivery.SMTPTransport, "send", poisoned)

    result = app.test_cli_runner().invoke(args=["outbox", "send"])

    assert result.exit_code == 0, result.output
    rows = _by_recipient()
    poison = rows["poison@example.org"]
    assert poison.status == status and poison.attempts == 1
    assert str(error) in poison.last_error
    assert poison.claimed_by is None  # settled, not left leased
    assert all(rows[a].status == OutboxStatus.SENT for a in GOOD)
    assert sorted(d.rcpt_tos[0] for d in server.handler.received) == GOOD
