"""Reading and changing the organisation's settings; every change goes to the audit log."""

from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import getaddresses
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import Select, event, select
from sqlalchemy.orm import Session, SessionTransaction

from placeevents.addresses import has_control_characters, normalise_email
from placeevents.audit.services import record
from placeevents.extensions import db
from placeevents.settings.models import SiteSettings

SETTINGS_ID = 1
DEFAULT_REMINDER_LEAD_HOURS = 48


class SettingsError(ValueError):
    """The settings cannot be saved as given; the message is fit to show."""


@dataclass(frozen=True)
class Settings:
    """The settings in force: the stored row, or the configured defaults before any is saved."""

    organisation_name: str
    sender_name: str
    sender_email: str
    subject_prefix: str
    privacy_notice: str
    reminder_lead_hours: int
    admins_need_two_factor: bool

    def prefixed(self, subject: str) -> str:
        """A mail's subject with the subject prefix before it, once."""
        if not self.subject_prefix or subject.startswith(self.subject_prefix):
            return subject
        return f"{self.subject_prefix} {subject}"

    def mail_example(self) -> str:
        """How an invitation's sender and subject read in an inbox with these settings."""
        sender = f'"{self.sender_name}" <{self.sender_email}>' if self.sender_name else (
            self.sender_email
        )
        return f"From {sender}, Subject: {self.prefixed('Invitation: …')}"


def _sender_parts(configured: str | tuple[str, str]) -> tuple[str, str]:
    if isinstance(configured, tuple):
        return configured[0], configured[1]
    [(name, email)] = getaddresses([configured])
    return name, email


@lru_cache(maxsize=8)
def _defaults_for(
    sender: str | tuple[str, str], organisation_name: str, privacy_notice: str
) -> Settings:
    name, email = _sender_parts(sender)
    return Settings(
        organisation_name=organisation_name,
        sender_name=name,
        sender_email=email,
        # Empty: the sender's name beside each subject already says who writes, and a prefix
        # repeating it costs every subject line room on a phone. An admin can set one.
        subject_prefix="",
        privacy_notice=privacy_notice,
        reminder_lead_hours=DEFAULT_REMINDER_LEAD_HOURS,
        admins_need_two_factor=False,
    )


def _defaults() -> Settings:
    config = current_app.config
    return _defaults_for(
        config["MAIL_DEFAULT_SENDER"],
        config["PLACEEVENTS_ORGANISATION"],
        config["PLACEEVENTS_PRIVACY_NOTICE"],
    )


FIELDS = tuple(Settings.__dataclass_fields__)

# The stored row's values only, read on the request's own connection: no ORM object to build.
_STORED = select(*(SiteSettings.__table__.c[name] for name in FIELDS)).where(
    SiteSettings.__table__.c.id == SETTINGS_ID
)


@lru_cache(maxsize=8)
def _of(values: tuple[object, ...]) -> Settings:
    # Keyed by the row's values, so each process builds a Settings once per saved version.
    return Settings(**dict(zip(FIELDS, values, strict=True)))  # type: ignore[arg-type]


def current_settings() -> Settings:
    """The settings in force, read once per transaction (a saved change shows in every
    process on its next request: the row is read afresh, only the object built from it is
    kept)."""
    session = db.session()
    cached = session.info.get("site_settings")
    if cached is None:
        row = session.connection().execute(_STORED).first()
        cached = _of(tuple(row)) if row is not None else _defaults()
        session.info["site_settings"] = cached
    return cached


_TABLE = SiteSettings.__table__
# The row's id first: None when another statement's outer join found no saved settings.
SETTINGS_COLUMNS = (_TABLE.c.id, *(_TABLE.c[name] for name in FIELDS))


def with_settings(statement: Select[Any]) -> Select[Any]:
    """`statement` also reading the settings row, outer-joined by its fixed id: its rows end
    with the values of SETTINGS_COLUMNS, for settings_read. Spares a page that runs the
    statement first in its transaction current_settings()'s own query."""
    return statement.outerjoin(_TABLE, _TABLE.c.id == SETTINGS_ID).add_columns(
        *SETTINGS_COLUMNS
    )


def settings_read(values: Sequence[Any]) -> None:
    """Hand current_settings() the settings a statement of with_settings read (the values of
    SETTINGS_COLUMNS): what it answers until the transaction ends, unless it already read
    them in this transaction."""
    session = db.session()
    if "site_settings" not in session.info:
        session.info["site_settings"] = (
            _of(tuple(values[1:])) if values[0] is not None else _defaults()
        )


@event.listens_for(Session, "after_transaction_end")
def _forget_settings(session: Session, transaction: SessionTransaction) -> None:
    # Read afresh in the next transaction: another process may have saved new ones.
    if transaction.parent is None:
        session.info.pop("site_settings", None)


def update_settings(
    *,
    organisation_name: str,
    sender_name: str,
    sender_email: str,
    subject_prefix: str = "",
    privacy_notice: str,
    reminder_lead_hours: int,
    admins_need_two_factor: bool,
) -> list[str]:
    """Save the settings; returns the names of the settings that changed (audited)."""
    organisation_name = " ".join(organisation_name.split())
    sender_name = " ".join(sender_name.split())
    sender_email = normalise_email(sender_email)
    subject_prefix = " ".join(subject_prefix.split())
    if not organisation_name:
        raise SettingsError("Enter the organisation's name.")
    if "@" not in sender_email:
        raise SettingsError("Enter the sender's email address.")
    if has_control_characters(subject_prefix) or len(subject_prefix) > 100:
        raise SettingsError("Enter a subject prefix of one line, up to 100 characters.")
    if not 1 <= reminder_lead_hours <= 14 * 24:
        raise SettingsError("Send reminders between 1 hour and 14 days before an event.")
    new = Settings(
        organisation_name=organisation_name,
        sender_name=sender_name,
        sender_email=sender_email,
        subject_prefix=subject_prefix,
        privacy_notice=privacy_notice.strip(),
        reminder_lead_hours=reminder_lead_hours,
        admins_need_two_factor=admins_need_two_factor,
    )
    old = current_settings()
    changed = [name for name in FIELDS if getattr(old, name) != getattr(new, name)]
    row = db.session.get(SiteSettings, SETTINGS_ID)
    if row is None:
        row = SiteSettings(id=SETTINGS_ID)
        db.session.add(row)
    for name in FIELDS:
        setattr(row, name, getattr(new, name))
    db.session.flush()
    db.session.info.pop("site_settings", None)
    for name in changed:
        detail = name.replace("_", " ")
        if name == "sender_email":
            detail += f": {old.sender_email} → {new.sender_email}"
        record(action="settings.update", target="settings", detail=detail)
    return changed
