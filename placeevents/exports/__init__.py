"""Exports: attendee lists, sign-in sheets, the attendance matrix and check-in pages."""

# What each action this domain records reads as in the audit log.
AUDIT_ACTIONS = {
    "export.attendees": "Exported the attendee list",
    "export.sign-in-sheet": "Printed the sign-in sheet",
    "export.matrix": "Exported the attendance matrix",
}
