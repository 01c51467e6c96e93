"""Signing up, confirming, and the rules that keep addresses private and input clean."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placeevents.clock import utcnow
from placeevents.extensions import db, limiter
from placeevents.mail.models import OutboxMessage
from placeevents.newsletter.models import ConsentSource, Subscriber, SubscriberStatus
from placeevents.newsletter.services import CONSENT_TEXT_VERSION
from tests.test_newsletter.conftest import SIGNUP, without_csrf


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _subscriber(email: str = "ada@example.org") -> Subscriber | None:
    db.session.expire_all()
    return db.session.scalar(select(Subscriber).where(Subscriber.email == email))


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_home_page_has_the_signup_form(client: FlaskClient, make_enquiry: Any) -> None:
    make_enquiry(status="current")
    html = client.get("/").get_data(as_text=True)
    assert "Join our mailing list" in html
    for label in ("Name", "Email", "Organisation", "Role"):
        assert f">{label}</label>" in html
    for interest in ("Face-to-face events", "Online events", "News and updates"):
        assert interest in html
    assert "invitations to face-to-face and hybrid events" in html
    assert 'href="/privacy"' in html and "privacy notice" in html
    assert ">Sign up</button>" in html
    assert 'action="/newsletter/signup"' in html


def test_the_journey_through_the_test_client(
    client: FlaskClient, sign_up: Callable[..., Any], smtp: Any
) -> None:
    response = sign_up()
    # The answer is the page itself, repeating the address typed so a typo shows.
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Check your inbox" in page
    assert "We have sent a message to <strong>ada@example.org</strong>" in page
    assert 'href="/newsletter/signup"' in page and "Set-Cookie" not in response.headers

    subscriber = _subscriber()
    assert subscriber.status == SubscriberStatus.PENDING
    assert subscriber.name == "Ada Lovelace" and subscriber.organisation == "Analytical Council"
    assert subscriber.wants_in_person and subscriber.wants_news and not subscriber.wants_online
    assert subscriber.consent_source == ConsentSource.FORM
    assert subscriber.consent_text_version == CONSENT_TEXT_VERSION
    assert subscriber.requested_at is not None and subscriber.confirmed_at is None

    mail = smtp.last_to("ada@example.org")
    assert "confirm" in mail.subject.lower()
    confirm_link = mail.links()[0]
    assert "/newsletter/confirm/" in confirm_link
    assert any("/newsletter/preferences/" in link for link in mail.links())
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.message["List-Unsubscribe"].startswith("<http://localhost/newsletter/unsubscribe/")

    # A mail scanner following the link changes nothing.
    for method in (client.get, client.head):
        shown = method(_path(confirm_link))
        assert shown.status_code == 200
        assert shown.headers["Cache-Control"] == "no-store"
    asked = client.get(_path(confirm_link)).get_data(as_text=True)
    assert "Confirm my subscription" in asked and "<strong>a***@example.org</strong>" in asked
    assert "ada@example.org" not in asked
    assert _subscriber().status == SubscriberStatus.PENDING
    assert len(smtp.messages) == 1

    confirmed = client.post(_path(confirm_link), environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert confirmed.status_code == 200
    thanks = confirmed.get_data(as_text=True)
    assert "Thank you for signing up to receive our newsletter" in thanks
    assert "a***@example.org" in thanks
    subscriber = _subscriber()
    assert subscriber.status == SubscriberStatus.CONFIRMED
    assert subscriber.confirmed_at is not None and subscriber.confirmed_ip == "192.0.2.7"
    welcome = smtp.last_to("ada@example.org")
    assert "welcome" in welcome.subject.lower()
    assert "Face-to-face events" in welcome.text() and "News and updates" in welcome.text()
    assert welcome.message["List-Unsubscribe"].startswith("<http://localhost/")

    # Pressing the button twice is harmless: still confirmed, no second welcome, and it says so.
    again = client.post(_path(confirm_link))
    assert again.status_code == 200
    html = again.get_data(as_text=True)
    assert "You are already subscribed" in html and "a***@example.org" in html
    assert "We have sent you a welcome message" not in html
    assert len(smtp.to("ada@example.org")) == 2
    assert _subscriber().confirmed_ip == "192.0.2.7"

    # Opening the link again later says the address is confirmed, with no button to press.
    later = client.get(_path(confirm_link))
    assert later.status_code == 200
    html = later.get_data(as_text=True)
    assert "You are already subscribed" in html and "a***@example.org" in html
    assert "Confirm my subscription</button>" not in html
    assert "/newsletter/preferences/" in html


@pytest.mark.parametrize("state", ["new", "pending", "confirmed", "unsubscribed"])
def test_responses_are_identical_whatever_the_address(
    app: Flask, make_subscriber: Callable[..., Any], smtp: Any, state: str
) -> None:
    long_ago = utcnow() - timedelta(days=2)
    if state != "new":
        make_subscriber(
            email="ada@example.org",
            status=SubscriberStatus(state),
            last_signup_mail_at=long_ago,
            requested_at=long_ago,
        )
    # A frozen clock keeps the rate-limit headers' reset times equal.
    with time_machine.travel(utcnow(), tick=False):
        reference = _signup_exchange(app, "nobody-yet@example.org")
        limiter.reset()
        smtp.clear()
        observed = _signup_exchange(app, "ada@example.org")
    assert observed == reference

    mail = smtp.last_to("ada@example.org")
    if state == "confirmed":
        assert "already subscribed" in mail.subject.lower()
        assert "/newsletter/preferences/" in mail.text()
        assert "/newsletter/confirm/" not in mail.text()
        assert _subscriber().status == SubscriberStatus.CONFIRMED
    else:
        assert "/newsletter/confirm/" in mail.links()[0]
        assert _subscriber().status == SubscriberStatus.PENDING


def _signup_exchange(app: Flask, email: str) -> tuple[Any, ...]:
    client = app.test_client()
    client.get("/newsletter/signup")
    data = {
        "signup-name": "Ada Lovelace",
        "signup-email": email,
        "signup-wants_online": "y",
    }
    response = client.post("/newsletter/signup", data=data)
    # The page repeats the address typed: the same page but for it (and so its length).
    skipped = {"set-cookie", "content-length"}
    headers = {k: v for k, v in response.headers.items() if k.lower() not in skipped}
    return (
        response.status_code,
        headers,
        without_csrf(response.get_data(as_text=True)).replace(email, "ADDRESS"),
    )


def test_repeated_signups_within_an_hour_are_dropped_silently(
    sign_up: Callable[..., Any], smtp: Any
) -> None:
    with time_machine.travel("2031-05-01 10:00Z", tick=False) as traveller:
        first = sign_up()
        second = sign_up(name="Someone Else")
        assert first.status_code == second.status_code == 200
        assert first.get_data() == second.get_data()
        assert len(smtp.to("ada@example.org")) == 1
        assert _subscriber().name == "Ada Lovelace"
        traveller.shift(timedelta(minutes=61))
        limiter.reset()
        sign_up(name="Ada King")
    assert len(smtp.to("ada@example.org")) == 2
    assert _subscriber().name == "Ada King"


def test_a_client_that_keeps_posting_is_rate_limited(
    client: FlaskClient, sign_up: Callable[..., Any]
) -> None:
    # An office's worth of people may sign up from one address in an hour; a flood may not.
    client.delivering = False  # type: ignore[attr-defined]
    statuses = [sign_up(email=f"person{n}@example.org").status_code for n in range(61)]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429


def test_one_address_is_rate_limited_whatever_client_posts_it(app: Flask) -> None:
    statuses = [
        app.test_client()
        .post(
            "/newsletter/signup",
            data={**SIGNUP, "signup-email": "Ada@Example.org" if n % 2 else "ada@example.org"},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
        )
        .status_code
        for n in range(6)
    ]
    assert statuses == [200] * 5 + [429]


def test_a_confirmed_address_is_never_changed_by_a_signup(
    sign_up: Callable[..., Any], make_subscriber: Callable[..., Any]
) -> None:
    make_subscriber(email="ada@example.org", name="Ada", wants_news=False)
    sign_up(name="Mallory", email="ADA@Example.org ")
    subscriber = _subscriber()
    assert subscriber.name == "Ada" and not subscriber.wants_news
    assert _count(Subscriber) == 1


BAD_INPUT = [
    ({"email": ""}, "email", "Enter your email address."),
    ({"email": "not-an-address"}, "email", "Enter an email address like name@example.org."),
    ({"email": "x\r\nBcc: a@b"}, "email", "without line breaks"),
    ({"email": "a" * 250 + "@example.org"}, "email", "Use at most 254 characters."),
    ({"name": ""}, "name", "Enter your name."),
    ({"name": "A" * 10_000}, "name", "Use at most 200 characters."),
    ({"name": "Ada\r\nBcc: a@b"}, "name", "control characters"),
    ({"name": "Ada\x07"}, "name", "control characters"),
    ({"organisation": "Org\nBcc: a@b"}, "organisation", "control characters"),
    ({"role": "R" * 10_000}, "role", "Use at most 200 characters."),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUT)
def test_bad_input_is_refused_beside_the_field(
    sign_up: Callable[..., Any], smtp: Any, overrides: dict[str, str], field: str, message: str
) -> None:
    response = sign_up(**overrides)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="signup-{field}-error"' in html
    error_line = html.split(f'id="signup-{field}-error">', 1)[1].split("</p>", 1)[0]
    assert message in error_line
    assert f'aria-describedby="signup-{field}-error"' in html
    assert _count(Subscriber) == 0 and _count(OutboxMessage) == 0
    assert smtp.messages == []


def test_choosing_nothing_to_receive_is_refused(client: FlaskClient) -> None:
    response = client.post(
        "/newsletter/signup",
        data={"signup-name": "Ada", "signup-email": "ada@example.org"},
    )
    assert response.status_code == 422
    assert "Choose at least one thing you would like to receive." in response.get_data(as_text=True)
    assert _count(Subscriber) == 0


@pytest.mark.parametrize("organisation", ["The Leadership Centre", "Acme Trust"])
def test_mail_wording_reads_well_for_any_organisation_and_status(
    app: Flask, client: FlaskClient, sign_up: Callable[..., Any], smtp: Any, organisation: str
) -> None:
    app.config["PLACEEVENTS_ORGANISATION"] = organisation
    sign_up()
    confirm = smtp.last_to("ada@example.org")
    assert confirm.subject == (
        f"Please confirm your subscription to the mailing list of {organisation}"
    )
    for body in (confirm.text(), confirm.html()):
        assert "is on the mailing list" not in body
        assert (
            f"someone asked for ada@example.org to join the mailing list of {organisation}; "
            "it is not on the list until you confirm." in " ".join(body.split())
        )

    client.post(_path(confirm.links()[0]))
    welcome = smtp.last_to("ada@example.org")
    assert welcome.subject == f"Welcome to the mailing list of {organisation}"
    assert "the the" not in welcome.subject.lower()
    for body in (welcome.text(), welcome.html()):
        assert f"ada@example.org is on the mailing list of {organisation}." in " ".join(
            body.split()
        )
        assert "until you confirm" not in body

    with time_machine.travel(utcnow() + timedelta(hours=2), tick=False):
        limiter.reset()
        sign_up()
    already = smtp.last_to("ada@example.org")
    assert already.subject == f"You are already subscribed to the mailing list of {organisation}"
