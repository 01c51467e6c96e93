"""Erasure on request leaves no trace of the address anywhere, only a hashed suppression."""

import io
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placeevents.audit.services import record
from placeevents.extensions import db
from placeevents.invitations.models import Invitation, InvitationSource, Rsvp
from placeevents.mail.bounces import record_bounce
from placeevents.mail.models import OutboxMessage, OutboxStatus
from placeevents.mail.requests import answer_due_requests
from placeevents.newsletter.models import Subscriber, Suppression
from placeevents.newsletter.services import (
    add_do_not_invite,
    is_suppressed,
    request_signup,
    suppression_hash,
)
from placeevents.notes.models import Note, NoteShare

ADDRESS = "erase.me@example.org"


def _traces(needle: str) -> list[str]:
    """Every table.column whose string, text or binary value contains the needle."""
    found = []
    needle = needle.lower()
    db.session.expire_all()
    for table in db.metadata.sorted_tables:
        columns = [
            c
            for c in table.columns
            if isinstance(c.type, sa.String | sa.Text | sa.LargeBinary | sa.JSON)
            or isinstance(getattr(c.type, "impl", None), sa.String)
        ]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if isinstance(value, bytes):
                    value = value.decode("utf-8", "replace")
                if value is not None and needle in str(value).lower():
                    found.append(f"{table.name}.{column.name}")
    return found


def test_erasure_leaves_no_trace_in_any_table(
    logged_in: FlaskClient,
    sign_up: Callable[..., Any],
    make_event: Any,
    make_subscriber: Callable[..., Any],
    make_invitation: Any,
    smtp: Any,
) -> None:
    sign_up(email="Erase.Me@example.org", name="Erin Example", organisation="Erasable Org")
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == ADDRESS))
    bystander = make_subscriber(email="keep@example.org", name="Keeper")
    event = make_event()
    for person in (subscriber, bystander):
        make_invitation(
            event,
            answer="yes",
            question=f"From {person.name}",
            email=person.email,
            name=person.name,
            source=InvitationSource.SUBSCRIBER,
            subscriber_id=person.id,
        )
    note = Note(event=event, title="Summary", body="Notes")
    db.session.add(note)
    db.session.flush()
    db.session.add(NoteShare(note_id=note.id, revision=1, email=ADDRESS))
    db.session.add(NoteShare(note_id=note.id, revision=1, email="keep@example.org"))
    record_bounce(email=ADDRESS, reason=f"550 {ADDRESS} mailbox full")
    add_do_not_invite(ADDRESS)
    record(action="invitations.send", target=ADDRESS, detail=f"invited Erin Example <{ADDRESS}>")
    record(action="invitations.send", target="keep@example.org", detail="invited Keeper")
    # Stored with the subscriber's address as its label and their page as its link.
    about = record(action="newsletter.add", target=f"subscriber {subscriber.id}")
    db.session.commit()
    # A pending mail and a request no worker has answered yet, as well as the sent confirmation,
    # and an import preview naming them.
    subscriber.last_signup_mail_at = None
    db.session.commit()
    logged_in.delivering = False
    with logged_in.application.test_request_context(method="POST"):
        request_signup(email=ADDRESS, details=_details())
        db.session.commit()
        assert answer_due_requests(should_stop=lambda: False) == 1
        request_signup(email=ADDRESS, details=_details())
        db.session.commit()
    statuses = set(db.session.scalars(select(OutboxMessage.status)))
    assert OutboxStatus.PENDING in statuses and OutboxStatus.SENT in statuses
    logged_in.post(
        "/manage/newsletter/import",
        data={
            "file": (
                io.BytesIO(f"email,consent source,consent date\n{ADDRESS},x,2024-01-01\n".encode()),
                "list.csv",
            )
        },
        content_type="multipart/form-data",
    )
    assert set(_traces(ADDRESS)) >= {
        "subscriber.email",
        "invitation.email",
        "outbox_message.recipients",
        "outbox_message.raw",
        "mail_request.email",
        "bounce.email",
        "bounce.reason",
        "do_not_invite.email",
        "note_share.email",
        "audit_entry.target",
        "audit_entry.target_label",
        "audit_entry.detail",
        "import_batch.content",
    }

    found_before_erasure = _traces("Erin Example")
    page = logged_in.get(f"/manage/newsletter/{subscriber.id}").get_data(as_text=True)
    assert "Erase erase.me@example.org" in page
    response = logged_in.post("/manage/newsletter/erase", data={"email": "ERASE.ME@example.org"})
    assert response.status_code == 303

    assert _traces(ADDRESS) == []
    assert (about.target_label, about.target_url) == ("[erased]", "")
    assert "mail_request.payload" in found_before_erasure
    assert _traces("Erin Example") == []
    assert _traces("Erasable Org") == []
    assert is_suppressed(ADDRESS) and is_suppressed(" Erase.Me@Example.org ")
    suppression = db.session.scalar(select(Suppression))
    assert suppression.email_hash == suppression_hash(ADDRESS)
    # Everyone else is untouched.
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 1
    assert db.session.scalar(select(func.count()).select_from(Rsvp)) == 1
    assert set(_traces("keep@example.org")) >= {
        "subscriber.email",
        "invitation.email",
        "note_share.email",
        "audit_entry.target",
    }
    listing = logged_in.get("/manage/newsletter/").get_data(as_text=True)
    assert "Erased:" in listing and ADDRESS not in listing


def _details() -> Any:
    from placeevents.newsletter.services import Details, Interests

    return Details(name="Erin Example", interests=Interests(online=True))


def test_erasing_an_unknown_address_still_suppresses_it(logged_in: FlaskClient) -> None:
    response = logged_in.post("/manage/newsletter/erase", data={"email": "ghost@example.org"})
    assert response.status_code == 303
    assert is_suppressed("ghost@example.org")
    bad = logged_in.post("/manage/newsletter/erase", data={"email": "not an address"})
    assert bad.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 1


def test_an_erased_person_stays_off_the_list_until_they_ask_an_organiser(
    logged_in: FlaskClient, sign_up: Callable[..., Any], smtp: Any
) -> None:
    from placeevents.erasure import erase_person

    erase_person(email="ada@example.org")
    db.session.commit()
    # Anyone may type the address: the page answers as for any other, and nothing is kept or sent.
    response = sign_up()
    assert response.status_code == 200 and "Check your inbox" in response.get_data(as_text=True)
    assert smtp.to("ada@example.org") == []
    assert _traces("ada@example.org") == [] and _traces("Ada Lovelace") == []

    form = {
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "wants_online": "y",
        "note": "Asked at the Leeds exploration to be added back",
    }
    refused = logged_in.post("/manage/newsletter/new", data=form)
    assert refused.status_code == 422
    assert "They asked to come back" in refused.get_data(as_text=True)
    assert smtp.to("ada@example.org") == []

    added = logged_in.post("/manage/newsletter/new", data={**form, "returning": "y"})
    assert added.status_code == 303
    assert is_suppressed("ada@example.org")  # until they confirm it themselves
    link = smtp.last_to("ada@example.org").links()[0]
    logged_in.post(link.replace("http://localhost", ""))
    assert not is_suppressed("ada@example.org")
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == "ada@example.org"))
    assert subscriber.status.value == "confirmed"
