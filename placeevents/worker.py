"""The long-running worker: delivers due mail and runs due scheduled jobs until told to stop.

Between passes it waits up to WORKER_POLL_SECONDS; on PostgreSQL it also LISTENs for the NOTIFY
that enqueue() sends on commit, so queued mail goes out at once rather than at the next poll.
"""

import selectors
import signal
import socket
import threading
from types import FrameType

import click
import psycopg
from flask import current_app
from flask.cli import with_appcontext
from psycopg import sql
from psycopg.rows import TupleRow
from sqlalchemy import Engine

from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.jobs import load_jobs, run_due_jobs
from placeevents.mail.delivery import DeliveryReport, deliver_due
from placeevents.mail.outbox import OUTBOX_CHANNEL


class OutboxListener:
    """A PostgreSQL connection of the worker's own that LISTENs for queued mail."""

    def __init__(self, engine: Engine) -> None:
        # The arguments SQLAlchemy itself would connect with, so the URL means the same here.
        self._connect_args = engine.dialect.create_connect_args(engine.url)
        self._connection: psycopg.Connection[TupleRow] | None = None
        self._lost = False
        # interrupt() writes to this pair to end a wait at once, from a signal handler or a thread.
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_writer.setblocking(False)
        self._closing = threading.Lock()

    @property
    def listening(self) -> bool:
        return self._connection is not None

    def listen(self) -> bool:
        """Open the connection and LISTEN; False, having logged why, if that fails."""
        args, params = self._connect_args
        try:
            connection = psycopg.connect(*args, **params, autocommit=True)
        except psycopg.Error as exc:
            self._lose(f"cannot connect to listen for mail: {exc}")
            return False
        try:
            connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(OUTBOX_CHANNEL)))
        except psycopg.Error as exc:
            connection.close()
            self._lose(f"cannot listen for mail: {exc}")
            return False
        if self._lost:
            current_app.logger.info("listening for queued mail again")
            self._lost = False
        self._connection = connection
        return True

    def wait(self, seconds: float) -> None:
        """Return on a notification, after `seconds`, or on interrupt(); a drop ends the wait."""
        assert self._connection is not None
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self._connection.fileno(), selectors.EVENT_READ)
                selector.register(self._wake_reader, selectors.EVENT_READ)
                ready = selector.select(seconds)
            if any(key.fileobj != self._wake_reader for key, _ in ready):
                # Reading the notifications also reports a dropped connection, as an error.
                for _ in self._connection.notifies(timeout=0):
                    pass
        except (psycopg.Error, OSError) as exc:
            self._connection.close()
            self._connection = None
            self._lose(f"lost the connection listening for mail: {exc}")

    def interrupt(self) -> None:
        """End the current or next wait at once."""
        # Never block: a signal handler may run in the thread that holds the lock in close().
        if not self._closing.acquire(blocking=False):
            return
        try:
            if self._wake_writer.fileno() != -1:
                self._wake_writer.send(b"\0")
        except BlockingIOError:
            pass  # the pair is full of wake-ups already
        finally:
            self._closing.release()

    def close(self) -> None:
        """Close the connection and the wake-up sockets."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        with self._closing:
            self._wake_reader.close()
            self._wake_writer.close()

    def _lose(self, reason: str) -> None:
        # Warn once per outage, not once per poll while the database is away.
        if not self._lost:
            current_app.logger.warning("%s; polling until it is back", reason)
            self._lost = True


class Worker:
    """One worker process; several may run at once against the same database."""

    def __init__(self, *, poll_seconds: float, jobs: bool = True) -> None:
        self.poll_seconds = poll_seconds
        # A mail-only worker leaves scheduled jobs to another (or to a test that runs them).
        self.jobs = jobs
        self.stopping = threading.Event()
        self._listener: OutboxListener | None = None
        # The period of each job already claimed, by this worker or another: asked once a period.
        self._job_periods: dict[str, str] = {}

    def stop(self, signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        """Finish the message in hand, then stop (the SIGTERM and SIGINT handler)."""
        self.stopping.set()
        listener = self._listener
        if listener is not None:
            listener.interrupt()

    def run_once(self) -> tuple[DeliveryReport, dict[str, str]]:
        """One pass: deliver what is due, then run the jobs whose time has come."""
        report = deliver_due(should_stop=self.stopping.is_set)
        if self.stopping.is_set() or not self.jobs:
            return report, {}
        outcomes = run_due_jobs(seen=self._job_periods)
        return report, outcomes

    def run(self, *, once: bool = False) -> None:
        """Pass after pass, waiting for mail between them, until stopped (or after one pass)."""
        load_jobs()
        if not once and db.engine.dialect.name == "postgresql":
            self._listener = OutboxListener(db.engine)
            # Listen before the first pass, so nothing committed after that pass goes unheard.
            self._listener.listen()
        try:
            while not self.stopping.is_set():
                self._pass(once=once)
                if once:
                    break
                self._wait()
        finally:
            if self._listener is not None:
                self._listener.close()
                self._listener = None

    def _pass(self, *, once: bool) -> None:
        try:
            report, outcomes = self.run_once()
        except Exception:
            # A database hiccup must not end the worker; the next pass tries again.
            db.session.rollback()
            current_app.logger.exception("worker pass failed")
        else:
            if any((report.sent, report.retried, report.failed, report.requests, report.stopped,
                    once)):
                click.echo(f"{utcnow():%Y-%m-%d %H:%M:%S}Z mail: {report}")
            for name, outcome in outcomes.items():
                click.echo(f"{utcnow():%Y-%m-%d %H:%M:%S}Z job {name}: {outcome}")
        finally:
            db.session.remove()

    def _wait(self) -> None:
        """Until mail is queued (PostgreSQL), the poll interval passes, or stop() is called."""
        listener = self._listener
        if listener is not None and listener.listening:
            listener.wait(self.poll_seconds)
        elif listener is not None and listener.listen():
            return  # listening again: a pass now picks up what was queued while no one listened
        else:
            self.stopping.wait(self.poll_seconds)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one pass and exit.")
@click.option("--mail-only", is_flag=True, help="Deliver mail only; other workers run the jobs.")
@with_appcontext
def worker_command(once: bool, mail_only: bool) -> None:
    """Deliver mail and run scheduled jobs; SIGTERM finishes the current message and stops."""
    worker = Worker(poll_seconds=current_app.config["WORKER_POLL_SECONDS"], jobs=not mail_only)
    previous = {sig: signal.signal(sig, worker.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        worker.run(once=once)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
