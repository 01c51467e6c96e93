"""Enquiries: an enquiry, its lines of enquiry (questions) and its time zone."""

# What each action this domain records reads as in the audit log.
AUDIT_ACTIONS = {
    "enquiry.create": "Created the enquiry",
    "enquiry.update": "Changed the enquiry",
    "enquiry.archive": "Archived the enquiry",
    "enquiry.make_current": "Made the enquiry the current one",
}
