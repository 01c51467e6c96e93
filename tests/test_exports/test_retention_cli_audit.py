"""The retention job, the export commands and the audit log page."""

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from placeevents.audit.models import AuditEntry
from placeevents.audit.services import record
from placeevents.extensions import db
from placeevents.invitations.models import Rsvp
from placeevents.jobs import load_jobs, run_due_jobs
from placeevents.notes.models import Note
from placeevents.notes.services import delete_note
from tests.conftest import count_queries

ENDED = datetime(2024, 6, 4, 12, 30, tzinfo=UTC)


def _needs(invitation_id: int) -> tuple[str, str, str]:
    db.session.expire_all()
    rsvp = db.session.scalar(select(Rsvp).where(Rsvp.invitation_id == invitation_id))
    assert rsvp is not None
    return rsvp.access_needs, rsvp.dietary_needs, rsvp.question


def test_access_and_dietary_answers_are_blanked_30_days_after_the_event(
    app: Any, make_event: Any, make_invitation: Any
) -> None:
    load_jobs()
    old = make_event(starts_at=ENDED - timedelta(hours=3), ends_at=ENDED, ask_dietary_needs=True)
    recent = make_event(
        starts_at=ENDED + timedelta(days=2),
        ends_at=ENDED + timedelta(days=2),
        ask_dietary_needs=True,
    )
    kept_question = "Who holds the budget?"
    gone = make_invitation(
        old, answer="yes", access_needs="Wheelchair", dietary_needs="Halal", question=kept_question
    )
    stays = make_invitation(recent, answer="yes", access_needs="BSL", dietary_needs="Vegan")

    with time_machine.travel(ENDED + timedelta(days=29, hours=23), tick=False):
        outcomes = run_due_jobs()
    assert outcomes["erase-access-and-dietary-answers"].startswith("blanked access and dietary")
    assert _needs(gone.id) == ("Wheelchair", "Halal", kept_question)

    with time_machine.travel(ENDED + timedelta(days=30, minutes=1), tick=False):
        outcomes = run_due_jobs()
    assert "of 1 people" in outcomes["erase-access-and-dietary-answers"]
    assert _needs(gone.id) == ("", "", kept_question)
    assert _needs(stays.id) == ("BSL", "Vegan", "")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "personal-data.erased"))
    assert entry is not None and entry.actor == "system" and entry.detail.startswith("1 answers")

    # Run again in a later period: nothing more to do, nothing more recorded.
    with time_machine.travel(ENDED + timedelta(days=30, hours=2), tick=False):
        outcomes = run_due_jobs()
    assert "of 0 people" in outcomes["erase-access-and-dietary-answers"]
    assert len(db.session.scalars(select(AuditEntry)).all()) == 1


def test_the_retention_period_is_configurable(
    make_app: Any, make_event: Any, make_invitation: Any
) -> None:
    from placeevents.invitations.attendance import erase_personal_answers

    event = make_event(starts_at=ENDED - timedelta(hours=3), ends_at=ENDED, ask_dietary_needs=True)
    invitation = make_invitation(event, answer="yes", dietary_needs="Gluten-free")
    app = make_app(PLACEEVENTS_PERSONAL_DATA_DAYS=7)
    with app.app_context():
        from placeevents.exports.services import personal_data_days

        assert personal_data_days() == 7
        assert erase_personal_answers(now=ENDED + timedelta(days=6), days=7) == 0
        assert erase_personal_answers(now=ENDED + timedelta(days=7), days=7) == 1
        db.session.commit()
    assert _needs(invitation.id)[1] == ""


def test_export_attendees_command(
    app: Any, runner: Any, tmp_path: Any, make_event: Any, make_invitation: Any
) -> None:
    event = make_event(slug="leeds", starts_at=ENDED - timedelta(hours=3), ends_at=ENDED)
    make_invitation(event, answer="yes", name="Ada", email="ada@example.org")
    make_invitation(event, answer="maybe", name="=cmd|' /C calc'!A0", email="b@example.org")
    make_invitation(event, answer="no", name="Eve", email="eve@example.org")
    out = tmp_path / "leeds.csv"
    result = runner.invoke(
        args=[
            "export", "attendees", "leeds", "--status", "confirmed", "--status", "maybe",
            "--column", "name", "--column", "email", "-o", str(out),
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Wrote 2 people" in result.output
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"), newline="")))
    assert rows == [
        ["Name", "Email"],
        ["'=cmd|' /C calc'!A0", "b@example.org"],
        ["Ada", "ada@example.org"],
    ]

    book = tmp_path / "leeds.xlsx"
    result = runner.invoke(
        args=["export", "attendees", "leeds", "--status", "everyone", "-o", book]
    )
    assert result.exit_code == 0, result.output
    sheet = load_workbook(book)["Attendees"]
    assert sheet.max_row == 4 and sheet["A1"].value == "Name"
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor) for e in entries] == [("export.attendees", "system")] * 2

    result = runner.invoke(args=["export", "attendees", "nowhere", "-o", str(out)])
    assert result.exit_code == 1 and "There is no event nowhere." in result.output
    result = runner.invoke(args=["export", "attendees", "leeds", "--status", "vip", "-o", out])
    assert result.exit_code == 2


def test_export_matrix_command(
    app: Any, runner: Any, tmp_path: Any, make_enquiry: Any, make_event: Any, make_invitation: Any
) -> None:
    enquiry = make_enquiry(slug="total-place-2")
    make_invitation(make_event(enquiry=enquiry), answer="yes", name="Ada", attended=True)
    out = tmp_path / "matrix.xlsx"
    result = runner.invoke(args=["export", "matrix", "total-place-2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(load_workbook(out)["Attendance"].iter_rows(values_only=True))
    assert rows[1][0] == "Ada" and rows[1][3] == "Came"
    out_csv = tmp_path / "matrix.csv"
    result = runner.invoke(args=["export", "matrix", "total-place-2", "-o", str(out_csv)])
    assert result.exit_code == 0 and "Wrote 1 people" in result.output
    assert out_csv.read_text("utf-8-sig").splitlines()[1].startswith("Ada,")
    result = runner.invoke(args=["export", "matrix", "nope", "-o", str(out_csv)])
    assert result.exit_code == 1 and "There is no enquiry nope." in result.output


def test_audit_log_page_newest_first_paginated_and_filtered(
    logged_in: FlaskClient, organiser: Any
) -> None:
    start = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    for n in range(60):
        with time_machine.travel(start + timedelta(minutes=n), tick=False):
            record(action="export.attendees" if n % 2 else "newsletter.sent", target=f"item {n}")
    db.session.commit()

    html = logged_in.get("/manage/audit/").get_data(as_text=True)
    assert "60 entries · page 1 of 2." in html
    assert html.index("item 59") < html.index("item 58")
    assert "item 9<" not in html
    assert 'rel="next"' in html and 'rel="prev"' not in html

    html = logged_in.get("/manage/audit/?page=2").get_data(as_text=True)
    assert "item 9<" in html and "item 59" not in html and 'rel="prev"' in html

    html = logged_in.get("/manage/audit/?action=newsletter.sent").get_data(as_text=True)
    # An action nobody described (an old entry's) reads as its code made readable.
    assert "30 entries for “newsletter: sent”." in html
    assert "item 58" in html and "item 59" not in html
    assert '<option value="export.attendees">Exported the attendee list</option>' in html

    response = logged_in.get("/manage/audit/?page=many")
    assert response.status_code == 422 and "60 entries" in response.get_data(as_text=True)
    assert logged_in.get("/manage/audit/?page=99").status_code == 200


def test_targets_are_described_when_recorded(app: Any, make_event: Any) -> None:
    event = make_event(slug="newcomer-test-gathering", title="Newcomer gathering")
    by_id = record(action="calendar.update_queued", target=f"event:{event.id}")
    by_slug = record(action="event.update", target="event newcomer-test-gathering")
    batch = record(action="newsletter.import", target="import batch 3")
    gone = record(action="event.update", target="event:999")
    free = record(action="personal-data.erased", target="access and dietary answers")
    page = f"/manage/events/{event.id}"
    assert (by_id.target_label, by_id.target_url) == ("Newcomer gathering", page)
    assert (by_slug.target_label, by_slug.target_url) == ("Newcomer gathering", page)
    assert (batch.target_label, batch.target_url) == (
        "Subscriber import 3",
        "/manage/newsletter/import/3",
    )
    assert (gone.target, gone.target_label, gone.target_url) == ("event:999", "", "")
    assert (free.target_label, free.target_url) == ("", "")


def test_audit_log_says_what_each_entry_is_about_in_words(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any, make_subscriber: Any
) -> None:
    enquiry = make_enquiry(slug="total-place-2", title="Total Place 2.0")
    event = make_event(enquiry=enquiry, slug="newcomer-test-gathering", title="Newcomer gathering")
    note = Note(event=event, title="Key insights", body="", revision=1)
    old_note = Note(event=event, title="Old note", body="", revision=1)
    subscriber = make_subscriber(email="amara@example.org")
    db.session.add_all([note, old_note])
    db.session.commit()
    with time_machine.travel(datetime(2026, 11, 28, 23, 32, tzinfo=UTC), tick=False):
        record(action="event.update", target=f"event {event.slug}", detail="Venue changed")
        record(
            action="calendar.update_queued",
            target=f"event:{event.id}",
            detail="2 calendar updates (SEQUENCE 1): The venue changed.",
        )
        record(action="note.update", target=f"note:{note.id}", detail="revision 2")
        delete_note(note=old_note, editor=None)
        record(action="export.matrix", target=f"enquiry {enquiry.slug}")
        record(action="newsletter.erase", target=f"subscriber {subscriber.id}")
        record(action="personal-data.erased", target="access and dietary answers")
    # Entries keep the words of when they were written.
    event.title = "Renamed gathering"
    db.session.commit()

    html = logged_in.get("/manage/audit/").get_data(as_text=True)
    event_link = f'<a href="/manage/events/{event.id}">Newcomer gathering</a>'
    assert html.count(event_link) == 2 and "Renamed gathering" not in html
    assert f'<a href="/manage/notes/{note.id}">Note: Key insights</a>' in html
    assert "<td>Note: Old note</td>" in html
    assert f'<a href="/manage/enquiries/{enquiry.id}">Total Place 2.0</a>' in html
    assert f'<a href="/manage/newsletter/{subscriber.id}">amara@example.org</a>' in html
    assert "<td>access and dietary answers</td>" in html
    assert f"event:{event.id}<" not in html and "newcomer-test-gathering<" not in html
    assert "SEQUENCE" not in html and "2 calendar updates: The venue changed." in html
    # Actions read as words, never as codes.
    assert "<td>Queued calendar updates</td>" in html and "calendar.update_queued<" not in html
    assert '<td class="audit__when"><time datetime="2026-11-28T23:32:00+00:00">' in html
    assert "28 Nov 2026, 23:32 GMT</time>" in html and "times in Europe/London" in html


def test_entries_written_before_labels_were_stored_read_as_their_target(
    logged_in: FlaskClient, make_event: Any
) -> None:
    event = make_event(title="Newcomer gathering")
    entry = record(action="event.update", target=f"event:{event.id}")
    entry.target_label, entry.target_url = "", ""
    db.session.commit()
    html = logged_in.get("/manage/audit/").get_data(as_text=True)
    assert f"<td>event:{event.id}</td>" in html


def test_audit_log_costs_the_same_for_many_targets(logged_in: FlaskClient, make_event: Any) -> None:
    def load(events: int) -> int:
        for _ in range(events):
            event = make_event()
            record(action="event.update", target=f"event {event.slug}")
            record(action="calendar.update_queued", target=f"event:{event.id}")
            record(action="note.update", target=f"note:{event.id}")
        db.session.commit()
        with count_queries() as statements:
            assert logged_in.get("/manage/audit/").status_code == 200
        return len(statements)

    assert load(2) == load(12)
