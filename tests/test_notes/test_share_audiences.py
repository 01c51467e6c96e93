"""Sharing notes with a chosen audience: counts before sending, the right people mailed, never
the same revision twice to one address, whichever audiences it went to."""

from typing import Any

import pytest
from sqlalchemy import func, select

from placeevents.extensions import db
from placeevents.invitations import attendance
from placeevents.invitations.models import RsvpAnswer
from placeevents.mail.bounces import record_bounce
from placeevents.mail.models import OutboxMessage
from placeevents.notes import services
from placeevents.notes.models import NoteShare, NoteVisibility
from tests.test_invitations.conftest import path_of


def _share(client: Any, event: Any, audience: str | None = None) -> Any:
    data = {"audience": audience} if audience is not None else {}
    return client.post(f"/manage/notes/events/{event.id}/share", data=data)


def _outbox() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


@pytest.fixture
def people(past_event: Any, make_invitation: Any, make_note: Any, app: Any) -> dict[str, Any]:
    """Who came, who had a place and did not come (check-in closed), who asked for the notes,
    who said no; one who came has a bounced address."""
    make_note(past_event, title="What we heard", visibility=NoteVisibility.ATTENDEES)
    found = {
        "came": make_invitation(past_event, attended=True, email="came@example.org"),
        "absent": make_invitation(past_event, answer=RsvpAnswer.YES, email="absent@example.org"),
        "asked": make_invitation(
            past_event, answer=RsvpAnswer.NO, wants_notes=True, email="asked@example.org"
        ),
        "declined": make_invitation(past_event, answer=RsvpAnswer.NO, email="no@example.org"),
    }
    make_invitation(past_event, attended=True, email="bounced@example.org")
    record_bounce(email="bounced@example.org", reason="550 no such user")
    attendance.close_check_in(event=past_event, organiser=None)
    db.session.commit()
    return found


def test_the_share_page_counts_each_audience(
    logged_in: Any, past_event: Any, people: dict[str, Any]
) -> None:
    db.session.refresh(past_event)
    counts = {a.key: a.count for a in services.share_audiences(past_event)}
    # Once check-in is closed, a place without a check-in is not "all" (who may read them).
    assert counts == {"all": 2, "came": 1, "confirmed": 2, "wants_notes": 1}
    page = logged_in.get(f"/manage/notes/events/{past_event.id}/share").get_data(as_text=True)
    assert "Everyone with a place (including those who did not come) (2)</label>" in page
    assert "The people who came (1)</label>" in page
    assert "The people who said no but asked for the notes (1)</label>" in page
    assert "<strong>2</strong> people in this group can receive notes" in page

    chosen = logged_in.get(f"/manage/notes/events/{past_event.id}/share?audience=came")
    html = chosen.get_data(as_text=True)
    assert "<strong>1</strong> person in this group can receive notes" in html
    assert 'id="audience-came" value="came" checked' in html
    assert 'name="audience" type="hidden" value="came"' in html


def test_sharing_by_audience_reaches_those_people_and_nobody_twice(
    logged_in: Any, past_event: Any, people: dict[str, Any], smtp: Any
) -> None:
    came, absent, asked = people["came"], people["absent"], people["asked"]

    assert _share(logged_in, past_event, "came").status_code == 302
    assert [m.rcpt_tos[0] for m in smtp.messages] == [came.email]

    # Everyone with a place: the one who came already has this revision.
    smtp.clear()
    assert _share(logged_in, past_event, "confirmed").status_code == 302
    assert [m.rcpt_tos[0] for m in smtp.messages] == [absent.email]
    # The one who did not come, mailed by choice, can open the notes the mail links to.
    links = [path_of(link) for link in smtp.last_to(absent.email).links()]
    notes_link = next(link for link in links if link.startswith("/notes/"))
    opened = logged_in.get(notes_link)
    assert opened.status_code == 200 and "What we heard" in opened.get_data(as_text=True)

    smtp.clear()
    assert _share(logged_in, past_event).status_code == 302
    assert [m.rcpt_tos[0] for m in smtp.messages] == [asked.email]

    smtp.clear()
    again = _share(logged_in, past_event, "all")
    page = logged_in.get(again.location).get_data(as_text=True)
    assert "already been sent the current revision" in page
    assert smtp.messages == []
    emails = set(db.session.scalars(select(NoteShare.email)))
    assert emails == {came.email, absent.email, asked.email}
    assert "no@example.org" not in emails and "bounced@example.org" not in emails


@pytest.mark.parametrize("audience", ["bogus", "no_answer", "everyone", "x" * 3000])
def test_an_unknown_audience_is_refused_with_a_message(
    audience: str, logged_in: Any, past_event: Any, people: dict[str, Any], smtp: Any
) -> None:
    outbox = _outbox()
    response = _share(logged_in, past_event, audience)
    assert response.status_code == 400
    assert "Choose whom to send the notes to from the groups listed." in response.get_data(
        as_text=True
    )
    shown = logged_in.get(f"/manage/notes/events/{past_event.id}/share?audience={audience}")
    assert shown.status_code == 400
    assert _outbox() == outbox and smtp.messages == []
    assert db.session.scalar(select(func.count()).select_from(NoteShare)) == 0
