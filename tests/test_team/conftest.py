"""Helpers for the team's tests: signing in as someone, and the links mail carries."""

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import ORGANISER_PASSWORD


def sign_in(client: FlaskClient, email: str, password: str = ORGANISER_PASSWORD) -> Any:
    """Post the login form; the response (302 when signed in)."""
    return client.post("/login", data={"email": email, "password": password})


def link_to(mail: Any, path: str) -> str:
    """The path (with its token) of the first link in the mail that goes to `path`."""
    for link in mail.links():
        local = link.split("://", 1)[1].split("/", 1)[1]
        if ("/" + local).startswith(path):
            return "/" + local
    raise AssertionError(f"no link to {path} in {mail.links()}")


@pytest.fixture
def admin(make_organiser: Any) -> Any:
    return make_organiser(email="ada@example.org", name="Ada Admin")


@pytest.fixture
def colleague(make_organiser: Any) -> Any:
    """An organiser who is not an admin."""
    return make_organiser(email="otto@example.org", name="Otto Organiser", role="organiser")


@pytest.fixture
def admin_client(app: Flask, admin: Any) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, admin.email).status_code == 302
    return client


@pytest.fixture
def colleague_client(app: Flask, colleague: Any) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, colleague.email).status_code == 302
    return client
