"""Scheduled jobs: each runs at most once per due period, however many workers are running."""

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.mail.models import JobRun


@dataclass(frozen=True)
class Job:
    """A registered job: its name, how often it is due, and the function that does it."""

    name: str
    every: timedelta
    run: Callable[[], str | None]

    def due_key(self, now: datetime) -> str:
        return str(int(now.timestamp() // self.every.total_seconds()))


JOBS: dict[str, Job] = {}

# Each domain with scheduled work keeps it in its jobs module, listed here.
JOB_MODULES = (
    "placeevents.mail.jobs",
    "placeevents.newsletter.jobs",
    "placeevents.invitations.jobs",
    "placeevents.exports.jobs",
    "placeevents.news.jobs",
)


def load_jobs() -> dict[str, Job]:
    """Import every domain's jobs module so its jobs register; returns the registry."""
    for module in JOB_MODULES:
        importlib.import_module(module)
    return JOBS


def scheduled_job(name: str, *, every: timedelta) -> Callable[[Callable[[], str | None]], Job]:
    """Register an idempotent function to run once per `every`; it returns a short outcome."""

    def register(func: Callable[[], str | None]) -> Job:
        job = Job(name=name, every=every, run=func)
        JOBS[name] = job
        return job

    return register


def run_due_jobs(*, seen: dict[str, str] | None = None) -> dict[str, str]:
    """Run every job whose current period has no run yet; the unique key stops double runs.

    `seen` (job name to period) spares a caller that asks every second a refused claim, and
    PostgreSQL an error in its log, for each job on each pass.
    """
    seen = {} if seen is None else seen
    outcomes: dict[str, str] = {}
    for job in list(JOBS.values()):
        now = utcnow()
        due_key = job.due_key(now)
        if seen.get(job.name) == due_key:
            continue
        claim = _claim(job, due_key, now)
        seen[job.name] = due_key
        if claim is None:
            continue
        try:
            outcome = job.run() or "done"
            claim.outcome = outcome
            claim.finished_at = utcnow()
            db.session.commit()
        except Exception as exc:  # noqa: BLE001  (a failing job must not stop the worker)
            db.session.rollback()
            current_app.logger.exception("job %s failed", job.name)
            outcome = f"failed: {exc}"
            db.session.execute(
                JobRun.__table__.update()
                .where(JobRun.id == claim.id)
                .values(outcome=outcome[:2000], finished_at=utcnow())
            )
            db.session.commit()
        outcomes[job.name] = outcome
    return outcomes


def _claim(job: Job, due_key: str, now: datetime) -> JobRun | None:
    claim = JobRun(name=job.name, due_key=due_key, started_at=now)
    db.session.add(claim)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another worker has this period
        return None
    return claim
