"""Helpers for the mailing-list tests."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

SIGNUP = {
    "signup-name": "Ada Lovelace",
    "signup-email": "ada@example.org",
    "signup-organisation": "Analytical Council",
    "signup-role": "Director of Place",
    "signup-wants_in_person": "y",
    "signup-wants_news": "y",
}


@pytest.fixture
def sign_up(client: FlaskClient) -> Callable[..., Any]:
    """POST the signup form with sensible values, overridden by keyword."""

    def post(**overrides: str) -> Any:
        data = {**SIGNUP, **{f"signup-{k}": v for k, v in overrides.items()}}
        return client.post("/newsletter/signup", data=data)

    return post


def without_csrf(html: str) -> str:
    """A page's HTML with CSRF token values blanked, so two responses can be compared."""
    return re.sub(r'(name="[\w-]*csrf_token"[^>]*value=")[^"]*"', r'\1"', html)
