"""What the RSVP page says: the hybrid question, a cancelled event, the waiting list."""

import re
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.clock import utcnow
from placeevents.events.models import EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations import responses
from placeevents.invitations.models import Rsvp, RsvpAnswer
from placeevents.invitations.views import _rsvp_page
from placeevents.settings.services import current_settings, update_settings
from tests.conftest import beyond_the_versions, count_queries, terminate_idle_connections
from tests.test_invitations.conftest import answer, rsvp_path
from tests.test_invitations.test_rsvp import text


def _mode_fieldset(html: str) -> str:
    found = re.search(
        r'<div class="field[^"]*">\s*<fieldset[^>]*>\s*<legend>How will you take part\?'
        r".*?</fieldset>.*?</div>",
        html,
        re.S,
    )
    assert found, "no mode question on the page"
    return found.group(0)


def test_a_yes_to_a_hybrid_event_without_a_mode_is_flagged_beside_the_question(
    client: FlaskClient, make_invitation: Any, make_event: Any, smtp: Any
) -> None:
    invitation = make_invitation(event=make_event(format=EventFormat.HYBRID))
    question = _mode_fieldset(text(client.get(rsvp_path(invitation))))
    assert "(optional)" not in question

    response = answer(client, invitation, "yes", access_needs="A ramp")
    assert response.status_code == 422
    question = _mode_fieldset(text(response))
    assert "field--error" in question and "(optional)" not in question
    assert 'aria-describedby="mode-help mode-error"' in question
    assert re.search(
        r'<p class="error" id="mode-error">Choose whether you will come in person or join online.',
        question,
    )
    assert "A ramp" in text(response)  # what they typed is kept
    assert db.session.scalar(select(Rsvp)) is None
    assert smtp.messages == []

    # Other answers need no mode.
    assert answer(client, invitation, "maybe").status_code == 302


def test_the_page_of_a_cancelled_event_asks_nothing_and_books_nobody(
    client: FlaskClient, make_invitation: Any, make_event: Any
) -> None:
    event = make_event(format=EventFormat.HYBRID, capacity=10)
    invitation = make_invitation(event=event)
    answer(client, invitation, "yes", mode="in_person")
    event.status = EventStatus.CANCELLED
    event.cancellation_message = "The venue has flooded."
    db.session.commit()

    html = text(client.get(rsvp_path(invitation)))
    assert "This event has been cancelled. The venue has flooded." in html
    assert "This event is cancelled, so nothing is needed from you." in html
    assert "You're coming" not in html
    for label in ("Yes, I'll come", "Maybe", "No, I can't come", "Add to my calendar"):
        assert label not in html


def test_the_waiting_list_is_shown_as_a_neutral_notice_not_a_success(
    client: FlaskClient, make_invitation: Any, make_event: Any
) -> None:
    event = make_event(capacity=1)
    first = make_invitation(event=event)
    second = make_invitation(event=event)
    answer(client, first, "yes")
    client.get(rsvp_path(first))  # takes that answer's flash
    response = client.post(rsvp_path(second), data={"answer": "yes"}, follow_redirects=True)
    html = text(response)
    assert (
        db.session.scalar(select(Rsvp.answer).where(Rsvp.invitation_id == second.id))
        == RsvpAnswer.WAITLISTED
    )
    assert re.search(r'class="flash flash--neutral">All in-person places are taken', html)
    assert re.search(
        r'class="rsvp__status notice notice--neutral">\s*<p><strong>You\'re on the waiting list',
        html,
    )
    assert "flash--info" not in html


def _page_queries(client: FlaskClient, path: str) -> tuple[str, list[str]]:
    db.session.expunge_all()
    with count_queries() as statements:
        page = client.application.test_client().get(path)
    assert page.status_code == 200
    assert "Set-Cookie" not in page.headers
    return text(page), beyond_the_versions(statements)


def test_the_rsvp_page_is_a_fixed_few_queries_and_sets_no_cookie(
    client: FlaskClient, make_invitation: Any, make_event: Any, make_subscriber: Any, smtp: Any
) -> None:
    invitation = make_invitation(email="amara@example.org")
    make_subscriber(email="amara@example.org")
    enquiry = invitation.event.enquiry
    make_invitation(event=make_event(enquiry=enquiry), email="amara@example.org")
    assert answer(client, invitation, "yes").status_code == 302
    path, title = rsvp_path(invitation), invitation.event.title

    page, page_queries = _page_queries(client, path)
    assert title in page
    assert "Other explorations you're invited to" in page
    assert "Invite me to every exploration in this enquiry" in page
    # Beyond the versions the page is kept under (see test_kept_rsvp_pages): the invitation
    # with its event, enquiry and answer, whether notes were shared with this person, whether
    # they are a confirmed subscriber who asked for every exploration and the settings, in one
    # query; the person's other open invitations.
    assert len(page_queries) == 2, page_queries
    assert all(
        table in page_queries[0]
        for table in (
            "rsvp",
            "event",
            "note_share",
            "standing_invitation",
            "subscriber",
            "site_settings",
        )
    )

    # Whatever the number of other invitations.
    for _ in range(3):
        make_invitation(event=make_event(enquiry=enquiry), email="amara@example.org")
    page, more_queries = _page_queries(client, path)
    assert page.count(">Leave as it is</label>") == 4
    assert len(more_queries) == len(page_queries)


@pytest.mark.postgres_only
def test_the_rsvp_page_reads_again_when_the_server_dropped_its_connection(
    client: FlaskClient, make_invitation: Any, make_event: Any
) -> None:
    """The page's reads run on a connection that is not pinged first: one the server has
    dropped fails, and the page is read again on the session's, as if nothing had happened."""
    invitation = make_invitation(email="amara@example.org")
    make_invitation(event=make_event(enquiry=invitation.event.enquiry), email="amara@example.org")
    path = rsvp_path(invitation)
    db.session.commit()
    before = text(client.get(path))
    assert "Other explorations you're invited to" in before
    assert terminate_idle_connections()
    after = client.get(path)
    assert after.status_code == 200
    assert text(after) == before
    assert text(client.get(path)) == before


def test_the_rsvp_page_shows_the_settings_saved_last_whichever_process_saved_them(
    make_app: Callable[..., Flask], make_invitation: Any
) -> None:
    # The page reads the settings with the invitation, afresh on each request.
    invitation = make_invitation()
    path, title = rsvp_path(invitation), invitation.event.title
    db.session.commit()  # ends the read that took the write lock (outside a request)
    other = make_app().test_client()  # another worker process, over the same database
    before = text(other.get(path))
    assert f"<title>Your invitation: {title} · placeevents</title>" in before
    assert "Northern Councils Network" not in before

    for name in ("Northern Councils Network", "Southern Councils Network"):
        settings = current_settings()
        update_settings(**{
            **{field: getattr(settings, field) for field in settings.__dataclass_fields__},
            "organisation_name": name,
        })  # fmt: skip
        db.session.commit()
        page = text(other.get(path))
        assert f'<a class="site-header__brand" href="/">{name}</a>' in page
        assert f"<p>{name} · " in page
    assert "Northern Councils Network" not in page


def test_each_invitees_page_shows_their_own_answers_to_the_questions(
    client: FlaskClient, make_invitation: Any, make_event: Any, smtp: Any
) -> None:
    # The fields of a page with nothing typed are rendered once per process: another person's
    # answers never show on them, nor theirs on another's, in whichever order the pages open.
    event = make_event(format=EventFormat.HYBRID, ask_access_needs=True, ask_question=True)
    blank = make_invitation(event=event, answer="yes", mode="online")
    typed = make_invitation(
        event=event, answer="yes", mode="online", access_needs="A ramp", question="How?"
    )
    later = make_invitation(event=event, answer="yes", mode="online")
    pages = {}
    for invitation in (blank, typed, later):
        page = text(client.get(rsvp_path(invitation)))
        question = _mode_fieldset(page)
        assert re.search(r'checked[^>]*value="online"', question)
        assert "(optional)" not in question
        pages[invitation.id] = page
    assert "A ramp</textarea>" in pages[typed.id] and "How?</textarea>" in pages[typed.id]
    for invitation in (blank, later):
        assert "A ramp" not in pages[invitation.id] and "How?" not in pages[invitation.id]
        assert 'name="access_needs"' in pages[invitation.id]

    # A changed event shows its change at once.
    event.ask_question = False
    db.session.commit()
    page = text(client.get(rsvp_path(later)))
    assert 'name="access_needs"' in page and 'name="question"' not in page


def test_the_page_read_as_plain_values_is_the_page_of_the_orm_objects(
    app: Flask,
    client: FlaskClient,
    make_enquiry: Any,
    make_invitation: Any,
    make_event: Any,
    make_subscriber: Any,
) -> None:
    # A GET reads the invitation, its event and answer as plain values; the pages of a refused
    # answer render the ORM objects. Every state shows the same page either way.
    enquiry = make_enquiry()
    event = make_event(enquiry=enquiry, capacity=1, hosts="Ada", ask_dietary_needs=True)
    hybrid = make_event(
        enquiry=enquiry,
        format=EventFormat.HYBRID,
        capacity=1,
        online_capacity=5,
        join_url="https://meet.example.org/x",
    )
    make_invitation(hybrid, answer="yes", mode="in_person")
    waiting = make_invitation(hybrid, answer="yes", mode="online", access_needs="A <ramp>")
    assert answer(client, waiting, "yes_in_person").status_code == 302
    client.get(rsvp_path(waiting))  # takes that answer's flash
    make_subscriber(email="sub@example.org")
    invitations = [
        make_invitation(event, answer="yes", question="Why?", email="sub@example.org"),
        make_invitation(event, answer="waitlisted"),
        make_invitation(event, answer="no", wants_notes=True, name=""),
        make_invitation(hybrid),
        waiting,
        make_invitation(make_event(enquiry=enquiry), email="sub@example.org"),
    ]
    cancelled = make_event(enquiry=enquiry, status=EventStatus.CANCELLED)
    invitations.append(make_invitation(cancelled, email="Kofi@Example.org"))
    with time_machine.travel(utcnow(), tick=False):
        for path in [rsvp_path(invitation) for invitation in invitations]:
            db.session.expunge_all()  # each page reads its rows afresh, as in a new request
            shown = client.get(path)
            assert shown.status_code == 200
            with app.test_request_context(path):
                token = path.removeprefix("/rsvp/")
                expected = _rsvp_page(responses.invitation_for_token(token=token), token)
            assert shown.get_data(as_text=True) == expected


def test_the_pages_reads_straight_on_the_driver_give_what_sqlalchemy_gives(
    app: Flask, make_invitation: Any, make_event: Any, make_subscriber: Any
) -> None:
    """The RSVP page reads its rows past SQLAlchemy's execution (db.plain_rows), converting
    each value by its column's type itself: every value, of every type the page reads (times,
    enums, flags, NULLs), is what SQLAlchemy's own execution gives."""
    from placeevents.caching import one_read
    from placeevents.db import plain_rows
    from placeevents.invitations.several import _other_rows_of
    from placeevents.invitations.views import _rsvp_lookup

    full = make_event(format=EventFormat.HYBRID, capacity=1, online_capacity=5)
    make_invitation(full, answer="yes", mode="in_person")
    waiting = make_invitation(
        full, answer=RsvpAnswer.WAITLISTED, mode="in_person", email="amara@example.org"
    )
    make_invitation(make_event(enquiry=full.enquiry), email="amara@example.org", answer="maybe")
    make_invitation(make_event(enquiry=full.enquiry), email="amara@example.org")
    make_subscriber(email="amara@example.org")
    unanswered = make_invitation(make_event())
    db.session.commit()
    with app.test_request_context(), one_read(app) as connection:
        for statement, params in [
            (_rsvp_lookup(), {"id": waiting.id}),
            (_rsvp_lookup(), {"id": unanswered.id}),
            (
                _other_rows_of(),
                {
                    "email": "amara@example.org",
                    "id": waiting.id,
                    "enquiry_id": full.enquiry_id,
                    "now": utcnow(),
                },
            ),
        ]:
            plain = plain_rows(statement, params, connection)
            expected = connection.execute(statement, params).all()
            assert plain and [tuple(row) for row in plain] == [tuple(row) for row in expected]
            for ours, theirs in zip(plain, expected, strict=True):
                assert [type(v) for v in ours] == [type(v) for v in theirs]
