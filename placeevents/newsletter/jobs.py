"""Scheduled jobs of the newsletter domain (registered with placeevents.jobs.scheduled_job)."""
