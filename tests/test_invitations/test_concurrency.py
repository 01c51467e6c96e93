"""100 people answering yes at once for 10 places, against a live server (CSRF on).

They all answer from one client address, as colleagues behind an office's address do: each
personal link has its own rate limit, so none of them is turned away.
"""

import http.client
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


def _open_page(base: str, path: str) -> None:
    """Open an RSVP page as a browser would; it sets no cookie, the link is all it takes."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    assert response.status == 200
    assert response.getheader("Set-Cookie") is None
    conn.close()


def _post_answer(base: str, path: str) -> int:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    conn.request(
        "POST",
        path,
        body=urlencode({"answer": "yes"}),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": base,
            "Sec-Fetch-Site": "same-origin",
        },
    )
    status = conn.getresponse().status
    conn.close()
    return status


def test_a_hundred_simultaneous_yes_answers_for_ten_places(
    live_server: Any, make_event: Any, make_invitation: Any
) -> None:
    event = make_event(capacity=PLACES, ask_access_needs=False, ask_question=False)
    paths = [
        rsvp_path(make_invitation(event=event, email=f"crowd{n}@example.org"))
        for n in range(PEOPLE)
    ]
    # Outside a request every transaction takes SQLite's write lock: end ours first.
    event_id = event.id
    db.session.close()
    for path in paths:
        _open_page(live_server.url, path)

    start = threading.Barrier(PEOPLE)
    statuses: list[int] = []
    lock = threading.Lock()

    def respond(path: str) -> None:
        start.wait()
        status = _post_answer(live_server.url, path)
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=respond, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert sorted(statuses) == [302] * PEOPLE  # no answer failed
    db.session.expire_all()
    counts = dict(db.session.execute(select(Rsvp.answer, func.count()).group_by(Rsvp.answer)).all())
    assert counts == {RsvpAnswer.YES: PLACES, RsvpAnswer.WAITLISTED: PEOPLE - PLACES}
    assert db.session.get(Event, event_id).places_taken == PLACES
