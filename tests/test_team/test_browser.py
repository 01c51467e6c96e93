"""The team in Chromium: an admin invites a colleague, who sets a password and logs in."""

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from placeevents.auth.models import Organiser, Role
from placeevents.auth.services import create_organiser
from placeevents.extensions import db

pytestmark = pytest.mark.browser


def test_invite_set_a_password_and_log_in(live_server: Any, page: Any, smtp: Any) -> None:
    with live_server.app.app_context():
        create_organiser(email="ada@example.org", name="Ada Admin", password="a long password!")
        db.session.commit()
    page.goto(live_server.url + "/login")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password").fill("a long password!")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Team").click()
    page.get_by_label("Email").fill("grace@example.org")
    page.get_by_label("Organiser: enquiries").check()
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text("We have mailed an invitation to grace@example.org.")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    mail = smtp.wait_for("grace@example.org")
    link = next(link for link in mail.links() if "/join/" in link)
    page.goto(link)
    page.get_by_label("Your name").fill("Grace Hopper")
    page.get_by_label("New password", exact=True).fill("compilers are kind to people")
    page.get_by_label("The new password again").fill("compilers are kind to people")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_text("Welcome to the team.")).to_be_visible()

    page.get_by_label("Email").fill("grace@example.org")
    page.get_by_label("Password").fill("compilers are kind to people")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    assert page.get_by_role("link", name="Team").count() == 0
    with live_server.app.app_context():
        grace = db.session.scalars(
            select(Organiser).where(Organiser.email == "grace@example.org")
        ).one()
        assert grace.name == "Grace Hopper" and grace.role == Role.ORGANISER
