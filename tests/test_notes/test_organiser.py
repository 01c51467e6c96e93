"""Organiser pages: writing, revising, restoring and deleting notes."""

from typing import Any

import pytest
from conftest import count_queries
from sqlalchemy import func, select

from placeevents.audit.models import AuditEntry
from placeevents.enquiries.models import EnquiryStatus
from placeevents.extensions import db
from placeevents.notes.models import Note, NoteKind, NoteRevision, NoteShare, NoteVisibility


def _form(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "What we heard",
        "kind": "summary",
        "author_name": "Nadia Author",
        "attribution": "attributed",
        "visibility": "public",
        "body": "- Places repeat the same work\n- Learning is lost",
        "resources": "Slides | https://example.org/slides.pdf\nhttps://example.org/paper",
        "tags": "funding, Funding , pilots",
    }
    data.update(overrides)
    return data


def test_create_a_note(logged_in: Any, past_event: Any, organiser: Any) -> None:
    question = past_event.enquiry.questions[1]
    response = logged_in.post(
        f"/manage/notes/events/{past_event.id}/new", data=_form(questions=[str(question.id)])
    )
    assert response.status_code == 302
    note = db.session.scalar(select(Note))
    assert response.location.endswith(f"/manage/notes/{note.id}")
    assert note.title == "What we heard" and note.kind == NoteKind.SUMMARY
    assert note.visibility == NoteVisibility.PUBLIC and note.attributed
    assert note.tags == "funding, pilots"
    assert note.resources == "Slides | https://example.org/slides.pdf\nhttps://example.org/paper"
    assert [q.id for q in note.questions] == [question.id]
    assert note.revision == 1 and note.created_by_id == organiser.id
    [revision] = note.revisions
    assert revision.number == 1 and revision.edited_by_id == organiser.id
    assert revision.question_ids == str(question.id)
    assert db.session.scalar(select(AuditEntry.action)) == "note.create"

    page = logged_in.get(f"/manage/notes/{note.id}").get_data(as_text=True)
    assert "What we heard" in page and "<li>Places repeat the same work</li>" in page
    assert 'href="https://example.org/slides.pdf"' in page and ">Slides</a>" in page
    assert question.title in page and "pilots" in page
    listing = logged_in.get(f"/manage/notes/events/{past_event.id}").get_data(as_text=True)
    assert "What we heard" in listing and "Nadia Author" in listing


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"title": "x" * 201}, "title", "200 characters"),
        ({"resources": "Slides | javascript:alert(1)"}, "resources", "Line 1 needs a web address"),
        ({"resources": "https://ok.example\nnot a link"}, "resources", "Line 2 needs"),
        ({"resources": "data:text/html,hi"}, "resources", "Line 1 needs"),
        (
            {"resources": "Slides | slides.pdf\nhttps://ok.example\n\nPaper | ftp://x\nnope"},
            "resources",
            "Lines 1, 4 and 5 need a web address",
        ),
        (
            # The box strips the invisible \x01; only the second line is still wrong.
            {"resources": "Bad\x01title | https://ok.example\nnot a link"},
            "resources",
            "Line 2 needs a web address starting https:// or http:// (write "
            "“Title | https://…” or just the address).</p>",
        ),
        ({"tags": "a" * 51}, "tags", "at most 50 characters"),
        ({"visibility": "everyone"}, "visibility", "Not a valid choice"),
        ({"kind": "gossip"}, "kind", "Not a valid choice"),
        ({"questions": ["999999"]}, "questions", "is not a valid choice"),
    ],
)
def test_bad_input_is_shown_beside_the_field(
    logged_in: Any, past_event: Any, overrides: dict[str, Any], field: str, message: str
) -> None:
    response = logged_in.post(f"/manage/notes/events/{past_event.id}/new", data=_form(**overrides))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert db.session.scalar(select(func.count()).select_from(Note)) == 0
    assert db.session.scalar(select(func.count()).select_from(NoteRevision)) == 0


def test_the_service_refuses_control_characters_no_form_removed() -> None:
    from placeevents.notes import services

    for resources in ("Bad\x01title | https://ok.example", "Bad\x9btitle | https://ok.example"):
        with pytest.raises(services.NoteError) as error:
            services.normalise_resources(resources)
        assert error.value.message == (
            "Line 1: The resource title cannot contain control characters."
        )
    with pytest.raises(services.NoteError):
        services.normalise_tags("pilots, bid\x9band")


def test_a_question_of_another_enquiry_is_refused(
    logged_in: Any, past_event: Any, make_enquiry: Any
) -> None:
    other = make_enquiry()
    note_count = db.session.scalar(select(func.count()).select_from(Note))
    # Valid as a choice of the form only if the service is asked directly.
    from placeevents.notes import services

    with pytest.raises(services.NoteError) as error:
        services.create_note(
            event=past_event,
            data=services.NoteInput(title="T", question_ids=[other.questions[0].id]),
            editor=None,
        )
    assert error.value.field == "questions"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Note)) == note_count


def test_edit_makes_a_revision_and_history_says_who_changed_what(
    logged_in: Any, past_event: Any, make_note: Any, organiser: Any
) -> None:
    note = make_note(past_event, title="First title", body="First body")
    edit_page = logged_in.get(f"/manage/notes/{note.id}/edit").get_data(as_text=True)
    assert (
        'value="First title"' in edit_page
        and 'name="base_revision" type="hidden" value="1"' in edit_page
    )
    response = logged_in.post(
        f"/manage/notes/{note.id}/edit",
        data=_form(title="Second title", body="Second body", base_revision="1"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    note = db.session.get(Note, note.id)
    assert note.revision == 2 and note.title == "Second title"
    assert [r.number for r in note.revisions] == [1, 2]
    assert note.revisions[0].title == "First title"
    assert note.revisions[1].edited_by_id == organiser.id

    history = logged_in.get(f"/manage/notes/{note.id}/revisions").get_data(as_text=True)
    assert "Olive Organiser" in history
    assert "Title, text, resource links, tags" in history
    assert "Created" in history
    old = logged_in.get(f"/manage/notes/{note.id}/revisions/1").get_data(as_text=True)
    assert "First title" in old and "First body" in old and "Restore this revision" in old


def test_saving_without_changes_makes_no_revision(
    logged_in: Any, past_event: Any, make_note: Any
) -> None:
    note = make_note(past_event, **{k: v for k, v in _as_input().items()})
    response = logged_in.post(f"/manage/notes/{note.id}/edit", data=_form(base_revision="1"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Note, note.id).revision == 1
    assert db.session.scalar(select(func.count()).select_from(NoteRevision)) == 1


def _as_input() -> dict[str, Any]:
    return {
        "title": "What we heard",
        "author_name": "Nadia Author",
        "body": "- Places repeat the same work\n- Learning is lost",
        "resources": "Slides | https://example.org/slides.pdf\nhttps://example.org/paper",
        "tags": "funding, pilots",
    }


def test_a_stale_edit_is_refused_then_saved_on_a_second_press(
    logged_in: Any, past_event: Any, make_note: Any
) -> None:
    note = make_note(past_event, title="Original")
    logged_in.post(
        f"/manage/notes/{note.id}/edit",
        data=_form(title="Theirs", body="Their line about trust", base_revision="1"),
    )
    response = logged_in.post(
        f"/manage/notes/{note.id}/edit",
        data=_form(title="Mine", body="My line about pilots", base_revision="1"),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Someone else saved this note (now at revision 2)" in page
    assert "Please correct the highlighted fields" not in page
    assert 'class="error"' not in page
    assert f'href="/manage/notes/{note.id}"' in page
    # The current text is shown beside theirs, and the form is re-based on revision 2.
    assert "Their line about trust" in page and "My line about pilots" in page
    assert 'name="base_revision" type="hidden" value="2"' in page
    db.session.expire_all()
    assert db.session.get(Note, note.id).title == "Theirs"

    again = logged_in.post(
        f"/manage/notes/{note.id}/edit",
        data=_form(title="Mine", body="My line about pilots", base_revision="2"),
    )
    assert again.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Note, note.id)
    assert saved.revision == 3 and saved.title == "Mine"
    assert saved.body == "My line about pilots"


def test_restore_makes_a_new_revision(
    logged_in: Any, past_event: Any, make_note: Any, make_enquiry: Any
) -> None:
    first, second = past_event.enquiry.questions[:2]
    note = make_note(
        past_event,
        title="One",
        visibility=NoteVisibility.PRIVATE,
        questions=[first],
        tags="alpha",
    )
    logged_in.post(
        f"/manage/notes/{note.id}/edit",
        data=_form(title="Two", visibility="public", questions=[str(second.id)], base_revision="1"),
    )
    assert logged_in.get(f"/manage/notes/{note.id}/revisions/1/restore").status_code == 405
    response = logged_in.post(f"/manage/notes/{note.id}/revisions/1/restore")
    assert response.status_code == 302
    db.session.expire_all()
    note = db.session.get(Note, note.id)
    assert note.revision == 3 and note.title == "One"
    assert note.visibility == NoteVisibility.PRIVATE and note.tags == "alpha"
    assert [q.id for q in note.questions] == [first.id]
    assert note.revisions[-1].restored_from == 1
    history = logged_in.get(f"/manage/notes/{note.id}/revisions").get_data(as_text=True)
    assert "Restored revision 1" in history

    again = logged_in.post(f"/manage/notes/{note.id}/revisions/3/restore", follow_redirects=True)
    assert "same as the current text" in again.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Note, note.id).revision == 3


def test_delete_asks_then_removes_the_note_its_revisions_and_shares(
    logged_in: Any, past_event: Any, make_note: Any
) -> None:
    note = make_note(past_event)
    db.session.add(NoteShare(note_id=note.id, revision=1, email="a@example.org"))
    db.session.commit()
    page = logged_in.get(f"/manage/notes/{note.id}/delete")
    assert page.status_code == 200 and "Delete the note" in page.get_data(as_text=True)
    assert db.session.get(Note, note.id) is not None
    response = logged_in.post(f"/manage/notes/{note.id}/delete")
    assert response.status_code == 302
    assert response.location.endswith(f"/manage/notes/events/{past_event.id}")
    db.session.expire_all()
    for model in (Note, NoteRevision, NoteShare):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/manage/notes/",
        "/manage/notes/events/{event}",
        "/manage/notes/events/{event}/new",
        "/manage/notes/{note}",
        "/manage/notes/{note}/edit",
        "/manage/notes/{note}/revisions",
        "/manage/notes/{note}/revisions/1",
        "/manage/notes/{note}/delete",
        "/manage/notes/events/{event}/share",
    ],
)
def test_organiser_pages_need_a_login(
    client: Any, past_event: Any, make_note: Any, path: str
) -> None:
    note = make_note(past_event)
    url = path.format(event=past_event.id, note=note.id)
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.location
    assert client.post(url).status_code in (302, 405)
    assert client.post(f"/manage/notes/{note.id}/delete").status_code == 302
    assert db.session.get(Note, note.id) is not None


def test_the_notes_list_costs_the_same_for_many_notes(
    logged_in: Any, past_event: Any, make_note: Any
) -> None:
    questions = past_event.enquiry.questions
    make_note(past_event, questions=questions[:1])
    db.session.expire_all()
    with count_queries() as few:
        assert logged_in.get(f"/manage/notes/events/{past_event.id}").status_code == 200
    for _ in range(12):
        make_note(past_event, questions=questions[:2])
    db.session.expire_all()
    with count_queries() as many:
        assert logged_in.get(f"/manage/notes/events/{past_event.id}").status_code == 200
    assert len(many) == len(few)


def test_notes_index_lists_the_current_enquiry_first(
    logged_in: Any, make_enquiry: Any, make_event: Any
) -> None:
    archived = make_enquiry(title="An archived enquiry", status=EnquiryStatus.ARCHIVED)
    current = make_enquiry(title="Total Place 2.0")
    make_event(enquiry=current)
    make_event(enquiry=archived)
    html = logged_in.get("/manage/notes/").get_data(as_text=True)
    assert html.index("Total Place 2.0") < html.index("An archived enquiry")
