"""Newsletters and learning digests: composed by organisers, sent to the mailing list, archived."""

# What each action this domain records reads as in the audit log.
AUDIT_ACTIONS = {
    "news.create": "Started a newsletter",
    "news.delete": "Deleted a draft newsletter",
    "news.send": "Sent a newsletter",
    "news.schedule": "Scheduled a newsletter",
    "news.cancel": "Cancelled a scheduled newsletter",
    "news.sent": "Finished sending a newsletter",
}
