"""Helpers for the events tests: form data and errors shown beside fields."""

import html
import re
from collections.abc import Callable
from typing import Any

import pytest


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
