"""Imports every domain's models so the metadata (and Alembic) sees every table."""

from placeevents.audit.models import AuditEntry
from placeevents.auth.models import Organiser
from placeevents.enquiries.models import Enquiry, EnquiryQuestion
from placeevents.events.models import Event
from placeevents.invitations.models import Invitation, Rsvp
from placeevents.mail.models import Bounce, JobRun, OutboxMessage
from placeevents.newsletter.models import DoNotInvite, ImportBatch, Subscriber, Suppression
from placeevents.notes.models import Note, NoteRevision, NoteShare

__all__ = [
    "AuditEntry",
    "Bounce",
    "DoNotInvite",
    "Enquiry",
    "EnquiryQuestion",
    "Event",
    "ImportBatch",
    "Invitation",
    "JobRun",
    "Note",
    "NoteRevision",
    "NoteShare",
    "Organiser",
    "OutboxMessage",
    "Rsvp",
    "Subscriber",
    "Suppression",
]
