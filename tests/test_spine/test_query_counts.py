"""Every page benchmarks/queries.py counts runs as many SQL statements for an event of 12
invitations as for one of 36: no page loads its rows one by one (an N+1 fails here)."""

from flask import Flask

from benchmarks.queries import (
    KINDS,
    ORGANISER_EMAIL,
    ORGANISER_PASSWORD,
    add_invitations,
    count_pages,
    seed,
    visits,
)
from placeevents.events.models import Event
from placeevents.extensions import db
from placeevents.invitations.models import Invitation


def test_no_page_runs_more_statements_for_more_invitations(app: Flask) -> None:
    few, many = len(KINDS), 3 * len(KINDS)  # each kind of answer, then three of each
    counted = seed(invitations=few)
    pages = visits(counted)
    visitor, organiser = app.test_client(), app.test_client()
    # Delivering mail after each request would add the outbox's statements to every count.
    visitor.delivering = organiser.delivering = False  # type: ignore[attr-defined]
    signed_in = organiser.post(
        "/login", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD}
    )
    assert signed_in.status_code == 302

    counted_few = count_pages(visitor, organiser, pages)
    add_invitations(counted, start=few, stop=many)
    counted_many = count_pages(visitor, organiser, pages)

    for event_id in (counted.upcoming, counted.past):
        invited = db.select(db.func.count()).where(Invitation.event_id == event_id)
        assert db.session.scalar(invited) == many
        event = db.session.get(Event, event_id)
        assert event is not None and event.places_taken == event.capacity > 0
    # Every page reads something but the feed, whose state and body are kept by the versions,
    # which are not counted (on PostgreSQL they may be heard, not read).
    assert len(pages) > 20
    assert {name for name, s in counted_few.items() if not s} <= {
        "enquiry feed (full)",
        "enquiry feed (304)",
    }
    assert {name: len(s) for name, s in counted_many.items()} == {
        name: len(s) for name, s in counted_few.items()
    }
