"""The notes an invitee reads through their own link: only theirs, never cached, read-only."""

from typing import Any

from flask import Flask, render_template
from sqlalchemy import func, select

from placeevents.extensions import db
from placeevents.invitations.models import RsvpAnswer
from placeevents.mail.models import OutboxMessage
from placeevents.notes import services
from placeevents.notes.models import NoteShare, NoteVisibility
from placeevents.tokens import make_token, new_nonce


def test_the_link_in_the_mail_opens_the_note(
    logged_in: Any, past_event: Any, make_note: Any, make_invitation: Any, smtp: Any
) -> None:
    note = make_note(past_event, title="Shared summary", visibility=NoteVisibility.ATTENDEES)
    person = make_invitation(past_event, attended=True)
    logged_in.post(f"/manage/notes/events/{past_event.id}/share")
    logged_in.post("/logout")
    mail = smtp.last_to(person.email)
    note_link, all_link = mail.links()[0], mail.links()[-1]
    assert note_link.startswith("http://localhost/notes/") and note_link.endswith(f"/{note.id}")

    counts = _counts()
    page = logged_in.get(note_link.removeprefix("http://localhost"))
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Shared summary" in page.get_data(as_text=True)
    assert "Please do not pass them on" in page.get_data(as_text=True)
    index = logged_in.get(all_link.removeprefix("http://localhost"))
    assert index.status_code == 200 and index.headers["Cache-Control"] == "no-store"
    assert "Shared summary" in index.get_data(as_text=True)
    assert logged_in.head(note_link.removeprefix("http://localhost")).status_code == 200
    assert _counts() == counts


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(OutboxMessage)),
        db.session.scalar(select(func.count()).select_from(NoteShare)),
    )


def test_bad_links_get_one_friendly_page(
    client: Any, past_event: Any, make_event: Any, make_note: Any, make_invitation: Any
) -> None:
    note = make_note(past_event, visibility=NoteVisibility.ATTENDEES)
    person = make_invitation(past_event, attended=True)
    token = services.attendee_token(person)
    other_event = make_event()
    other_note = make_note(other_event, visibility=NoteVisibility.PUBLIC)
    private = make_note(past_event, visibility=NoteVisibility.PRIVATE)
    for url in (
        f"/notes/{token}x/{note.id}",
        f"/notes/{token[:-3]}/{note.id}",
        f"/notes/{make_token('rsvp', person.id, person.token_nonce)}/{note.id}",
        f"/notes/{token}/{other_note.id}",
        f"/notes/{token}/{private.id}",
        "/notes/not-a-token",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "does not lead to any notes" in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store"

    person.token_nonce = new_nonce()
    db.session.commit()
    assert client.get(f"/notes/{token}/{note.id}").status_code == 404
    assert client.get(f"/notes/{services.attendee_token(person)}/{note.id}").status_code == 200


def test_only_eligible_people_read_shared_notes(
    client: Any, past_event: Any, make_event: Any, make_note: Any, make_invitation: Any
) -> None:
    note = make_note(past_event, title="Shared", visibility=NoteVisibility.ATTENDEES)
    declined = make_invitation(past_event, answer=RsvpAnswer.NO)
    maybe = make_invitation(past_event, answer=RsvpAnswer.MAYBE)
    unanswered = make_invitation(past_event)
    for person in (declined, maybe, unanswered):
        assert services.attendee_notes(person) == []
        token = services.attendee_token(person)
        assert client.get(f"/notes/{token}/{note.id}").status_code == 404
        assert "Shared" not in client.get(f"/notes/{token}").get_data(as_text=True)
    asked = make_invitation(past_event, answer=RsvpAnswer.NO, wants_notes=True)
    assert services.attendee_notes(asked) == [note]

    upcoming = make_event()
    early = make_note(upcoming, visibility=NoteVisibility.ATTENDEES)
    confirmed = make_invitation(upcoming, answer=RsvpAnswer.YES)
    assert services.attendee_notes(confirmed) == []
    attended = make_invitation(upcoming, attended=True)
    assert services.attendee_notes(attended) == [early]


def test_the_rsvp_page_partial_lists_links_to_each_note(
    app: Flask, past_event: Any, make_note: Any, make_invitation: Any
) -> None:
    first = make_note(past_event, title="First", visibility=NoteVisibility.ATTENDEES)
    second = make_note(past_event, title="Second", visibility=NoteVisibility.PUBLIC)
    person = make_invitation(past_event, attended=True)
    with app.test_request_context():
        html = render_template(
            "notes/_for_attendee.html", invitation=person, notes=services.attendee_notes(person)
        )
        empty = render_template("notes/_for_attendee.html", invitation=person, notes=[])
    token = services.attendee_token(person)
    assert f'href="http://localhost/notes/{token}/{first.id}"' in html
    assert f'href="http://localhost/notes/{token}/{second.id}"' in html
    assert empty.strip() == ""


def test_the_rsvp_page_lists_notes_shared_with_someone_who_did_not_ask_for_them(
    client: Any, past_event: Any, make_note: Any, make_invitation: Any
) -> None:
    # The page reads whether a note was shared with the address along with the invitation; an
    # address stored with capitals is compared normalised, as the notes service compares it.
    from tests.test_invitations.conftest import rsvp_path

    make_note(past_event, title="Shared with them", visibility=NoteVisibility.ATTENDEES)
    note = make_note(past_event, title="Also shared", visibility=NoteVisibility.ATTENDEES)
    plain = make_invitation(past_event, answer=RsvpAnswer.MAYBE, email="maya@example.org")
    capitals = make_invitation(past_event, answer=RsvpAnswer.MAYBE, email="Kofi@Example.org")
    other = make_invitation(past_event, answer=RsvpAnswer.MAYBE)
    for email in ("maya@example.org", "kofi@example.org"):
        db.session.add(NoteShare(note_id=note.id, revision=1, email=email))
    db.session.commit()
    for person, shown in ((plain, True), (capitals, True), (other, False)):
        page = client.get(rsvp_path(person)).get_data(as_text=True)
        assert ("Shared with them" in page, "Also shared" in page) == (shown, shown)
