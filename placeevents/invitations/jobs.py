"""Scheduled jobs of the invitations domain (registered with placeevents.jobs.scheduled_job)."""
