"""The worker: killed or stopped mid-message, several at once, woken by NOTIFY; jobs, commands."""

import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select, text

from placeevents import jobs
from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.mail.delivery import deliver_due
from placeevents.mail.models import JobRun, OutboxMessage, OutboxStatus
from placeevents.worker import Worker
from tests.conftest import count_queries
from tests.test_mail.conftest import ScriptedServer, flask_process, queue_mail


def _rows() -> list[OutboxMessage]:
    db.session.remove()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _wait_for(event: threading.Event, process: object, seconds: float = 30) -> None:
    if not event.wait(seconds):
        process.kill()  # type: ignore[attr-defined]
        out, err = process.communicate()  # type: ignore[attr-defined]
        pytest.fail(f"the worker never reached the server:\n{out}\n{err}")


def test_a_worker_killed_mid_message_loses_nothing(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    server.handler.hold_at = 3
    app = mail_app(**server.config())
    queued = [row.message_id for row in queue_mail(6)]

    worker = flask_process(app, server, "worker", MAIL_BATCH_SIZE="5")
    _wait_for(server.handler.holding, worker)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    server.handler.release.set()

    rows = _rows()
    assert [r.status for r in rows[:2]] == [OutboxStatus.SENT] * 2
    assert all(r.status == OutboxStatus.PENDING and r.claimed_by for r in rows[2:5])
    # Until the dead worker's lease runs out, only the unclaimed message goes.
    assert deliver_due().sent == 1
    with time_machine.travel(utcnow() + timedelta(minutes=10), tick=True):
        assert deliver_due().sent == 3

    assert all(r.status == OutboxStatus.SENT for r in _rows())
    counts = server.handler.message_ids()
    assert set(counts) == set(queued)
    held = queued[2]
    assert 1 <= counts[held] <= 2  # the one the server held may have been taken before the kill
    assert all(counts[message_id] == 1 for message_id in queued if message_id != held)


def test_sigterm_finishes_the_current_message_then_stops(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    server.handler.hold_at = 2
    app = mail_app(**server.config())
    queued = [row.message_id for row in queue_mail(4)]

    worker = flask_process(app, server, "worker")
    _wait_for(server.handler.holding, worker)
    worker.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    server.handler.release.set()
    out, err = worker.communicate(timeout=30)

    assert worker.returncode == 0, err
    assert "sent 2, retried 0, failed 0" in out
    rows = _rows()
    assert [r.status for r in rows] == [OutboxStatus.SENT] * 2 + [OutboxStatus.PENDING] * 2
    assert [(r.claimed_by, r.attempts) for r in rows[2:]] == [(None, 0), (None, 0)]
    assert server.handler.message_ids() == {queued[0]: 1, queued[1]: 1}


@pytest.mark.postgres_only
def test_three_workers_deliver_two_thousand_messages_each_exactly_once(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    app = mail_app(**server.config())
    queued = {row.message_id for row in queue_mail(2000)}

    workers = [
        flask_process(app, server, "worker", "--once", MAIL_BATCH_SIZE="10") for _ in range(3)
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err

    counts = server.handler.message_ids()
    assert len(counts) == 2000 and set(counts.values()) == {1}
    assert set(counts) == queued
    rows = _rows()
    assert all(r.status == OutboxStatus.SENT for r in rows)
    senders = {r.claimed_by.rsplit(":", 1)[0] for r in rows if r.claimed_by}
    assert len(senders) >= 2  # the workers really shared the work
    runs = db.session.scalar(select(func.count()).where(JobRun.name == "mail.purge"))
    assert runs == 1


def test_jobs_run_once_per_period_with_two_workers(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(jobs, "JOBS", {})

    @jobs.scheduled_job("test.count", every=timedelta(hours=1))
    def count() -> str:
        time.sleep(0.05)
        calls.append("run")
        return "counted"

    apps = [make_app(), make_app()]

    def both_workers() -> list[dict[str, str]]:
        barrier = threading.Barrier(len(apps))
        outcomes: list[dict[str, str]] = []

        def work(app: Flask) -> None:
            with app.app_context():
                barrier.wait()
                outcomes.append(jobs.run_due_jobs())
                db.session.remove()

        threads = [threading.Thread(target=work, args=(app,)) for app in apps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        return outcomes

    with time_machine.travel(datetime(2030, 1, 1, 10, 5, tzinfo=UTC), tick=False):
        assert sorted(map(len, both_workers())) == [0, 1]
    with time_machine.travel(datetime(2030, 1, 1, 10, 55, tzinfo=UTC), tick=False):
        assert both_workers() == [{}, {}]
    assert len(calls) == 1
    with time_machine.travel(datetime(2030, 1, 1, 11, 0, tzinfo=UTC), tick=False):
        both_workers()
    assert len(calls) == 2
    with apps[0].app_context():
        runs = db.session.scalars(select(JobRun.outcome).where(JobRun.name == "test.count"))
        assert list(runs) == ["counted", "counted"]


def test_a_worker_asks_for_each_job_once_a_period(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "JOBS", {})
    jobs.scheduled_job("test.count", every=timedelta(hours=1))(lambda: "counted")
    seen: dict[str, str] = {}

    with time_machine.travel(datetime(2030, 1, 1, 10, 5, tzinfo=UTC), tick=False):
        assert jobs.run_due_jobs(seen=seen) == {"test.count": "counted"}
        with count_queries() as statements:
            assert jobs.run_due_jobs(seen=seen) == {}
        assert statements == []  # not even a claim refused by the unique key
    with time_machine.travel(datetime(2030, 1, 1, 11, 0, tzinfo=UTC), tick=False):
        assert jobs.run_due_jobs(seen=seen) == {"test.count": "counted"}


def test_sent_bodies_are_purged_after_seven_days_and_metadata_kept(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    mail_app(**server.config())
    queue_mail(1)
    deliver_due()
    queue_mail(1, prefix="unsent", recipients=["later@example.org"])
    jobs.load_jobs()
    purge = jobs.JOBS["mail.purge"]

    with time_machine.travel(utcnow() + timedelta(days=6), tick=False):
        assert purge.run() == "purged 0 sent bodies, 0 job runs"
    with time_machine.travel(utcnow() + timedelta(days=7, minutes=1), tick=False):
        assert purge.run().startswith("purged 1 sent bodies")
        db.session.commit()
    sent, unsent = _rows()
    assert sent.raw is None and sent.message_id and sent.subject and sent.sent_at
    assert unsent.raw is not None


def test_outbox_commands_send_list_and_retry(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    server.handler.data_script = ["250", "554 5.6.0 Content refused"]
    app = mail_app(**server.config())
    queue_mail(3)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 2, retried 0, failed 1" in result.output

    listing = runner.invoke(args=["outbox", "list"])
    assert "0 pending, 1 failed, 2 sent" in listing.output
    assert "person2@example.org" in listing.output
    assert "reason: 554 5.6.0 Content refused" in listing.output

    failed_id = _rows()[1].id
    assert runner.invoke(args=["outbox", "retry", str(_rows()[0].id)]).exit_code == 1
    retried = runner.invoke(args=["outbox", "retry", str(failed_id)])
    assert retried.exit_code == 0 and f"message {failed_id} is due again" in retried.output
    assert runner.invoke(args=["outbox", "send"]).output.startswith("sent 1,")
    assert server.handler.message_ids()[_rows()[1].message_id] == 1


def test_outbox_send_exits_non_zero_when_the_server_refuses_us(
    mail_app: Callable[..., Flask], greeting_server: Callable[[bytes], int]
) -> None:
    app = mail_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=greeting_server(b"554 no\r\n"))
    queue_mail(1)
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 1 and "stopped: server refused us: 554 no" in result.output


def test_worker_once_delivers_and_runs_due_jobs(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    app = mail_app(**server.config())
    queue_mail(2)
    handler_before = signal.getsignal(signal.SIGTERM)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "mail: sent 2, retried 0, failed 0" in result.output
    assert "job mail.purge: purged 0 sent bodies" in result.output
    assert len(server.handler.received) == 2
    assert signal.getsignal(signal.SIGTERM) is handler_before  # the signal handlers are restored


def test_a_mail_only_worker_delivers_and_leaves_the_jobs(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    app = mail_app(**server.config())
    queue_mail(1)
    result = app.test_cli_runner().invoke(args=["worker", "--once", "--mail-only"])
    assert result.exit_code == 0, result.output
    assert "mail: sent 1, retried 0, failed 0" in result.output
    assert "job " not in result.output
    assert len(server.handler.received) == 1


def _start_worker(app: Flask, *, poll_seconds: float) -> tuple[Worker, threading.Thread]:
    worker = Worker(poll_seconds=poll_seconds)

    def run() -> None:
        with app.app_context():
            worker.run()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return worker, thread


def _wait_for_mail(server: ScriptedServer, count: int, seconds: float) -> float:
    """Seconds until the server has `count` messages; fails after `seconds`."""
    started = time.monotonic()
    while len(server.handler.received) < count:
        assert time.monotonic() - started < seconds, f"message {count} never arrived"
        time.sleep(0.01)
    return time.monotonic() - started


@pytest.mark.postgres_only
def test_a_waiting_worker_is_woken_by_the_commit_that_queues_mail(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    app = mail_app(**server.config())
    worker, thread = _start_worker(app, poll_seconds=30)
    try:
        queue_mail(1, prefix="first")
        _wait_for_mail(server, 1, seconds=10)
        # The pass that sent the first one is over: only a NOTIFY can end the 30-second wait.
        queue_mail(1, prefix="second")
        assert _wait_for_mail(server, 2, seconds=3) < 3
    finally:
        worker.stop()
        thread.join(timeout=10)
    assert [d.rcpt_tos for d in server.handler.received] == [
        ["first1@example.org"], ["second1@example.org"]
    ]


@pytest.mark.postgres_only
def test_a_worker_listens_again_after_its_connection_drops(
    mail_app: Callable[..., Flask],
    scripted_smtp: Callable[..., ScriptedServer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = scripted_smtp()
    app = mail_app(**server.config())
    worker, thread = _start_worker(app, poll_seconds=30)
    try:
        queue_mail(1, prefix="before")
        _wait_for_mail(server, 1, seconds=10)
        listening = (
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN %'"
        )
        dropped = db.session.execute(text(f"SELECT pg_terminate_backend(pid) FROM ({listening}) l"))
        assert dropped.scalars().all() == [True]
        db.session.commit()
        deadline = time.monotonic() + 10
        while not db.session.execute(text(listening)).all():
            assert time.monotonic() < deadline, "the worker never listened again"
            db.session.commit()
            time.sleep(0.05)
        db.session.commit()

        queue_mail(1, prefix="after")
        assert _wait_for_mail(server, 2, seconds=3) < 3
    finally:
        worker.stop()
        thread.join(timeout=10)
    assert "lost the connection listening for mail" in caplog.text


def test_a_waiting_worker_stops_at_once(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    app = mail_app(**server.config())
    queue_mail(1)
    db.session.remove()  # on SQLite the worker's claim would wait for this session's lock
    worker, thread = _start_worker(app, poll_seconds=30)
    _wait_for_mail(server, 1, seconds=10)
    time.sleep(0.3)  # the pass has ended and the worker waits

    started = time.monotonic()
    worker.stop()
    thread.join(timeout=10)
    assert not thread.is_alive() and time.monotonic() - started < 2
