"""Who reads what: each visibility against each output, and Chatham House attribution."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, render_template

from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.notes import services
from placeevents.notes.models import NoteVisibility

OUTPUTS = ["public event page", "learning page", "attendee page", "attendee partial", "share mail"]
READERS = {
    NoteVisibility.PRIVATE: set(),
    NoteVisibility.ATTENDEES: {"attendee page", "attendee partial", "share mail"},
    NoteVisibility.PUBLIC: set(OUTPUTS),
}


@pytest.fixture
def read_output(
    app: Flask, logged_in: Any, smtp: Any, past_event: Any
) -> Callable[[str, Any], str]:
    """Everything a reader of one output sees, for the event and one invitee."""

    def read(output: str, invitation: Any) -> str:
        event = invitation.event
        if output == "public event page":
            with app.test_request_context():
                return render_template(
                    "notes/_public_notes.html",
                    event=event,
                    public_notes=services.public_notes_for(event),
                )
        if output == "learning page":
            return logged_in.get(f"/enquiries/{event.enquiry.slug}/learning").get_data(as_text=True)
        if output == "attendee page":
            token = services.attendee_token(invitation)
            pages = [logged_in.get(f"/notes/{token}").get_data(as_text=True)]
            for note in services.notes_for_event(event):
                pages.append(logged_in.get(f"/notes/{token}/{note.id}").get_data(as_text=True))
            return "\n".join(pages)
        if output == "attendee partial":
            with app.test_request_context():
                return render_template(
                    "notes/_for_attendee.html",
                    invitation=invitation,
                    notes=services.attendee_notes(invitation),
                )
        assert output == "share mail"
        response = logged_in.post(f"/manage/notes/events/{event.id}/share")
        assert response.status_code == 302
        mail = smtp.last_to(invitation.email)
        return mail.subject + mail.text() + mail.html()

    return read


@pytest.mark.parametrize("visibility", list(NoteVisibility))
@pytest.mark.parametrize("output", OUTPUTS)
def test_each_visibility_reaches_only_its_readers(
    past_event: Any,
    make_note: Any,
    make_invitation: Any,
    read_output: Callable[[str, Any], str],
    visibility: NoteVisibility,
    output: str,
) -> None:
    make_note(past_event, title="Companion note", visibility=NoteVisibility.PUBLIC)
    make_note(
        past_event,
        title=f"Marker title {visibility.value}",
        body=f"Marker body {visibility.value}",
        visibility=visibility,
    )
    invitation = make_invitation(past_event, attended=True)
    seen = read_output(output, invitation)
    assert "Companion note" in seen
    expected = output in READERS[visibility]
    assert (f"Marker title {visibility.value}" in seen) is expected
    assert (f"Marker body {visibility.value}" in seen) is (
        expected and output != "attendee partial"
    )


@pytest.mark.parametrize("output", ["public event page", "learning page"])
def test_public_notes_wait_for_the_event_to_end(
    make_event: Any, make_note: Any, make_invitation: Any, read_output: Any, output: str
) -> None:
    starts = utcnow().replace(microsecond=0) - timedelta(hours=1)
    running = make_event(starts_at=starts, ends_at=starts + timedelta(hours=2))
    make_note(running, title="Too early", visibility=NoteVisibility.PUBLIC)
    assert "Too early" not in read_output(output, make_invitation(running, answer="yes"))


def test_notes_of_drafts_never_appear_publicly(
    make_event: Any, make_note: Any, make_invitation: Any, read_output: Any
) -> None:
    from placeevents.events.models import EventStatus

    starts = utcnow().replace(microsecond=0) - timedelta(days=2)
    draft = make_event(
        starts_at=starts, ends_at=starts + timedelta(hours=2), status=EventStatus.DRAFT
    )
    make_note(draft, title="From a draft", visibility=NoteVisibility.PUBLIC)
    invitation = make_invitation(draft)
    assert "From a draft" not in read_output("public event page", invitation)
    assert "From a draft" not in read_output("learning page", invitation)


@pytest.mark.parametrize("output", OUTPUTS)
def test_unattributed_notes_never_name_their_author(
    past_event: Any,
    make_note: Any,
    make_invitation: Any,
    read_output: Callable[[str, Any], str],
    logged_in: Any,
    output: str,
) -> None:
    hidden = make_note(
        past_event,
        title="Said in the room",
        author_name="Hidden Speaker",
        attributed=False,
        visibility=NoteVisibility.PUBLIC,
    )
    make_note(
        past_event,
        title="Signed piece",
        author_name="Named Writer",
        attributed=True,
        visibility=NoteVisibility.PUBLIC,
    )
    seen = read_output(output, make_invitation(past_event, attended=True))
    assert "Hidden Speaker" not in seen
    if output != "attendee partial":
        assert "Named Writer" in seen
    organiser_page = logged_in.get(f"/manage/notes/{hidden.id}").get_data(as_text=True)
    assert "Hidden Speaker" in organiser_page and "unattributed" in organiser_page


@pytest.mark.parametrize("output", OUTPUTS)
def test_hostile_notes_reach_no_output_executable(
    past_event: Any,
    make_note: Any,
    make_invitation: Any,
    read_output: Callable[[str, Any], str],
    problems: Callable[[str], list[str]],
    output: str,
) -> None:
    from .conftest import XSS_PAYLOADS

    question = past_event.enquiry.questions[0]
    for i, payload in enumerate(XSS_PAYLOADS):
        make_note(
            past_event,
            title=f"T{i} {payload}",
            body=f"Body {payload}\n\n{payload}",
            tags=payload.replace(",", " ")[:50],
            author_name=f"A {payload}"[:200].replace("\n", " "),
            resources=f"Slides {payload.replace('|', ' ')} | https://example.org/s?q=x",
            visibility=NoteVisibility.PUBLIC,
            questions=[question],
        )
    # Stored text that never passed the form's checks is still shown safely.
    stored = make_note(past_event, title="Stored elsewhere", visibility=NoteVisibility.PUBLIC)
    stored.resources = "Bad | javascript:alert(1)\ndata:text/html,hi\nGood | https://ok.example"
    stored.tags = "<script>alert(1)</script>"
    db.session.commit()
    seen = read_output(output, make_invitation(past_event, attended=True))
    assert "T0 " in seen and "Stored elsewhere" in seen
    assert problems(seen) == []
    assert "<script>alert" not in seen
