"""The long-running worker: delivers due mail and runs due scheduled jobs until told to stop."""

import signal
import threading
from types import FrameType

import click
from flask import current_app
from flask.cli import with_appcontext

from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.jobs import load_jobs, run_due_jobs
from placeevents.mail.delivery import DeliveryReport, deliver_due


class Worker:
    """One worker process; several may run at once against the same database."""

    def __init__(self, *, poll_seconds: float) -> None:
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        # The period of each job already claimed, by this worker or another: asked once a period.
        self._job_periods: dict[str, str] = {}

    def stop(self, signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        """Finish the message in hand, then stop (the SIGTERM and SIGINT handler)."""
        self.stopping.set()

    def run_once(self) -> tuple[DeliveryReport, dict[str, str]]:
        """One pass: deliver what is due, then run the jobs whose time has come."""
        report = deliver_due(should_stop=self.stopping.is_set)
        outcomes = {} if self.stopping.is_set() else run_due_jobs(seen=self._job_periods)
        return report, outcomes

    def run(self, *, once: bool = False) -> None:
        """Pass after pass, pausing between them, until stopped (or after one pass)."""
        load_jobs()
        while not self.stopping.is_set():
            try:
                report, outcomes = self.run_once()
            except Exception:
                # A database hiccup must not end the worker; the next pass tries again.
                db.session.rollback()
                current_app.logger.exception("worker pass failed")
            else:
                if report.sent or report.retried or report.failed or report.stopped or once:
                    click.echo(f"{utcnow():%Y-%m-%d %H:%M:%S}Z mail: {report}")
                for name, outcome in outcomes.items():
                    click.echo(f"{utcnow():%Y-%m-%d %H:%M:%S}Z job {name}: {outcome}")
            finally:
                db.session.remove()
            if once:
                break
            self.stopping.wait(self.poll_seconds)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one pass and exit.")
@with_appcontext
def worker_command(once: bool) -> None:
    """Deliver mail and run scheduled jobs; SIGTERM finishes the current message and stops."""
    worker = Worker(poll_seconds=current_app.config["WORKER_POLL_SECONDS"])
    previous = {sig: signal.signal(sig, worker.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        worker.run(once=once)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
