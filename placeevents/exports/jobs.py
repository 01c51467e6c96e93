"""Scheduled jobs of the exports domain (registered with placeevents.jobs.scheduled_job)."""

from datetime import timedelta

from placeevents.clock import utcnow
from placeevents.exports.services import personal_data_days
from placeevents.invitations.attendance import erase_personal_answers
from placeevents.jobs import scheduled_job


@scheduled_job("erase-access-and-dietary-answers", every=timedelta(hours=1))
def erase_access_and_dietary_answers() -> str:
    """Blank access and dietary answers once their event is PLACEEVENTS_PERSONAL_DATA_DAYS old."""
    days = personal_data_days()
    count = erase_personal_answers(now=utcnow(), days=days)
    return f"blanked access and dietary answers of {count} people ({days} days after events)"
