"""The mailing list: subscribers, their interests and consent, imports and unsubscribing."""

# What each action this domain records reads as in the audit log.
AUDIT_ACTIONS = {
    "newsletter.add": "Added someone to the mailing list",
    "newsletter.import": "Imported people to the mailing list",
    "newsletter.export": "Exported the mailing list",
    "newsletter.erase": "Erased a person's data",
}
