"""Imports every domain's models so the metadata (and Alembic) sees every table."""

from placeevents import caching
from placeevents.audit import models as audit_models
from placeevents.auth import models as auth_models
from placeevents.calendar import models as calendar_models
from placeevents.enquiries import models as enquiries_models
from placeevents.events import models as events_models
from placeevents.invitations import models as invitations_models
from placeevents.mail import models as mail_models
from placeevents.news import models as news_models
from placeevents.newsletter import models as newsletter_models
from placeevents.notes import models as notes_models
from placeevents.settings import models as settings_models

__all__ = [
    "caching",
    "audit_models",
    "auth_models",
    "calendar_models",
    "enquiries_models",
    "events_models",
    "invitations_models",
    "mail_models",
    "news_models",
    "newsletter_models",
    "notes_models",
    "settings_models",
]
