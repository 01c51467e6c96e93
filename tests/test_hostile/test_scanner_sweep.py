"""A mail scanner follows every link: GET never changes state.

The journeys run as people and organisers run them (signup and confirmation, invitations and
answers, reminders, messages, note shares, fresh links, requests for a place, calendar
updates and cancellations), their mail goes out over real SMTP, and then every link in every
message is requested with GET and HEAD and no cookies, as a scanner would: no row of any table
changes and no mail is sent. (RFC 8058's one-click unsubscribe is a POST, never a GET.)
"""

import re
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from placeevents.extensions import db
from tests.test_hostile.conftest import World, committed_writes, find_form, log_in, rules_of


def _submit(app: Flask, world: World, client: FlaskClient, endpoint: str, **values: Any) -> None:
    """Fill the form that posts to `endpoint` as a person would, overriding some fields."""
    rule = next(r for r in rules_of(app, "POST") if r.endpoint == endpoint)
    found = find_form(app, world, rule, client)
    assert found is not None, endpoint
    _, action, form = found
    data = MultiDict([(k, v) for k, v in form.defaults() if k not in values])
    for key, value in values.items():
        for one in value if isinstance(value, list) else [value]:
            data.add(key, one)
    response = client.post(action, data=data)
    assert response.status_code in (200, 302, 303), (endpoint, response.get_data(as_text=True))


def _links(message: Any) -> set[str]:
    found = set(message.links())
    found |= set(re.findall(r'href="(https?://[^"]+)"', message.html()))
    found |= set(re.findall(r"<(https?://[^>]+)>", str(message.message["List-Unsubscribe"] or "")))
    return {link.replace("&amp;", "&") for link in found}


def _rows(app: Flask) -> dict[str, list[tuple[str, ...]]]:
    with app.app_context(), db.engine.connect() as conn:
        return {
            t.name: sorted(tuple(str(v) for v in row) for row in conn.execute(sa.select(t)))
            for t in db.metadata.sorted_tables
        }


def test_following_every_link_in_every_mail_changes_nothing(
    app: Flask, world: World, smtp: Any
) -> None:
    organiser, person = app.test_client(), app.test_client()
    log_in(organiser)
    ids = world.ids
    event, past = ids["event_id"][0], ids["event_id"][2]

    _submit(app, world, person, "newsletter.signup", **{
        "signup-name": "Ada Lovelace", "signup-email": "ada@example.org",
        "signup-wants_news": "y",
    })  # fmt: skip
    _submit(app, world, person, "newsletter.confirm")
    _submit(app, world, person, "newsletter.fresh_link", email="ada@example.org")
    _submit(app, world, person, "invitations.fresh_link", email="pat@example.org")
    _submit(app, world, person, "invitations.request_place",
            name="Rosa Request", email="rosa@example.org")  # fmt: skip
    _submit(app, world, organiser, "manage.invitations.invite",
            subscribers="all", pasted="Ned New,ned@example.org", subject="Join us",
            body="Please come.", action="send", confirmed="y")  # fmt: skip
    _submit(app, world, person, "invitations.answer", answer="yes", mode="in_person")
    _submit(app, world, organiser, "manage.invitations.remind")
    _submit(app, world, organiser, "manage.invitations.message",
            audience="everyone", subject="Directions", body="Left.", action="send")  # fmt: skip
    _submit(app, world, organiser, "manage.notes.share")
    edit = next(r for r in rules_of(app, "POST") if r.endpoint == "manage.events.edit")
    _, action, form = find_form(app, world, edit, organiser) or (None, "", None)
    assert form is not None
    changed = MultiDict([(k, v) for k, v in form.defaults() if k != "venue"])
    changed.add("venue", "Friends Meeting House")
    assert organiser.post(action, data=changed).status_code == 302
    assert organiser.post(f"/manage/events/{past}/duplicate").status_code == 302
    cancelled = organiser.post(f"/manage/events/{event}/cancel", data={"message": "Sorry."})
    assert cancelled.status_code == 302

    messages = smtp.messages
    subjects = {m.subject for m in messages}
    links = sorted({link for m in messages for link in _links(m)})
    ours = [link for link in links if urlsplit(link).netloc == "localhost"]
    # Every kind of personal link, and the mail that carried each journey, was seen.
    for kind in ("/newsletter/confirm/", "/newsletter/preferences/", "/newsletter/unsubscribe/",
                 "/rsvp/", "/invitations/stop/", "/notes/"):  # fmt: skip
        assert any(kind in link for link in ours), (kind, subjects)
    assert len(messages) >= 10 and len(ours) >= 15, (len(messages), len(ours))

    before, sent = _rows(app), len(smtp.messages)
    for link in ours:
        parts = urlsplit(link)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        for method in ("GET", "HEAD"):
            with committed_writes(app) as writes:
                response = app.test_client().open(path, method=method)
            assert response.status_code < 500, (method, link)
            assert writes == [], (method, link, writes)
    after = _rows(app)
    assert [t for t in before if before[t] != after[t]] == []
    assert len(smtp.messages) == sent
