"""Scheduled jobs of the invitations domain (registered with placeevents.jobs.scheduled_job)."""

from datetime import timedelta

from placeevents.invitations import attendance, messages
from placeevents.jobs import scheduled_job


@scheduled_job("invitations.event_reminders", every=timedelta(minutes=15))
def event_reminders() -> str:
    """Remind confirmed attendees before their event, once each."""
    return f"{messages.send_event_reminders()} reminders queued"


@scheduled_job("invitations.expire_offers", every=timedelta(minutes=5))
def expire_offers() -> str:
    """Pass on offered places not accepted within their time."""
    return f"{attendance.expire_offers()} offers lapsed"
