"""Scheduled jobs of the mailing list: forget unconfirmed signups and abandoned import uploads."""

from datetime import timedelta

from placeevents.jobs import scheduled_job
from placeevents.newsletter.imports import discard_stale_previews
from placeevents.newsletter.services import purge_unconfirmed


@scheduled_job("purge-unconfirmed", every=timedelta(hours=1))
def purge_unconfirmed_signups() -> str:
    """Delete signups left unconfirmed for 30 days."""
    return f"{purge_unconfirmed()} unconfirmed signups purged"


@scheduled_job("discard-import-previews", every=timedelta(hours=1))
def discard_import_previews() -> str:
    """Delete uploaded lists that were previewed but not imported within a day."""
    return f"{discard_stale_previews()} import previews discarded"
