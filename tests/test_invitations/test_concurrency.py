"""100 people answering yes at once for 10 places, against a live server (CSRF on)."""

import http.client
import re
import threading
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import func, select

from placeevents.events.models import Event
from placeevents.extensions import db
from placeevents.invitations.models import Rsvp, RsvpAnswer
from tests.test_invitations.conftest import rsvp_path

PEOPLE = 100
PLACES = 10


def _get_form(base: str, path: str) -> tuple[str, str]:
    """Open an RSVP page as a browser would: its session cookie and CSRF token."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.request("GET", path)
    response = conn.getresponse()
    html = response.read().decode()
    assert response.status == 200
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    conn.close()
    return cookie, token.group(1)


def _post_answer(base: str, path: str, cookie: str, token: str) -> int:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    body = urlencode({"csrf_token": token, "answer": "yes"})
    conn.request(
        "POST",
        path,
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    status = conn.getresponse().status
    conn.close()
    return status


def test_a_hundred_simultaneous_yes_answers_for_ten_places(
    live_server: Any, make_event: Any, make_invitation: Any
) -> None:
    live_server.app.config["RATELIMIT_EXEMPT_ADDRESSES"] = ["127.0.0.1"]
    event = make_event(capacity=PLACES, ask_access_needs=False, ask_question=False)
    paths = [
        rsvp_path(make_invitation(event=event, email=f"crowd{n}@example.org"))
        for n in range(PEOPLE)
    ]
    # Outside a request every transaction takes SQLite's write lock: end ours first.
    event_id = event.id
    db.session.close()
    forms = [_get_form(live_server.url, path) for path in paths]

    start = threading.Barrier(PEOPLE)
    statuses: list[int] = []
    lock = threading.Lock()

    def respond(path: str, cookie: str, token: str) -> None:
        start.wait()
        status = _post_answer(live_server.url, path, cookie, token)
        with lock:
            statuses.append(status)

    threads = [
        threading.Thread(target=respond, args=(path, *form))
        for path, form in zip(paths, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert sorted(statuses) == [302] * PEOPLE  # no answer failed
    db.session.expire_all()
    counts = dict(db.session.execute(select(Rsvp.answer, func.count()).group_by(Rsvp.answer)).all())
    assert counts == {RsvpAnswer.YES: PLACES, RsvpAnswer.WAITLISTED: PEOPLE - PLACES}
    assert db.session.get(Event, event_id).places_taken == PLACES
