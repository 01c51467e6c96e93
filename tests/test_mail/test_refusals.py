"""What a refusal undoes: delivery tells the handler a domain registered for a message's kind
when the server refuses the message for good, and only then."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from placeevents.extensions import db
from placeevents.mail import refusals
from placeevents.mail.bounces import record_bounce
from placeevents.mail.delivery import deliver_due
from placeevents.mail.models import OutboxMessage, OutboxStatus
from placeevents.mail.refusals import RefusedMessage
from tests.test_mail.conftest import ScriptedServer, queue_mail


@pytest.fixture
def told() -> Iterator[list[RefusedMessage]]:
    """Refusals of "test" messages, as a registered handler hears them."""
    heard: list[RefusedMessage] = []
    refusals.HANDLERS["test"] = heard.append
    yield heard
    del refusals.HANDLERS["test"]


def _row() -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage)).one()


def test_a_refused_recipient_is_told_with_the_kind_batch_key_and_reason(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer],
    told: list[RefusedMessage],
) -> None:
    server = scripted_smtp()
    server.handler.rcpt_replies = {"gone@example.org": "550 5.1.1 No such mailbox"}
    mail_app(**server.config())
    queue_mail(1, recipients=["gone@example.org"], batch_key="thing-7")

    deliver_due()

    [message] = told
    assert (message.kind, message.batch_key, message.recipients) == (
        "test", "thing-7", ("gone@example.org",),
    )  # fmt: skip
    assert "550 5.1.1 No such mailbox" in message.reason
    assert _row().status == OutboxStatus.FAILED


@pytest.mark.parametrize(
    "how", ["5xx at data", "already bounced", "4xx until the last try", "delivered"]
)
def test_only_a_refusal_for_good_is_told(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer],
    told: list[RefusedMessage], how: str,
) -> None:
    server = scripted_smtp()
    mail_app(**server.config(MAIL_MAX_ATTEMPTS=1))
    if how == "5xx at data":
        server.handler.data_script = ["554 5.7.1 Message refused"]
    if how == "already bounced":
        record_bounce(email="person1@example.org", reason="550 no such user")
    if how == "4xx until the last try":
        server.handler.data_script = ["451 4.3.0 Try later"]
    queue_mail(1)

    deliver_due()

    assert _row().status == (OutboxStatus.SENT if how == "delivered" else OutboxStatus.FAILED)
    assert len(told) == (1 if how in ("5xx at data", "already bounced") else 0)


def test_a_handler_that_fails_leaves_the_message_failed_with_a_note(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer],
    told: list[RefusedMessage],
) -> None:
    def broken(message: RefusedMessage) -> None:
        db.session.add(OutboxMessage(message_id="<stray@x>", sender="a@x", recipients="b@x"))
        db.session.flush()
        raise RuntimeError("nothing to release")

    refusals.HANDLERS["test"] = broken
    server = scripted_smtp()
    server.handler.data_script = ["554 5.7.1 Message refused"]
    mail_app(**server.config())
    queue_mail(1)

    report: Any = deliver_due()

    row = _row()  # the handler's own write went with its savepoint
    assert report.failed == 1 and row.status == OutboxStatus.FAILED
    assert "554 5.7.1 Message refused" in row.last_error
    assert "was not undone: nothing to release" in row.last_error
