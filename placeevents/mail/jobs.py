"""Scheduled jobs of the mail domain (registered with placeevents.jobs.scheduled_job)."""
