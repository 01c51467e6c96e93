"""The send job: starts scheduled newsletters when due and queues each send in batches.

It commits after every batch, so no transaction stays open for long whatever the list's size,
and a worker that dies mid-send leaves a lease that runs out and a cursor the next one resumes
from; the recipients table queues each subscriber once whoever does the queueing.
"""

from datetime import timedelta

from placeevents.extensions import db
from placeevents.jobs import scheduled_job
from placeevents.news import services


def run_sends(*, token: str | None = None) -> str:
    """Start what is due, then queue every newsletter being sent that no other worker holds."""
    started = services.start_due()
    db.session.commit()
    token = token or services.new_claim_token()
    batches = 0
    finished = 0
    while (newsletter := services.claim_send(token=token)) is not None:
        db.session.commit()
        while services.queue_batch(newsletter=newsletter, token=token):
            db.session.commit()
            batches += 1
        db.session.commit()
        finished += 1
    return f"{len(started)} started, {batches} batches queued, {finished} sends finished"


@scheduled_job("news.send", every=timedelta(minutes=1))
def send_newsletters() -> str:
    """Start scheduled newsletters that are due and queue their messages."""
    return run_sends()
