"""The organisation's settings, kept in the database and changed by admins on the settings page."""
