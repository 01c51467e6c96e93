"""Session notes: written after each event, shared with attendees, gathered as learning."""

# What each action this domain records reads as in the audit log.
AUDIT_ACTIONS = {
    "note.create": "Wrote a session note",
    "note.update": "Edited the note",
    "note.restore": "Restored an earlier version of the note",
    "note.delete": "Deleted the note",
    "note.share": "Shared notes with the people invited",
}
