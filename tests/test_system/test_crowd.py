"""A crowd on the deployed app: 200 people sign up and confirm, 100 answer at once for 10 places,
while the mail server refuses, drops and dawdles. gunicorn (3 sync workers), two `flask worker`
processes, PostgreSQL and Redis, each a process of its own."""

import re
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from placeevents import create_app
from placeevents.enquiries.models import Enquiry
from placeevents.events.models import Event, EventFormat, EventStatus
from placeevents.extensions import db
from tests.test_system.browser import Browser, Form, StatusLog
from tests.test_system.conftest import (
    ORGANISER_EMAIL,
    ORGANISER_PASSWORD,
    Processes,
    SMTPServer,
    flask,
    wait_until,
)

pytestmark = pytest.mark.system

SIGNUPS = 200
ANSWERING = 100
PLACES = 10


def _published_event(database_url: str) -> int:
    """An enquiry with one in-person event of PLACES places, a fortnight away."""
    app = create_app({"PLACEEVENTS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=14)
        enquiry = Enquiry(slug="total-place", title="Total Place 2.0", introduction="An enquiry.")
        event = Event(
            enquiry=enquiry, slug="leeds-exploration", title="The Leeds exploration",
            format=EventFormat.IN_PERSON, venue="Town Hall", address="1 High Street, Leeds",
            starts_at=starts, ends_at=starts + timedelta(hours=3), capacity=PLACES,
            status=EventStatus.PUBLISHED, published_at=datetime.now(UTC),
            ask_access_needs=False, ask_question=False,
        )
        db.session.add(event)
        db.session.commit()
        event_id = event.id
        db.session.remove()
        db.engine.dispose()
    return event_id


def _sign_up_and_confirm(url: str, log: StatusLog, smtp: SMTPServer, n: int) -> None:
    """One person: the signup form, then the link in the mail, then the button on that page."""
    browser = Browser(url, log)
    address = f"person{n}@example.org"
    form = browser.get("/newsletter/signup").form(action="/newsletter/signup")
    done = browser.submit(
        form,
        **{"signup-name": f"Person {n}", "signup-email": address, "signup-wants_in_person": "y"},
    )
    assert done.status == 200 and "Check your inbox" in done.body, done.body
    link = smtp.wait_for_link(address, f"{url}/newsletter/confirm/")
    page = browser.get(link)
    assert page.status == 200, page.body
    confirmed = browser.submit(page.form(action=page.path))
    assert confirmed.status == 200 and "confirm" in confirmed.body.lower(), confirmed.body


def _open_rsvp_page(
    url: str, log: StatusLog, smtp: SMTPServer, address: str
) -> tuple[Browser, Form]:
    """The page the invitation mail links to, opened as its reader would, ready to answer."""
    browser = Browser(url, log, timeout=120)
    page = browser.get(smtp.wait_for_link(address, f"{url}/rsvp/"))
    assert page.status == 200, page.body
    return browser, page.form(button="yes")


def _invite_every_subscriber(url: str, log: StatusLog, event_id: int) -> None:
    organiser = Browser(url, log)
    login = organiser.get("/login").form(action="/login")
    done = organiser.submit(login, email=ORGANISER_EMAIL, password=ORGANISER_PASSWORD)
    assert done.status in (302, 303), done.body
    path = f"/manage/invitations/events/{event_id}/invite"
    asked = organiser.submit(organiser.get(path).form(button="send"), "send", subscribers="all")
    assert asked.status == 200 and re.search(r"Send \d+ invitations\?", asked.body), asked.body
    sent = organiser.submit(asked.form(button="send"), "send")
    assert sent.status in (302, 303), sent.body


def _outbox(engine: sa.Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT status, message_id FROM outbox_message")).all()
    found: dict[str, list[str]] = {}
    for status, message_id in rows:
        found.setdefault(status, []).append(message_id)
    return found


def test_two_hundred_signups_and_a_hundred_answers_for_ten_places_through_a_flaky_mail_server(
    migrated: str, engine: sa.Engine, redis_url: str, processes: Processes,
    unreliable_smtp: Callable[..., SMTPServer], status_log: StatusLog,
) -> None:
    smtp = unreliable_smtp(refuse_every=12, busy_every=25, slow_every=20, drop_at=40)
    flask(migrated, "organiser", "create", ORGANISER_EMAIL, "--name", "Olive Organiser",
          "--password", ORGANISER_PASSWORD)
    event_id = _published_event(migrated)
    settings = {
        **smtp.settings(),
        "MAIL_TIMEOUT": "5",
        "MAIL_BATCH_SIZE": "10",
        "MAIL_LEASE_SECONDS": "20",
        "MAIL_RETRY_DELAY": "0.5",
        "MAIL_RETRY_MAX_DELAY": "2",
        "WORKER_POLL_SECONDS": "0.5",
        "RATELIMIT_STORAGE_URI": redis_url,
        # This crowd all comes from one address; the limits have a test of their own.
        "RATELIMIT_EXEMPT_ADDRESSES": "127.0.0.1",
    }
    url = processes.gunicorn(migrated, workers=3, **settings).url
    for _ in range(2):
        processes.worker(migrated, PLACEEVENTS_BASE_URL=url, **settings)

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(lambda n: _sign_up_and_confirm(url, status_log, smtp, n), range(SIGNUPS)))

    _invite_every_subscriber(url, status_log, event_id)
    answering = [f"person{n}@example.org" for n in range(ANSWERING)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        browsers = list(pool.map(lambda a: _open_rsvp_page(url, status_log, smtp, a), answering))

    start = threading.Barrier(ANSWERING)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def answer_yes(browser: Browser, form: Form) -> None:
        start.wait(timeout=60)
        status = browser.submit(form, "yes").status
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=answer_yes, args=pair) for pair in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert statuses == {302: ANSWERING}

    # Every message leaves the outbox: confirmation and welcome for each person, an
    # invitation each, and a confirmation or waiting-list mail for each answer.
    expected = 2 * SIGNUPS + SIGNUPS + ANSWERING
    wait_until(
        lambda: _outbox(engine).keys() == {"sent"} and len(_outbox(engine)["sent"]) == expected,
        120, f"{expected} messages sent", 0.5,
    )
    queued = _outbox(engine)["sent"]
    counts = smtp.handler.message_ids()
    assert set(counts) == set(queued)
    repeats = {message_id: n for message_id, n in counts.items() if n > 1}
    assert all(n == 2 for n in repeats.values()), repeats
    assert set(repeats) <= smtp.handler.lost_replies
    events = smtp.handler.events
    assert events["451"] and events["421"] and events["slow"] and events["lost reply"] == 1

    with engine.connect() as conn:
        answers = dict(
            conn.execute(sa.text("SELECT answer, count(*) FROM rsvp GROUP BY answer")).all()
        )
        stored = conn.execute(
            sa.text("SELECT places_taken FROM event WHERE id = :id"), {"id": event_id}
        ).scalar_one()
        held = conn.execute(
            sa.text(
                "SELECT count(*) FROM rsvp JOIN invitation ON invitation.id = rsvp.invitation_id"
                " WHERE invitation.event_id = :id AND rsvp.answer IN ('yes', 'offered')"
                " AND rsvp.mode = 'in_person'"
            ),
            {"id": event_id},
        ).scalar_one()
        confirmed = conn.execute(
            sa.text("SELECT count(*) FROM subscriber WHERE status = 'confirmed'")
        ).scalar_one()
    assert answers == {"yes": PLACES, "waitlisted": ANSWERING - PLACES}
    assert stored == held == PLACES
    assert confirmed == SIGNUPS
    assert status_log.server_errors() == []
    assert processes.tracebacks() == []
