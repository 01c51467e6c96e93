"""Scheduled jobs of the invitations domain (registered with placeevents.jobs.scheduled_job)."""

from datetime import timedelta

from placeevents.invitations import attendance, messages, standing
from placeevents.jobs import scheduled_job


@scheduled_job("invitations.event_reminders", every=timedelta(minutes=15))
def event_reminders() -> str:
    """Remind confirmed attendees before their event, once each."""
    return f"{messages.send_event_reminders()} reminders queued"


@scheduled_job("invitations.expire_offers", every=timedelta(minutes=5))
def expire_offers() -> str:
    """Pass on offered places not accepted within their time."""
    return f"{attendance.expire_offers()} offers lapsed"


# Every minute: an event published is in its standing invitees' inboxes within a minute or two.
@scheduled_job("invitations.standing", every=timedelta(minutes=1))
def standing_invitations() -> str:
    """Invite those who asked to be invited to every exploration of an enquiry, once each."""
    return f"{standing.send_standing_invitations()} standing invitations queued"
