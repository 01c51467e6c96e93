"""The links in our mail: expiry, purposes, scanners, one-click unsubscribe and preferences."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.extensions import db
from placeevents.mail.models import OutboxMessage
from placeevents.newsletter import links
from placeevents.newsletter.models import Subscriber, SubscriberStatus
from placeevents.tokens import make_token


def _path(url: str) -> str:
    return urlsplit(url).path


def _subscriber(email: str = "ada@example.org") -> Subscriber:
    db.session.expire_all()
    return db.session.scalar(select(Subscriber).where(Subscriber.email == email))


def _in_request(app: Flask, build: Callable[[], Any]) -> Any:
    # external_url builds on url_for, which needs a request (as when a view sends mail).
    with app.test_request_context():
        return build()


def _state() -> list[tuple[Any, ...]]:
    db.session.expire_all()
    people = db.session.execute(select(Subscriber.__table__)).all()
    outbox = db.session.execute(select(OutboxMessage.id, OutboxMessage.status)).all()
    return [tuple(p) for p in people] + [tuple(o) for o in outbox]


def test_every_emailed_link_can_be_followed_with_get_and_head_without_effect(
    app: Flask, client: FlaskClient, sign_up: Callable[..., Any], smtp: Any
) -> None:
    sign_up()
    confirmation = smtp.last_to("ada@example.org")
    client.post(_path(confirmation.links()[0]))
    welcome = smtp.last_to("ada@example.org")
    subscriber = _subscriber()
    subscriber.last_signup_mail_at = None
    db.session.commit()
    sign_up()
    already = smtp.last_to("ada@example.org")
    assert "already subscribed" in already.subject.lower()

    emailed = set()
    for mail in (confirmation, welcome, already):
        emailed.update(mail.links())
        emailed.add(str(mail.message["List-Unsubscribe"]).strip("<>"))
    assert len(emailed) >= 3
    scanner = app.test_client()
    before = _state()
    for link in sorted(emailed):
        for method in (scanner.get, scanner.head):
            response = method(_path(link))
            assert response.status_code == 200, link
            assert response.headers["Cache-Control"] == "no-store"
    assert _state() == before
    assert _subscriber().status == SubscriberStatus.CONFIRMED


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_unsubscribe_rfc_8058(csrf_app: Flask, encoding: str) -> None:
    subscriber = Subscriber(
        email="ada@example.org", name="Ada", status=SubscriberStatus.CONFIRMED, wants_news=True
    )
    db.session.add(subscriber)
    db.session.commit()
    header = _in_request(csrf_app, lambda: links.subscriber_mail_headers(subscriber))
    assert header["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = header["List-Unsubscribe"].strip("<>")
    assert url.startswith("http://localhost/") and url == _in_request(
        csrf_app, lambda: links.unsubscribe_url(subscriber)
    )
    client = csrf_app.test_client(use_cookies=False)
    data = {"List-Unsubscribe": "One-Click"}
    if encoding == "multipart":
        response = client.post(_path(url), data=data, content_type="multipart/form-data")
    else:
        response = client.post(_path(url), data=data)
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert "You have unsubscribed" in response.get_data(as_text=True)
    fresh = _subscriber()
    assert fresh.status == SubscriberStatus.UNSUBSCRIBED and fresh.unsubscribed_at is not None
    # Twice is harmless.
    assert client.post(_path(url), data=data).status_code == 200


def test_the_unsubscribe_link_opened_in_a_browser_asks_first(
    app: Flask, client: FlaskClient, make_subscriber: Callable[..., Any]
) -> None:
    subscriber = make_subscriber(email="ada@example.org")
    page = client.get(_path(_in_request(app, lambda: links.unsubscribe_url(subscriber))))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'method="post"' in html and ">Unsubscribe</button>" in html
    assert _subscriber().status == SubscriberStatus.CONFIRMED


def test_after_unsubscribing_the_page_offers_the_way_back(
    app: Flask, client: FlaskClient, make_subscriber: Callable[..., Any]
) -> None:
    import re

    subscriber = make_subscriber(email="ada@example.org")
    done = client.post(_path(_in_request(app, lambda: links.unsubscribe_url(subscriber))))
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "You have unsubscribed" in html
    assert _subscriber().status == SubscriberStatus.UNSUBSCRIBED
    assert "your preferences page" in html and 'href="/"' in html
    # One button takes them back on the list, with no session: the link's token is the proof.
    resubscribe = re.search(r'<form method="post" action="([^"]+)"', html).group(1)
    again = client.post(resubscribe)
    assert again.status_code in (200, 302, 303)
    assert _subscriber().status == SubscriberStatus.CONFIRMED


def test_confirmation_links_last_seven_days(
    app: Flask, sign_up: Callable[..., Any], smtp: Any
) -> None:
    with time_machine.travel("2031-03-01 09:00Z", tick=False) as traveller:
        sign_up()
        link = _path(smtp.last_to("ada@example.org").links()[0])
        client = app.test_client()
        traveller.shift(timedelta(days=7) - timedelta(minutes=1))
        assert client.get(link).status_code == 200
        traveller.shift(timedelta(minutes=2))
        expired = client.get(link)
        assert expired.status_code == 410
        html = expired.get_data(as_text=True)
        assert "This link has expired" in html and "Send me a fresh link" in html
        assert client.post(link).status_code == 410
        assert _subscriber().status == SubscriberStatus.PENDING

        smtp.clear()
        known = client.post("/newsletter/fresh-link", data={"email": "ada@example.org"})
        unknown = client.post("/newsletter/fresh-link", data={"email": "who@example.org"})
        assert known.status_code == unknown.status_code == 303
        assert known.headers["Location"] == unknown.headers["Location"]
        assert smtp.to("who@example.org") == []
        fresh = _path(smtp.last_to("ada@example.org").links()[0])
        assert fresh != link
        confirmed = client.post(fresh)
        assert "Thank you for signing up to receive our newsletter" in confirmed.get_data(
            as_text=True
        )
    assert _subscriber().status == SubscriberStatus.CONFIRMED


def test_broken_and_misused_links_get_a_friendly_page(
    client: FlaskClient, make_subscriber: Callable[..., Any]
) -> None:
    subscriber = make_subscriber(email="ada@example.org", status=SubscriberStatus.PENDING)
    preferences_token = links.token_for(links.PREFERENCES, subscriber)
    for path in (
        "/newsletter/confirm/not-a-token",
        f"/newsletter/confirm/{preferences_token}",
        f"/newsletter/unsubscribe/{preferences_token}",
        f"/newsletter/preferences/{links.token_for(links.CONFIRM, subscriber)}",
        f"/newsletter/confirm/{preferences_token[:-3]}",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        html = response.get_data(as_text=True)
        assert "This link does not work" in html and "Send me a fresh link" in html
        assert ">Your email address</label>" in html
    assert client.post(f"/newsletter/unsubscribe/{preferences_token}").status_code == 404
    assert _subscriber().status == SubscriberStatus.PENDING


def test_a_rotated_nonce_kills_old_links(
    app: Flask, client: FlaskClient, make_subscriber: Callable[..., Any]
) -> None:
    subscriber = make_subscriber(email="ada@example.org")
    old = _path(_in_request(app, lambda: links.preferences_url(subscriber)))
    forged = make_token(links.PREFERENCES, subscriber.id, "guessed-nonce")
    assert client.get(f"/newsletter/preferences/{forged}").status_code == 404
    subscriber.token_nonce = "rotated-nonce"
    db.session.commit()
    assert client.get(old).status_code == 404


def test_an_old_confirmation_link_cannot_undo_an_unsubscribe(
    client: FlaskClient, sign_up: Callable[..., Any], smtp: Any
) -> None:
    sign_up()
    link = _path(smtp.last_to("ada@example.org").links()[0])
    client.post(link)
    unsubscribe = str(smtp.last_to("ada@example.org").message["List-Unsubscribe"]).strip("<>")
    client.post(_path(unsubscribe))
    assert client.post(link).status_code == 404
    assert _subscriber().status == SubscriberStatus.UNSUBSCRIBED


def test_the_preferences_page(
    app: Flask,
    client: FlaskClient,
    make_subscriber: Callable[..., Any],
    make_event: Any,
    make_invitation: Any,
) -> None:
    subscriber = make_subscriber(
        email="ada@example.org", name="Ada", wants_in_person=True, wants_online=False
    )
    from placeevents.invitations.models import InvitationSource

    make_invitation(
        make_event(title="Leeds exploration"),
        answer="yes",
        access_needs="Step-free access",
        email="ada@example.org",
        name="Ada",
        source=InvitationSource.SUBSCRIBER,
        subscriber_id=subscriber.id,
    )
    path = _path(_in_request(app, lambda: links.preferences_url(subscriber)))

    page = client.get(path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "ada@example.org" in html and 'value="Ada"' in html
    assert "Download what we hold about me" in html and ">Unsubscribe</button>" in html

    refused = client.post(path, data={"name": "A" * 10_000, "wants_online": "y"})
    assert refused.status_code == 422
    assert "Use at most 200 characters." in refused.get_data(as_text=True)
    assert _subscriber().name == "Ada"

    saved = client.post(
        path,
        data={"name": "Ada King", "organisation": "Council", "wants_online": "y"},
        follow_redirects=True,
    )
    assert "Your preferences are saved." in saved.get_data(as_text=True)
    fresh = _subscriber()
    assert fresh.name == "Ada King" and fresh.organisation == "Council"
    assert fresh.wants_online and not fresh.wants_in_person and not fresh.wants_news

    download = client.get(f"{path}/my-data.json")
    assert download.status_code == 200 and download.mimetype == "application/json"
    assert "attachment" in download.headers["Content-Disposition"]
    data = json.loads(download.get_data(as_text=True))
    assert data["email"] == "ada@example.org" and data["name"] == "Ada King"
    assert data["consent"]["source"] == "form" and data["interests"]["online"] is True
    assert data["invitations"][0]["event"] == "Leeds exploration"
    assert data["invitations"][0]["access_needs"] == "Step-free access"


def test_subscribe_again_from_the_preferences_page(
    app: Flask, client: FlaskClient, make_subscriber: Callable[..., Any], smtp: Any
) -> None:
    subscriber = make_subscriber(email="ada@example.org", status=SubscriberStatus.UNSUBSCRIBED)
    path = _path(_in_request(app, lambda: links.preferences_url(subscriber)))
    html = client.get(path).get_data(as_text=True)
    assert "You have unsubscribed" in html and "Subscribe again" in html
    page = client.post(f"{path}/subscribe", follow_redirects=True)
    assert "You are subscribed again" in page.get_data(as_text=True)
    fresh = _subscriber()
    assert fresh.status == SubscriberStatus.CONFIRMED and fresh.confirmed_at is not None
    assert "welcome" in smtp.last_to("ada@example.org").subject.lower()
