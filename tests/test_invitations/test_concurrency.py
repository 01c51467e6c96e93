"""100 people answering yes at once for 10 places (in person, and online), against a live
server (CSRF on).

They all answer from one client address, as colleagues behind an office's address do: each
personal link has its own rate limit, so none of them is turned away.
"""

import http.client
import threading
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import func, select

from placeevents.events.models import Event, EventFormat
from placeevents.extensions import db
from placeevents.invitations.models import AttendanceMode, Rsvp, RsvpAnswer
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


def _post_answer(base: str, path: str, answer: dict[str, str] | None = None) -> int:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    conn.request(
        "POST",
        path,
        body=urlencode(answer or {"answer": "yes"}),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": base,
            "Sec-Fetch-Site": "same-origin",
        },
    )
    status = conn.getresponse().status
    conn.close()
    return status


def _answer_at_once(base: str, paths: list[str], answers: list[dict[str, str]]) -> list[int]:
    """Every person posts their answer at the same moment; the statuses, in any order."""
    start = threading.Barrier(len(paths))
    statuses: list[int] = []
    lock = threading.Lock()

    def respond(path: str, answer: dict[str, str]) -> None:
        start.wait()
        status = _post_answer(base, path, answer)
        with lock:
            statuses.append(status)

    pairs = zip(paths, answers, strict=True)
    threads = [threading.Thread(target=respond, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return statuses


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

    statuses = _answer_at_once(live_server.url, paths, [{"answer": "yes"}] * PEOPLE)

    assert sorted(statuses) == [302] * PEOPLE  # no answer failed
    db.session.expire_all()
    counts = dict(db.session.execute(select(Rsvp.answer, func.count()).group_by(Rsvp.answer)).all())
    assert counts == {RsvpAnswer.YES: PLACES, RsvpAnswer.WAITLISTED: PEOPLE - PLACES}
    assert db.session.get(Event, event_id).places_taken == PLACES


def test_a_hundred_simultaneous_answers_for_ten_places_in_person_and_ten_online(
    live_server: Any, make_event: Any, make_invitation: Any
) -> None:
    event = make_event(
        format=EventFormat.HYBRID,
        join_url="https://meet.example.org/crowd",
        capacity=PLACES,
        online_capacity=PLACES,
        ask_access_needs=False,
        ask_question=False,
    )
    paths = [
        rsvp_path(make_invitation(event=event, email=f"crowd{n}@example.org"))
        for n in range(PEOPLE)
    ]
    event_id = event.id
    db.session.close()
    for path in paths:
        _open_page(live_server.url, path)
    # Half ask to join online, half to come in person: both limits are raced at once.
    answers = [{"answer": "yes", "mode": "online" if n % 2 else "in_person"} for n in range(PEOPLE)]

    statuses = _answer_at_once(live_server.url, paths, answers)

    assert sorted(statuses) == [302] * PEOPLE
    db.session.expire_all()
    rows = db.session.execute(
        select(Rsvp.answer, Rsvp.mode, func.count()).group_by(Rsvp.answer, Rsvp.mode)
    )
    counts = {(answer, mode): n for answer, mode, n in rows}
    half = PEOPLE // 2
    assert counts == {
        (RsvpAnswer.YES, AttendanceMode.IN_PERSON): PLACES,
        (RsvpAnswer.YES, AttendanceMode.ONLINE): PLACES,
        (RsvpAnswer.WAITLISTED, AttendanceMode.IN_PERSON): half - PLACES,
        (RsvpAnswer.WAITLISTED, AttendanceMode.ONLINE): half - PLACES,
    }
    event = db.session.get(Event, event_id)
    assert (event.places_taken, event.online_places_taken) == (PLACES, PLACES)
