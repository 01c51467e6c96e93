"""Public forms need no session: anonymous pages set no cookie, and forgeries are refused.

Open forms (signup, request a place, fresh links) refuse a POST a browser marks as sent from
another site; forms behind a personal link are protected by the link's token; login and the
organiser pages keep their session CSRF token (tests/test_spine/test_auth.py and the domains').
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import func, select

from placeevents.clock import utcnow
from placeevents.enquiries.services import create_enquiry
from placeevents.events.models import Event, EventAccess, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations.links import rsvp_token, stop_token
from placeevents.invitations.models import Invitation, InvitationSource, Rsvp, RsvpAnswer
from placeevents.mail.models import OutboxMessage
from placeevents.newsletter.links import CONFIRM, PREFERENCES, UNSUBSCRIBE, token_for
from placeevents.newsletter.models import Subscriber, SubscriberStatus

SIGNUP = {
    "signup-name": "Ada Lovelace",
    "signup-email": "ada@example.org",
    "signup-wants_news": "y",
}
CROSS_SITE = [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"},
]


def _count(model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def csrf_app(app: Flask) -> Flask:
    """The test app with CSRF protection on, as in production (one app: one SQLite engine)."""
    app.config["WTF_CSRF_ENABLED"] = True
    return app


@pytest.fixture
def site(
    csrf_app: Flask,
    make_enquiry: Callable[..., Any],
    make_event: Callable[..., Any],
    make_subscriber: Callable[..., Any],
) -> dict[str, str]:
    """A current enquiry, an open event, an invitation, subscribers: the paths of their pages."""
    enquiry = make_enquiry(status="current", slug="total-place")
    event = make_event(enquiry=enquiry, slug="open-day", access=EventAccess.OPEN, capacity=20)
    invitation = Invitation(
        event=event, email="guest@example.org", name="Guest", source=InvitationSource.PASTED
    )
    db.session.add(invitation)
    db.session.commit()
    pending = make_subscriber(status=SubscriberStatus.PENDING)
    confirmed = make_subscriber()
    return {
        "home": "/",
        "enquiry": "/enquiries/total-place",
        "event": "/events/open-day",
        "rsvp": f"/rsvp/{rsvp_token(invitation)}",
        "signup": "/newsletter/signup",
        "request_place": "/events/open-day/request-place",
        "fresh_link": "/newsletter/fresh-link",
        "rsvp_fresh_link": "/rsvp/fresh-link",
        "stop": f"/invitations/stop/{stop_token(invitation)}",
        "broken_rsvp_link": "/rsvp/not-a-token",
        "confirm": f"/newsletter/confirm/{token_for(CONFIRM, pending)}",
        "preferences": f"/newsletter/preferences/{token_for(PREFERENCES, confirmed)}",
        "unsubscribe": f"/newsletter/unsubscribe/{token_for(UNSUBSCRIBE, confirmed)}",
        "broken_preferences_link": "/newsletter/preferences/not-a-token",
    }


@pytest.mark.parametrize(
    "page",
    [
        "home",
        "enquiry",
        "event",
        "rsvp",
        "signup",
        "request_place",
        "fresh_link",
        "rsvp_fresh_link",
        "stop",
        "broken_rsvp_link",
        "confirm",
        "preferences",
        "unsubscribe",
        "broken_preferences_link",
    ],
)
def test_anonymous_pages_set_no_cookie(csrf_app: Flask, site: dict[str, str], page: str) -> None:
    response = csrf_app.test_client().get(site[page])
    assert response.status_code == (404 if page.startswith("broken") else 200)
    assert "Set-Cookie" not in response.headers
    html = response.get_data(as_text=True)
    assert "<form" in html and "csrf_token" not in html


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_a_cross_site_signup_is_refused_with_a_clear_page(
    csrf_app: Flask, smtp: Any, headers: dict[str, str]
) -> None:
    response = csrf_app.test_client().post("/newsletter/signup", data=SIGNUP, headers=headers)
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "This form can only be sent from our own pages." in html and 'id="main"' in html
    assert _count(Subscriber) == 0 and _count(OutboxMessage) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "same-origin"},
        {},  # no browser headers at all: not a browser, so not a forgery riding on one
    ],
)
def test_a_same_origin_signup_works_without_a_session(
    csrf_app: Flask, smtp: Any, headers: dict[str, str]
) -> None:
    client = csrf_app.test_client(use_cookies=False)
    response = client.post("/newsletter/signup", data=SIGNUP, headers=headers)
    assert response.status_code == 200 and "Check your inbox" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    assert _count(Subscriber) == 1


@pytest.mark.parametrize("form", ["request_place", "fresh_link", "rsvp_fresh_link"])
def test_every_open_form_refuses_a_cross_site_post(
    csrf_app: Flask, site: dict[str, str], smtp: Any, form: str
) -> None:
    client = csrf_app.test_client(use_cookies=False)
    data = {"name": "Grace Hopper", "email": "grace@example.org"}
    refused = client.post(site[form], data=data, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert _count(OutboxMessage) == 0
    accepted = client.post(site[form], data=data, headers={"Origin": "http://localhost"})
    assert accepted.status_code in (200, 302, 303)


def test_an_rsvp_answer_needs_only_its_link(
    csrf_app: Flask, site: dict[str, str], smtp: Any
) -> None:
    client = csrf_app.test_client(use_cookies=False)
    response = client.post(site["rsvp"], data={"answer": "yes"})
    assert response.status_code == 302
    assert db.session.scalars(select(Rsvp)).one().answer == RsvpAnswer.YES


def test_organiser_forms_still_need_the_session_token(csrf_app: Flask, organiser: Any) -> None:
    client: FlaskClient = csrf_app.test_client()
    login_page = client.get("/login")
    assert "Set-Cookie" in login_page.headers  # the login form's CSRF token lives in the session
    refused = client.post(
        "/login", data={"email": "organiser@example.org", "password": "whatever it is"}
    )
    assert refused.status_code == 400


@pytest.mark.browser
def test_signup_and_an_rsvp_answer_in_chromium_without_any_cookie(
    live_server: Any, page: Any, smtp: Any
) -> None:
    app = live_server.app
    with app.app_context():
        enquiry = create_enquiry(
            title="Total Place 2.0", summary="", introduction="A year.", timezone="Europe/London"
        )
        starts = utcnow() + timedelta(days=10)
        event = Event(
            enquiry=enquiry,
            slug="learning-that-travels",
            title="Learning that travels",
            format=EventFormat.IN_PERSON,
            venue="The Station",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            status=EventStatus.PUBLISHED,
            capacity=30,
        )
        invitation = Invitation(
            event=event, email="guest@example.org", name="Guest", source=InvitationSource.PASTED
        )
        db.session.add(invitation)
        db.session.commit()
        rsvp_url = f"{live_server.url}/rsvp/{rsvp_token(invitation)}"

    page.goto(live_server.url + "/newsletter/signup")
    form = page.locator("form", has=page.get_by_role("button", name="Sign up"))
    form.get_by_label("Name", exact=True).fill("Rosa Parks")
    form.get_by_label("Email", exact=True).fill("rosa@example.org")
    form.get_by_label("Online events").check()
    form.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    assert smtp.wait_for("rosa@example.org").subject.startswith("Please confirm")

    page.goto(rsvp_url)
    assert page.context.cookies() == []
    page.get_by_role("button", name="Yes, I'll come").click()
    expect(page.get_by_text("Thank you: your place is confirmed.")).to_be_visible()
    with app.app_context():
        assert db.session.scalars(select(Rsvp)).one().answer == RsvpAnswer.YES
