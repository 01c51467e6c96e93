"""Benchmark: SQL statements per page at 10 and at 2,000 invitations, which must be equal.

Seeds a temporary SQLite database (or the PostgreSQL database given with --database, which it
empties first) with the demo enquiry and two more events, each with notes: one to come (hybrid,
full) and one that has happened (checked in and closed), whose invitations carry answers of
every kind (yes in person and online, waiting list, offered, maybe, no with and without the
notes, no answer, set by an organiser, overbooked, checked in); counts the statements each page
runs (a `before_cursor_execute` listener) at 10 invitations to each event, adds 1,990 more to
each, and counts again. Public pages are fetched as an anonymous visitor, organiser
pages signed in as an organiser, each through the test client, once to warm up, then counted.
Prints one row per page with both counts and "equal" or "DIFFERENT". The read of the pages'
versions is not counted: it is one statement on SQLite, and on PostgreSQL one or none, as the
process has heard the versions or not yet (placeevents/version_watch.py).

    .venv/bin/python benchmarks/queries.py [--database URL] [--few 10] [--many 2000]

Target: every row equal (no N+1 anywhere the benchmark reaches).
"""

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import has_app_context

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from placeevents.auth.models import Organiser  # noqa: E402
from placeevents.caching import forget_kept_pages  # noqa: E402
from placeevents.enquiries.models import Enquiry  # noqa: E402
from placeevents.events.models import Event, EventAccess, EventFormat, EventStatus  # noqa: E402
from placeevents.exports.rows import COLUMNS, WHO  # noqa: E402
from placeevents.extensions import db  # noqa: E402
from placeevents.invitations.links import rsvp_token  # noqa: E402
from placeevents.invitations.models import Invitation, Rsvp  # noqa: E402
from placeevents.notes.models import Note, NoteKind, NoteRevision, NoteVisibility  # noqa: E402
from placeevents.notes.services import attendee_token  # noqa: E402

ORGANISER_EMAIL = "counting@example.org"
ORGANISER_PASSWORD = "a long benchmark password"
EVENT_SLUG = "counted-event"
PAST_EVENT_SLUG = "counted-past-event"

# What the n-th invitation's answer is, in turn: (answer, mode, extras); None: no answer yet.
KINDS: list[tuple[str, str | None, dict[str, Any]] | None] = [
    ("yes", "in_person", {"access_needs": "Step-free access, please"}),
    ("yes", "online", {"question": "How do we stop chasing the next pot of money?"}),
    ("waitlisted", "in_person", {}),
    ("offered", "in_person", {}),
    ("maybe", None, {"dietary_needs": "Vegetarian"}),
    ("no", None, {"wants_notes": True}),
    ("no", None, {}),
    None,
    ("yes", "in_person", {"attended": True}),
    ("yes", "in_person", {"overbooked": True, "organiser": True}),
    ("yes", "online", {"attended": True}),
    None,
]
# The RSVP pages counted: the first invitation of each of these kinds.
RSVP_PAGES = {"yes": 0, "waiting list": 2, "offered": 3, "no answer": 7}
CAME = 8  # at the event that has happened

EXPORT_FORM = {"who": list(WHO), "columns": list(COLUMNS)}


@dataclass(frozen=True)
class Counted:
    """The ids of the two counted events: one to come, one that has happened."""

    upcoming: int
    past: int


def seed(*, invitations: int) -> Counted:
    """The demo enquiry, an organiser, and the two counted events with `invitations` each."""
    from placeevents.auth.services import create_organiser
    from placeevents.demo import load_demo

    enquiry = load_demo()
    create_organiser(email=ORGANISER_EMAIL, name="Counting Organiser", password=ORGANISER_PASSWORD)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    upcoming = Event(
        enquiry=enquiry,
        slug=EVENT_SLUG,
        title="Counting who comes",
        description="An evening that draws a crowd.",
        format=EventFormat.HYBRID,
        venue="The Guildhall",
        address="Gresham Street, London",
        join_url="https://meet.example.org/counted",
        starts_at=now + timedelta(days=20),
        ends_at=now + timedelta(days=20, hours=2),
        status=EventStatus.PUBLISHED,
        access=EventAccess.OPEN,
        ask_dietary_needs=True,
        published_at=now - timedelta(days=10),
    )
    # Checked in and closed: who came is known, and the notes have gone to them.
    past = Event(
        enquiry=enquiry,
        slug=PAST_EVENT_SLUG,
        title="Counting who came",
        format=EventFormat.IN_PERSON,
        venue="The Guildhall",
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=3) + timedelta(hours=2),
        status=EventStatus.PUBLISHED,
        access=EventAccess.OPEN,
        published_at=now - timedelta(days=40),
        check_in_closed_at=now - timedelta(days=2),
    )
    db.session.add_all([upcoming, past])
    for event in (upcoming, past):
        for n, (visibility, questions) in enumerate(
            [(NoteVisibility.ATTENDEES, enquiry.questions[:2]), (NoteVisibility.PUBLIC, [])]
        ):
            note = Note(
                event=event,
                title=f"Note {n + 1}",
                body="What we heard.",
                kind=NoteKind.SUMMARY,
                visibility=visibility,
                questions=list(questions),
            )
            note.revisions = [
                NoteRevision(
                    number=1,
                    title=note.title,
                    body=note.body,
                    kind=note.kind,
                    visibility=visibility,
                )
            ]
            db.session.add(note)
    db.session.commit()
    counted = Counted(upcoming=upcoming.id, past=past.id)
    add_invitations(counted, start=0, stop=invitations)
    return counted


def add_invitations(counted: Counted, *, start: int, stop: int) -> None:
    """Invite people `start` to `stop` - 1 to both events."""
    for event_id in (counted.upcoming, counted.past):
        _add_invitations(event_id=event_id, start=start, stop=stop)


def _add_invitations(*, event_id: int, start: int, stop: int) -> None:
    """Answered by turns of KINDS; places_taken kept right and the event full (set-up writes,
    as a test's factories do)."""
    now = datetime.now(UTC)
    organiser_id = db.session.scalar(
        sa.select(Organiser.id).where(Organiser.email == ORGANISER_EMAIL)
    )
    db.session.execute(
        sa.insert(Invitation),
        [
            {
                "event_id": event_id,
                "email": f"person{n}@example.org",
                "name": f"Person {n:05d}",
                "organisation": f"Organisation {n % 40}",
                "role": "Director of Place",
                "source": "organiser",
                "invited_by_id": organiser_id,
                "token_nonce": f"{n:032x}",
                "created_at": now,
                "sent_at": now,
            }
            for n in range(start, stop)
        ],
    )
    ids = db.session.scalars(
        sa.select(Invitation.id)
        .where(Invitation.event_id == event_id)
        .order_by(Invitation.id)
        .offset(start)
    ).all()
    rows = []
    for n, invitation_id in enumerate(ids, start=start):
        kind = KINDS[n % len(KINDS)]
        if kind is None:
            continue
        answer, mode, extras = kind
        waiting = answer in ("waitlisted", "offered")
        rows.append(
            {
                "invitation_id": invitation_id,
                "answer": answer,
                "mode": mode,
                "wants_notes": extras.get("wants_notes", False),
                "access_needs": extras.get("access_needs", ""),
                "dietary_needs": extras.get("dietary_needs", ""),
                "question": extras.get("question", ""),
                "waitlisted_at": now - timedelta(days=5, minutes=-n) if waiting else None,
                "offer_expires_at": now + timedelta(hours=12) if answer == "offered" else None,
                "answered_at": now - timedelta(days=6, minutes=-n),
                "set_by_organiser_id": organiser_id if extras.get("organiser") else None,
                "overbooked": extras.get("overbooked", False),
                "attended": extras.get("attended", False),
                "checked_in_at": now if extras.get("attended") else None,
                "updated_at": now,
            }
        )
    db.session.execute(sa.insert(Rsvp), rows)
    holding = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Rsvp)
        .join(Invitation)
        .where(
            Invitation.event_id == event_id,
            Rsvp.answer.in_(["yes", "offered"]),
            Rsvp.mode == "in_person",
        )
    )
    db.session.execute(
        sa.update(Event).where(Event.id == event_id).values(places_taken=holding, capacity=holding)
    )
    db.session.commit()


@dataclass(frozen=True)
class Visit:
    """One page fetched: by whom, how."""

    name: str
    organiser: bool
    method: str
    path: str
    data: dict[str, Any] | None = None
    headers: dict[str, str] | None = None


def _first_invitations(event_id: int) -> list[Invitation]:
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(Invitation.event_id == event_id)
            .order_by(Invitation.id)
            .limit(len(KINDS))
        )
    )


def visits(counted: Counted) -> list[Visit]:
    """The pages counted, for the counted events and their enquiry."""
    event_id = counted.upcoming
    event = db.session.get(Event, event_id)
    past = db.session.get(Event, counted.past)
    assert event is not None and past is not None
    enquiry: Enquiry = event.enquiry
    invitations = _first_invitations(event_id)
    came = _first_invitations(counted.past)[CAME]
    past_exports = f"/manage/exports/events/{past.id}"
    feed = f"/enquiries/{enquiry.slug}/calendar.ics"
    manage = f"/manage/invitations/events/{event_id}"
    exports = f"/manage/exports/events/{event_id}"
    matrix = f"/manage/exports/enquiries/{enquiry.id}/matrix"
    yes = invitations[RSVP_PAGES["yes"]]
    return [
        # The pages of issue 18.
        *(
            Visit(f"token RSVP page ({kind})", False, "GET", f"/rsvp/{rsvp_token(invitations[n])}")
            for kind, n in RSVP_PAGES.items()
        ),
        Visit("public event page", False, "GET", f"/events/{event.slug}"),
        Visit("home page", False, "GET", "/"),
        Visit("learning page", False, "GET", f"/enquiries/{enquiry.slug}/learning"),
        Visit("enquiry feed (full)", False, "GET", feed),
        Visit("enquiry feed (304)", False, "GET", feed, headers={"If-None-Match": "?"}),
        Visit("responses dashboard", True, "GET", f"{manage}/responses"),
        Visit("attendee export CSV", True, "POST", f"{exports}/attendees.csv", EXPORT_FORM),
        Visit("attendee export XLSX", True, "POST", f"{exports}/attendees.xlsx", EXPORT_FORM),
        # Further pages whose rows grow with the invitations.
        Visit("enquiry page", False, "GET", f"/enquiries/{enquiry.slug}"),
        Visit("event calendar file", False, "GET", f"/events/{event.slug}/calendar.ics"),
        Visit("personal calendar file", False, "GET", f"/rsvp/{rsvp_token(yes)}/calendar.ics"),
        Visit("attendee notes page", False, "GET", f"/notes/{attendee_token(yes)}"),
        Visit("organiser home", True, "GET", "/manage/"),
        Visit("organiser's enquiry page", True, "GET", f"/manage/enquiries/{enquiry.id}"),
        Visit("organiser's event page", True, "GET", f"/manage/events/{event_id}"),
        Visit("invite page", True, "GET", f"{manage}/invite"),
        Visit("message page", True, "GET", f"{manage}/message"),
        Visit("set an answer page", True, "GET", f"/manage/invitations/{yes.id}/answer"),
        Visit("event's notes", True, "GET", f"/manage/notes/events/{event_id}"),
        Visit("share notes page", True, "GET", f"/manage/notes/events/{event_id}/share"),
        Visit("exports index", True, "GET", "/manage/exports/"),
        Visit("event export page", True, "GET", f"{exports}/"),
        Visit("check-in page", True, "GET", f"{exports}/check-in"),
        Visit("sign-in sheet", True, "POST", f"{exports}/sign-in-sheet", EXPORT_FORM),
        Visit("attendance matrix", True, "GET", matrix),
        Visit("attendance matrix CSV", True, "POST", f"{matrix}.csv", {}),
        Visit("attendance matrix XLSX", True, "POST", f"{matrix}.xlsx", {}),
        Visit(
            "organiser's enquiry feed", True, "GET", f"/manage/calendar/enquiries/{enquiry.id}.ics"
        ),
        # The event that has happened: who came, and the notes they are sent.
        Visit("past: token RSVP page (came)", False, "GET", f"/rsvp/{rsvp_token(came)}"),
        Visit("past: attendee notes page", False, "GET", f"/notes/{attendee_token(came)}"),
        Visit("past: public event page", False, "GET", f"/events/{past.slug}"),
        Visit(
            "past: responses dashboard",
            True,
            "GET",
            f"/manage/invitations/events/{past.id}/responses",
        ),
        Visit("past: check-in page", True, "GET", f"{past_exports}/check-in"),
        Visit(
            "past: attendee export CSV", True, "POST", f"{past_exports}/attendees.csv", EXPORT_FORM
        ),
    ]


@contextmanager
def counting() -> Iterator[list[str]]:
    """The SQL statements run inside the block, on any engine (the app's, and on PostgreSQL
    the one the feed's polls are read on)."""
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
            return
        if "FROM public_version" not in statement:  # the versions: one read, or none when heard
            statements.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", before)


def fetch(client: Any, visit: Visit, headers: dict[str, str]) -> Any:
    """One request, the body read to its end (exports stream); fails on an unexpected status."""
    response = client.open(visit.path, method=visit.method, data=visit.data, headers=headers)
    response.get_data()
    expected = 304 if "If-None-Match" in headers else 200
    assert response.status_code == expected, f"{visit.name}: {response.status_code}"
    return response


def count_pages(visitor: Any, organiser: Any, pages: list[Visit]) -> dict[str, list[str]]:
    """Each page's statements, fetched once first (warming up), then counted as it is built:
    what the process kept of the first fetch is given up (caching.forget_kept_pages)."""
    found = {}
    for visit in pages:
        client = organiser if visit.organiser else visitor
        headers = dict(visit.headers or {})
        if headers.get("If-None-Match") == "?":  # the ETag the full answer carries
            headers["If-None-Match"] = client.get(visit.path).headers["ETag"]
        fetch(client, visit, headers)
        if has_app_context():
            # Requests inside a pushed context (as in tests) share its session: start each
            # from an empty one, as under a server, so nothing is served from its identity map.
            db.session.remove()
        forget_kept_pages(visitor.application)
        with counting() as statements:
            fetch(client, visit, headers)
        found[visit.name] = statements
    return found


def main() -> None:
    from placeevents import create_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a PostgreSQL URL to use (its tables are replaced)")
    parser.add_argument("--few", type=int, default=10)
    parser.add_argument("--many", type=int, default=2000)
    parser.add_argument("--show", help="print the statements of the page with this name")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        database = args.database or f"sqlite:///{tmp}/benchmark.db"
        app = create_app(
            {
                "PLACEEVENTS_ENV": "testing",
                "SQLALCHEMY_DATABASE_URI": database,
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
                "MAIL_SERVER": "",
            }
        )
        with app.app_context():
            if args.database:
                db.drop_all()
            db.create_all()
            counted = seed(invitations=args.few)
            pages = visits(counted)
        # Each request then gets its own app context and session, as under a server.
        visitor, organiser = app.test_client(), app.test_client()
        signed_in = organiser.post(
            "/login", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD}
        )
        assert signed_in.status_code == 302, "sign-in failed"
        few = count_pages(visitor, organiser, pages)
        with app.app_context():
            add_invitations(counted, start=args.few, stop=args.many)
        many = count_pages(visitor, organiser, pages)

    print(f"database: {database.split(':', 1)[0]}; SQL statements per page, as it is built")
    print(f"{'page':<34}{args.few:>8,}{args.many:>8,}  invitations")
    for name, statements in few.items():
        same = len(statements) == len(many[name])
        print(
            f"{name:<34}{len(statements):>8}{len(many[name]):>8}  "
            f"{'equal' if same else 'DIFFERENT'}"
        )
    if args.show:
        for statement in many[args.show]:
            print("  ", " ".join(statement.split())[:200])
    if any(len(few[name]) != len(many[name]) for name in few):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
