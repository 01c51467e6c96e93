"""Helpers for the events tests: form data, invited people, errors shown beside fields."""

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from placeevents.extensions import db


def field_error(page: str, field_id: str) -> str | None:
    """The error message shown beside a form field, or None."""
    found = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)).strip() if found else None


@pytest.fixture
def event_form() -> Callable[..., dict[str, str]]:
    """Valid form data for a face-to-face event in the enquiry's local time; override any field."""

    def build(**overrides: Any) -> dict[str, str]:
        data = {
            "title": "Learning that travels",
            "format": "in_person",
            "starts_at": "2030-05-14T10:00",
            "ends_at": "2030-05-14T12:30",
            "venue": "The Station",
            "address": "Silver Street, Bristol",
            "join_url": "",
            "hosts": "Jo Bloggs and Sam Lee",
            "description": "We meet to **explore**.",
            "capacity": "",
            "rsvp_deadline": "",
            "access": "invitation",
            "ask_access_needs": "y",
            "ask_question": "y",
        }
        data.update({k: str(v) for k, v in overrides.items() if v is not None})
        for k, v in overrides.items():
            if v is None:
                data.pop(k, None)
        return data

    return build


@pytest.fixture
def invite(app: Flask) -> Callable[..., Any]:
    """Put a person on an event's invitation list, with an RSVP answer if given."""
    from placeevents.invitations.models import (
        Invitation,
        InvitationSource,
        Rsvp,
        RsvpAnswer,
    )

    def add(event: Any, email: str, *, name: str = "", answer: str | None = None, **kw: Any) -> Any:
        invitation = Invitation(
            event_id=event.id,
            email=email,
            name=name,
            source=kw.pop("source", InvitationSource.ORGANISER),
            **kw,
        )
        if answer is not None:
            invitation.rsvp = Rsvp(answer=RsvpAnswer(answer))
        db.session.add(invitation)
        db.session.commit()
        return invitation

    return add
