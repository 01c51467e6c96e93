"""Sharing notes: who gets them, once per person per revision, through the outbox and SMTP."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.invitations.models import RsvpAnswer
from placeevents.mail.bounces import record_bounce
from placeevents.mail.models import OutboxMessage
from placeevents.newsletter.links import PREFERENCES, UNSUBSCRIBE
from placeevents.newsletter.models import SubscriberStatus
from placeevents.notes import services
from placeevents.notes.models import Note, NoteShare, NoteVisibility
from placeevents.tokens import read_token


def _share(client: Any, event: Any, note: Any = None) -> Any:
    data = {"note_id": str(note.id)} if note is not None else {}
    return client.post(f"/manage/notes/events/{event.id}/share", data=data)


def test_recipients_are_attendees_and_those_who_asked(
    past_event: Any, make_event: Any, make_invitation: Any
) -> None:
    past_event.capacity = 2  # the two yeses fill it, so the next yes waits
    attended = make_invitation(past_event, attended=True, email="attended@example.org")
    confirmed = make_invitation(past_event, answer=RsvpAnswer.YES, email="confirmed@example.org")
    asked = make_invitation(
        past_event, answer=RsvpAnswer.NO, wants_notes=True, email="asked@example.org"
    )
    make_invitation(past_event, answer=RsvpAnswer.NO, email="declined@example.org")
    make_invitation(past_event, answer=RsvpAnswer.MAYBE, email="maybe@example.org")
    make_invitation(past_event, answer=RsvpAnswer.WAITLISTED, email="waitlisted@example.org")
    make_invitation(past_event, email="silent@example.org")
    assert [i.email for i in services.share_recipients(past_event)] == [
        asked.email,
        attended.email,
        confirmed.email,
    ]

    upcoming = make_event()
    make_invitation(upcoming, answer=RsvpAnswer.YES, email="coming@example.org")
    early = make_invitation(
        upcoming, answer=RsvpAnswer.NO, wants_notes=True, email="early@example.org"
    )
    # A confirmed place at an event still to come is not attendance.
    assert [i.email for i in services.share_recipients(upcoming)] == [early.email]


def test_share_sends_each_person_one_mail_with_the_shared_notes(
    logged_in: Any, past_event: Any, make_note: Any, make_invitation: Any, smtp: Any
) -> None:
    make_note(past_event, title="Public summary", visibility=NoteVisibility.PUBLIC)
    make_note(past_event, title="For attendees", visibility=NoteVisibility.ATTENDEES)
    make_note(past_event, title="Organisers only", visibility=NoteVisibility.PRIVATE)
    people = [
        make_invitation(past_event, attended=True),
        make_invitation(past_event, answer=RsvpAnswer.NO, wants_notes=True),
        make_invitation(past_event, answer=RsvpAnswer.YES),
    ]
    outsider = make_invitation(past_event, answer=RsvpAnswer.NO)

    response = _share(logged_in, past_event)
    assert response.status_code == 302 and "/share/progress?batch=note-share-" in response.location
    for person in people:
        [mail] = smtp.to(person.email)
        assert mail.subject == f"Session notes from {past_event.title}"
        for part in (mail.text(), mail.html()):
            assert "Public summary" in part and "For attendees" in part
            assert "Organisers only" not in part
        assert "please do not pass them on" in mail.text()
    assert smtp.to(outsider.email) == []
    assert len(smtp.messages) == 3
    assert db.session.scalar(select(func.count()).select_from(NoteShare)) == 6
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert {r.kind for r in rows} == {"note_share"} and len({r.batch_key for r in rows}) == 1

    progress = logged_in.get(response.location).get_data(as_text=True)
    assert "Notes sent" in progress and "<dt>Sent</dt><dd>3</dd>" in progress

    again = _share(logged_in, past_event)
    assert again.status_code == 302
    page = logged_in.get(again.location).get_data(as_text=True)
    assert "already been sent the current revision" in page
    assert len(smtp.messages) == 3


def test_a_new_revision_goes_again_once_and_new_people_get_what_they_missed(
    logged_in: Any, past_event: Any, make_note: Any, make_invitation: Any, smtp: Any
) -> None:
    summary = make_note(past_event, title="Summary v1", visibility=NoteVisibility.PUBLIC)
    make_note(past_event, title="Actions", visibility=NoteVisibility.ATTENDEES)
    first = make_invitation(past_event, attended=True)
    _share(logged_in, past_event)
    assert len(smtp.to(first.email)) == 1

    services.update_note(
        note=summary,
        data=services.NoteInput(title="Summary v2", visibility=NoteVisibility.PUBLIC),
        editor=None,
    )
    db.session.commit()
    late = make_invitation(past_event, answer=RsvpAnswer.NO, wants_notes=True)
    smtp.clear()
    _share(logged_in, past_event)
    [to_first] = smtp.to(first.email)
    assert "Summary v2" in to_first.text() and "Actions" not in to_first.text()
    assert to_first.subject == "Session notes: Summary v2"
    [to_late] = smtp.to(late.email)
    assert "Summary v2" in to_late.text() and "Actions" in to_late.text()
    _share(logged_in, past_event)
    assert len(smtp.messages) == 2


def test_share_one_note(
    logged_in: Any, past_event: Any, make_note: Any, make_invitation: Any, smtp: Any
) -> None:
    chosen = make_note(past_event, title="Just this one", visibility=NoteVisibility.ATTENDEES)
    make_note(past_event, title="Not this one", visibility=NoteVisibility.PUBLIC)
    person = make_invitation(past_event, attended=True)
    _share(logged_in, past_event, chosen)
    [mail] = smtp.to(person.email)
    assert "Just this one" in mail.text() and "Not this one" not in mail.text()
    assert db.session.scalar(select(NoteShare.note_id)) == chosen.id


def test_private_notes_are_never_sent(
    logged_in: Any, past_event: Any, make_note: Any, make_invitation: Any, smtp: Any
) -> None:
    private = make_note(past_event, title="Private", visibility=NoteVisibility.PRIVATE)
    make_invitation(past_event, attended=True)
    response = _share(logged_in, past_event, private)
    assert "private to organisers" in logged_in.get(response.location).get_data(as_text=True)
    response = _share(logged_in, past_event)
    assert "no notes shared with attendees" in logged_in.get(response.location).get_data(
        as_text=True
    )
    assert smtp.messages == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_bounced_addresses_are_skipped_and_counted(
    logged_in: Any, past_event: Any, make_note: Any, make_invitation: Any, smtp: Any
) -> None:
    make_note(past_event, visibility=NoteVisibility.PUBLIC)
    good = make_invitation(past_event, attended=True)
    bad = make_invitation(past_event, attended=True)
    record_bounce(email=bad.email, reason="550 no such user")
    db.session.commit()
    page = logged_in.get(f"/manage/notes/events/{past_event.id}/share").get_data(as_text=True)
    assert "1 more cannot, because mail to them bounced" in page
    _share(logged_in, past_event)
    assert len(smtp.to(good.email)) == 1 and smtp.to(bad.email) == []


def test_nobody_to_send_to_is_said_plainly(
    logged_in: Any, past_event: Any, make_note: Any, smtp: Any
) -> None:
    make_note(past_event, visibility=NoteVisibility.PUBLIC)
    response = _share(logged_in, past_event)
    assert "Nobody can receive these notes yet" in logged_in.get(response.location).get_data(
        as_text=True
    )


def test_progress_of_another_event_is_not_shown(logged_in: Any, past_event: Any) -> None:
    url = f"/manage/notes/events/{past_event.id}/share/progress?batch=note-share-999-abc"
    assert logged_in.get(url).status_code == 404


def test_two_shares_at_once_send_each_revision_once(
    make_app: Any, app: Flask, past_event: Any, make_note: Any, make_invitation: Any
) -> None:
    make_note(past_event, visibility=NoteVisibility.PUBLIC)
    make_note(past_event, visibility=NoteVisibility.ATTENDEES)
    for _ in range(8):
        make_invitation(past_event, attended=True)
    event_id = past_event.id
    db.session.remove()
    other = make_app()
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def share(application: Flask) -> None:
        # Two organisers pressing "Send" at the same moment.
        with application.test_request_context("/", method="POST"):
            start.wait()
            try:
                event = db.session.get(type(past_event), event_id)
                result = services.share_notes(event=event)
                db.session.commit()
                outcomes.append(f"sent {result.messages}")
            except services.NoteError:
                db.session.rollback()
                outcomes.append("nothing to send")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=share, args=(a,)) for a in (app, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["nothing to send", "sent 8"], outcomes
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 8
    assert db.session.scalar(select(func.count()).select_from(NoteShare)) == 16


def test_share_page_query_count_does_not_grow_with_people(
    logged_in: Any, past_event: Any, make_note: Any, make_invitation: Any
) -> None:
    from conftest import count_queries

    make_note(past_event, visibility=NoteVisibility.PUBLIC)
    make_invitation(past_event, attended=True)
    db.session.expire_all()
    with count_queries() as few:
        logged_in.get(f"/manage/notes/events/{past_event.id}/share")
    for _ in range(10):
        make_invitation(past_event, attended=True)
    make_note(past_event, visibility=NoteVisibility.ATTENDEES)
    db.session.expire_all()
    with count_queries() as many:
        logged_in.get(f"/manage/notes/events/{past_event.id}/share")
    assert len(many) == len(few)


@pytest.mark.parametrize("days_ago", [1, 40])
def test_confirmed_people_count_as_attended_once_the_event_is_over(
    make_event: Any, make_invitation: Any, days_ago: int
) -> None:
    starts = utcnow().replace(microsecond=0) - timedelta(days=days_ago)
    event = make_event(starts_at=starts, ends_at=starts + timedelta(hours=2))
    person = make_invitation(event, answer=RsvpAnswer.YES)
    assert services.can_receive_notes(person)
    assert db.session.scalar(select(func.count()).select_from(Note)) == 0


def test_a_subscriber_gets_list_headers_and_a_preferences_link(
    logged_in: Any,
    past_event: Any,
    make_note: Any,
    make_invitation: Any,
    make_subscriber: Any,
    smtp: Any,
) -> None:
    make_note(past_event, title="Public summary", visibility=NoteVisibility.PUBLIC)
    subscriber = make_subscriber(email="amara@example.org", name="Amara")
    make_invitation(past_event, attended=True, email="Amara@Example.org ")
    make_invitation(past_event, attended=True, email="guest@example.org")
    pending = make_subscriber(email="pending@example.org", status=SubscriberStatus.PENDING)
    make_invitation(past_event, attended=True, email=pending.email)
    assert _share(logged_in, past_event).status_code == 302

    mail = smtp.last_to("amara@example.org")
    unsubscribe = mail.message["List-Unsubscribe"].strip("<>")
    assert read_token(UNSUBSCRIBE, unsubscribe.rsplit("/", 1)[1]).row_id == subscriber.id
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    [preferences] = [link for link in mail.links() if "/newsletter/preferences/" in link]
    assert read_token(PREFERENCES, preferences.rsplit("/", 1)[1]).row_id == subscriber.id
    assert f"Your mailing list preferences: {preferences}" in mail.text()
    assert "Your mailing list preferences</a>" in mail.html()
    for other in ("guest@example.org", "pending@example.org"):
        plain = smtp.last_to(other)
        assert plain.message["List-Unsubscribe"] is None
        assert "mailing list preferences" not in plain.text()
