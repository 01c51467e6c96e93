"""Scheduled jobs of the exports domain (registered with placeevents.jobs.scheduled_job)."""
