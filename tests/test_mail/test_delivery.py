"""Delivery against real SMTP servers that misbehave: nothing lost, nothing doubled."""

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.mail import delivery
from placeevents.mail.bounces import bounced_among
from placeevents.mail.delivery import deliver_due
from placeevents.mail.models import Bounce, OutboxMessage, OutboxStatus
from placeevents.mail.outbox import batch_progress
from tests.test_mail.conftest import ScriptedServer, queue_mail


def _rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _later(hours: float = 2) -> time_machine.travel:
    return time_machine.travel(utcnow() + timedelta(hours=hours), tick=True)


def test_stored_bytes_go_out_over_one_connection_per_batch(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    mail_app(**server.config())
    queued = queue_mail(3)
    raws = {row.message_id: row.raw for row in queued}

    report = deliver_due()

    assert (report.sent, report.retried, report.failed, report.stopped) == (3, 0, 0, None)
    assert {d.message_id: d.raw for d in server.handler.received} == raws
    assert len(set(server.handler.peers)) == 1
    assert all(r.status == OutboxStatus.SENT and r.sent_at and r.attempts == 1 for r in _rows())
    assert all(r.claimed_until is None for r in _rows())
    assert deliver_due().sent == 0


def test_refused_connection_retries_with_backoff_then_fails_with_the_reason(
    mail_app: Callable[..., Flask], closed_port: int
) -> None:
    mail_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port, MAIL_MAX_ATTEMPTS=3,
             MAIL_RETRY_DELAY=60)
    queue_mail(2)
    started = utcnow()

    report = deliver_due()

    assert (report.sent, report.retried, report.failed) == (0, 2, 0)
    assert report.stopped and "could not reach" in report.stopped
    for row in _rows():
        assert row.status == OutboxStatus.PENDING and row.attempts == 1
        assert "could not reach the mail server" in row.last_error
        wait = row.next_attempt_at - started
        assert timedelta(seconds=29) <= wait <= timedelta(seconds=61)
    assert deliver_due().retried == 0  # not due yet

    with _later(1):
        assert deliver_due().retried == 2
        assert [r.attempts for r in _rows()] == [2, 2]
    with _later(3):
        assert deliver_due().failed == 2
    rows = _rows()
    assert [r.status for r in rows] == [OutboxStatus.FAILED] * 2
    assert all(r.last_error.startswith("gave up after 3 attempts: could not reach") for r in rows)


def test_451_then_250_delivers_on_the_retry_and_the_rest_of_the_batch_goes_on(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    server.handler.data_script = ["451 4.3.0 Try again later"]
    mail_app(**server.config())
    first, second = queue_mail(2)

    report = deliver_due()

    assert (report.sent, report.retried) == (1, 1)
    rows = _rows()
    assert rows[0].status == OutboxStatus.PENDING and rows[0].last_error.startswith("451")
    assert rows[1].status == OutboxStatus.SENT
    with _later():
        assert deliver_due().sent == 1
    assert [r.status for r in _rows()] == [OutboxStatus.SENT] * 2
    assert server.handler.message_ids() == {first.message_id: 1, second.message_id: 1}


def test_421_closes_the_connection_and_the_rest_go_over_a_new_one(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    server.handler.rcpt_replies = {"person1@example.org": "421 4.3.2 Shutting down"}
    mail_app(**server.config())
    queued = queue_mail(3)

    report = deliver_due()

    assert (report.sent, report.retried, report.failed) == (2, 1, 0)
    assert len(set(server.handler.peers)) == 1  # the second connection, after the 421
    server.handler.rcpt_replies = {}
    with _later():
        assert deliver_due().sent == 1
    assert server.handler.message_ids() == {row.message_id: 1 for row in queued}
    assert all(r.status == OutboxStatus.SENT for r in _rows())


def test_550_for_one_recipient_fails_it_bounces_it_and_later_sends_skip_it(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    server.handler.rcpt_replies = {"gone@example.org": "550 5.1.1 No such mailbox"}
    mail_app(**server.config())
    queue_mail(3, recipients=["a@example.org", "gone@example.org", "b@example.org"])

    report = deliver_due()

    assert (report.sent, report.failed) == (2, 1)
    rows = _rows()
    assert [r.status for r in rows] == [OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.SENT]
    assert "550 5.1.1 No such mailbox" in rows[1].last_error
    bounce = db.session.scalar(select(Bounce))
    assert bounce.email == "gone@example.org" and bounce.reason.startswith("550")
    assert bounced_among(["Gone@Example.org", "a@example.org"]) == {"gone@example.org"}

    rcpts_before = len(server.handler.rcpts)
    queue_mail(1, recipients=["GONE@example.org"])
    assert deliver_due().failed == 1
    assert len(server.handler.rcpts) == rcpts_before  # never offered to the server
    assert _rows()[-1].last_error == "every recipient is on the bounce list"


def test_a_lost_reply_mid_batch_repeats_only_that_message_with_its_message_id(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    server.handler.data_script = ["250", "drop", "250", "250"]
    mail_app(**server.config())
    queued = queue_mail(4)

    report = deliver_due()

    assert (report.sent, report.retried) == (3, 1)
    with _later():
        assert deliver_due().sent == 1
    assert all(r.status == OutboxStatus.SENT for r in _rows())
    counts = server.handler.message_ids()
    assert counts[queued[1].message_id] == 2  # the server had it; its reply was lost
    assert all(counts[row.message_id] == 1 for row in queued if row is not queued[1])


def test_a_connection_dropped_before_acceptance_loses_nothing(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    server.handler.data_script = ["250", "drop-first"]
    mail_app(**server.config())
    queued = queue_mail(4)

    deliver_due()
    with _later():
        deliver_due()

    assert all(r.status == OutboxStatus.SENT for r in _rows())
    assert server.handler.message_ids() == {row.message_id: 1 for row in queued}


def test_a_server_slower_than_the_timeout_cannot_hang_delivery(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    server.handler.data_script = [("slow", 2.0)]
    mail_app(**server.config(MAIL_TIMEOUT=0.5))
    queued = queue_mail(3)

    began = time.monotonic()
    report = deliver_due()
    assert time.monotonic() - began < 2.0

    assert (report.sent, report.retried) == (2, 1)
    assert "timed out" in _rows()[0].last_error
    time.sleep(2.0)  # the slow server has finished with it
    with _later():
        assert deliver_due().sent == 1
    counts = server.handler.message_ids()
    # aiosmtpd drops the transaction when we hang up; a server that kept it sends one repeat.
    assert 1 <= counts[queued[0].message_id] <= 2
    assert counts[queued[1].message_id] == counts[queued[2].message_id] == 1


def test_5xx_at_connect_stops_the_batch_without_failing_messages(
    mail_app: Callable[..., Flask], greeting_server: Callable[[bytes], int]
) -> None:
    port = greeting_server(b"554 5.7.1 You are not welcome here\r\n")
    mail_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    queue_mail(2)

    report = deliver_due()

    assert report.stopped and "554" in report.stopped
    assert (report.sent, report.retried, report.failed) == (0, 0, 0)
    assert [(r.status, r.attempts, r.claimed_by) for r in _rows()] == [
        (OutboxStatus.PENDING, 0, None)
    ] * 2


def test_a_refused_login_is_a_configuration_error(
    mail_app: Callable[..., Flask], login_refusing_smtp: ScriptedServer
) -> None:
    mail_app(**login_refusing_smtp.config(MAIL_USERNAME="u", MAIL_PASSWORD="wrong"))
    queue_mail(1)

    report = deliver_due()

    assert report.stopped and "login refused: 535" in report.stopped
    [row] = _rows()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    assert login_refusing_smtp.handler.received == []


def test_no_mail_server_in_production_leaves_mail_waiting(
    mail_app: Callable[..., Flask],
) -> None:
    mail_app(MAIL_SERVER="")
    queue_mail(1)
    report = deliver_due()
    assert report.stopped == "MAIL_SERVER is not set"
    assert _rows()[0].status == OutboxStatus.PENDING


def test_suppressed_sending_reaches_no_server(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    mail_app(**server.config(MAIL_SUPPRESS_SEND=True))
    queue_mail(1)
    assert deliver_due().sent == 1
    assert server.handler.received == []


def test_a_message_leased_by_another_worker_waits_for_the_lease_to_run_out(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    mail_app(**server.config(MAIL_LEASE_SECONDS=300))
    [row] = queue_mail(1)
    row.claimed_by = "another:1:abc"
    row.claimed_until = utcnow() + timedelta(seconds=300)
    db.session.commit()

    assert deliver_due().sent == 0
    with _later(0.1):
        assert deliver_due().sent == 1
    assert server.handler.message_ids() == {row.message_id: 1}


def test_batch_progress_counts_a_bulk_send(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    server.handler.rcpt_replies = {"person2@example.org": "550 no"}
    mail_app(**server.config(MAIL_BATCH_SIZE=2))
    queue_mail(5, batch_key="newsletter:1")
    queue_mail(1, prefix="other")

    before = batch_progress("newsletter:1")
    assert (before.queued, before.sent, before.failed, before.pending, before.done) == (
        5, 0, 0, 5, False
    )
    deliver_due()
    after = batch_progress("newsletter:1")
    assert (after.queued, after.sent, after.failed, after.done) == (5, 4, 1, True)


def _updates_one_message(statement: str) -> bool:
    return statement.lstrip().startswith("UPDATE outbox_message") and (
        "WHERE outbox_message.id = " in statement
    )


def test_a_batch_is_sent_on_its_claim_with_one_write_per_message(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    """The claim's lease covers a batch: each message costs one UPDATE (marked sent, committed
    as it is accepted), not a lease renewal as well."""
    from tests.conftest import count_queries

    server = scripted_smtp()
    mail_app(**server.config(MAIL_BATCH_SIZE=10, MAIL_LEASE_SECONDS=300))
    queue_mail(10)
    with count_queries() as statements:
        assert deliver_due().sent == 10
    per_message = [s for s in statements if _updates_one_message(s)]
    assert len(per_message) == 10, per_message  # one per message sent, no lease renewals


def test_a_slow_batch_renews_its_lease_before_sending_on(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    """Past half its lease, a worker writes a longer one before the next send, so a message
    is never sent on a lease another worker could already have taken over."""
    from tests.conftest import count_queries

    server = scripted_smtp()
    mail_app(**server.config(MAIL_BATCH_SIZE=3, MAIL_LEASE_SECONDS=300))
    queue_mail(3)
    original = server.handler.handle_DATA

    async def slow_data(*args: object) -> str:
        traveller.shift(timedelta(minutes=3))  # each message takes three minutes
        return await original(*args)

    server.handler.handle_DATA = slow_data  # type: ignore[method-assign]
    with time_machine.travel(utcnow(), tick=True) as traveller, count_queries() as statements:
        assert deliver_due().sent == 3
    per_message = [s for s in statements if _updates_one_message(s)]
    # Three marked sent, and a renewal before each of the second and third.
    assert len(per_message) == 3 + 2, per_message
    assert server.handler.message_ids() == {r.message_id: 1 for r in _rows()}


def test_a_message_sent_but_not_recorded_stops_delivery_before_the_next_is_accepted(
    mail_app: Callable[..., Flask],
    scripted_smtp: Callable[..., ScriptedServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Recording a message sent may overlap the next message's envelope, never its content:
    # whatever fails, at most one accepted message is unrecorded (and will go again).
    server = scripted_smtp()
    mail_app(**server.config())
    queue_mail(3)
    monkeypatch.setattr(delivery, "_sent_values", lambda *args: {"row_id": "not a row"})

    with pytest.raises(Exception):  # noqa: B017 (whichever error the database gives)
        deliver_due()

    db.session.rollback()
    assert len(server.handler.received) == 1
    assert all(r.status == OutboxStatus.PENDING and r.sent_at is None for r in _rows())
