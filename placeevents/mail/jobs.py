"""Scheduled jobs of the mail domain (registered with placeevents.jobs.scheduled_job)."""

from datetime import timedelta

from placeevents.jobs import scheduled_job
from placeevents.mail.services import purge_job_runs, purge_sent_bodies

SENT_BODY_KEPT = timedelta(days=7)
JOB_RUNS_KEPT = timedelta(days=30)


@scheduled_job("mail.purge", every=timedelta(hours=1))
def purge_old_mail() -> str:
    """Drop bodies of mail sent over seven days ago, and old job-run records."""
    bodies = purge_sent_bodies(older_than=SENT_BODY_KEPT)
    runs = purge_job_runs(older_than=JOB_RUNS_KEPT)
    return f"purged {bodies} sent bodies, {runs} job runs"
