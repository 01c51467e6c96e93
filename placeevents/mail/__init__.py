"""Mail: the outbox, delivery with retries, bounces and the development mailbox."""

# What each action this domain records reads as in the audit log.
AUDIT_ACTIONS = {
    "mail.retry": "Sent a failed mail again",
    "mail.bounce_removed": "Took an address off the bounce list",
}
