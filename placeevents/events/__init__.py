"""Events: the explorations of an enquiry, from draft to published, cancelled or copied."""

# What each action this domain records reads as in the audit log.
AUDIT_ACTIONS = {
    "event.create": "Created the event",
    "event.update": "Changed the event",
    "event.publish": "Published the event",
    "event.cancel": "Cancelled the event",
    "event.duplicate": "Made a copy of an event",
    "event.delete": "Deleted the draft event",
}
