"""Invitations: who is invited, their answers and places, and the pages their links open."""

# What each action this domain records reads as in the audit log.
AUDIT_ACTIONS = {
    "invitations.sent": "Sent invitations",
    "invitations.standing_sent": "Invited those who asked to be invited to every exploration",
    "invitations.reminded": "Sent answer reminders",
    "invitations.message": "Wrote to the people invited",
    "invitation.removed": "Removed an invitation",
    "rsvp.set_by_organiser": "Set an answer for someone invited",
    "registration.released": "Released the place of someone whose confirmation mail was refused",
    "check-in": "Checked someone in",
    "check-in.undone": "Undid a check-in",
    "check-in.closed": "Finished check-in",
    "check-in.reopened": "Reopened check-in",
    "calendar.update_queued": "Queued calendar updates",
    "event.change_notices_queued": "Told the people not yet confirmed that the event changed",
    "calendar.cancellation_queued": "Queued calendar cancellations",
    "personal-data.erased": "Blanked old answers, as the retention period requires",
}
