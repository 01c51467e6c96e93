"""The organisation's settings, kept in the database and changed by admins on the settings page."""

# What each action this domain records reads as in the audit log.
AUDIT_ACTIONS = {"settings.update": "Changed the settings"}
