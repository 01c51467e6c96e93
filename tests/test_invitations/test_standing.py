"""Standing invitations: the worker invites those who asked to be invited to every exploration
of an enquiry, once per event and address, within the event's format and their interests."""

import threading
from datetime import timedelta
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placeevents import erasure
from placeevents.clock import utcnow
from placeevents.events.models import EventAccess, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations.models import (
    EventMailing,
    Invitation,
    InvitationSource,
    StandingDelivery,
)
from placeevents.invitations.standing import send_standing_invitations
from placeevents.jobs import load_jobs, run_due_jobs
from placeevents.mail.delivery import deliver_due
from placeevents.mail.models import OutboxMessage
from placeevents.newsletter.links import STANDING, UNSUBSCRIBE, token_for
from placeevents.newsletter.models import StandingInvitation
from tests.test_invitations.conftest import answer, links_to, rsvp_path


def _stand(subscriber: Any, enquiry: Any) -> None:
    """The subscriber asks, as from the page the welcome mail links to."""
    db.session.add(StandingInvitation(subscriber_id=subscriber.id, enquiry_id=enquiry.id))
    db.session.commit()


def _invited() -> dict[str, set[str]]:
    """Each event's title with the addresses invited to it by a standing invitation."""
    db.session.expire_all()
    found: dict[str, set[str]] = {}
    for invitation in db.session.scalars(
        select(Invitation).where(Invitation.source == InvitationSource.STANDING)
    ):
        found.setdefault(invitation.event.title, set()).add(invitation.email)
    return found


def _run(minutes: int = 0) -> None:
    """One pass of the worker, `minutes` from now: the due jobs, then the outbox."""
    with time_machine.travel(utcnow() + timedelta(minutes=minutes), tick=False):
        run_due_jobs()
        deliver_due()


def test_a_published_event_reaches_each_standing_subscriber_once_within_their_interests(
    make_enquiry: Any, make_event: Any, make_subscriber: Any, smtp: Any
) -> None:
    enquiry, other = make_enquiry(title="Leaders of place"), make_enquiry()
    both = make_subscriber(email="both@example.org")
    room = make_subscriber(email="room@example.org", wants_online=False)
    screen = make_subscriber(email="screen@example.org", wants_in_person=False)
    news = make_subscriber(
        email="news@example.org", wants_in_person=False, wants_online=False, wants_news=True
    )
    elsewhere = make_subscriber(email="elsewhere@example.org")
    make_subscriber(email="plain@example.org")  # subscribed, but asked nothing standing
    for person in (both, room, screen, news):
        _stand(person, enquiry)
    _stand(elsewhere, other)

    def event(title: str, **kw: Any) -> Any:
        return make_event(enquiry=enquiry, title=title, access=EventAccess.OPEN, **kw)

    event("In the room", format=EventFormat.IN_PERSON)
    event("On screen", format=EventFormat.ONLINE, venue="", address="")
    event("Either way", format=EventFormat.HYBRID)
    # None of these is touched: by invitation only, a draft, cancelled, begun, over.
    make_event(enquiry=enquiry, title="Invitation only", access=EventAccess.INVITATION)
    event("Draft", status=EventStatus.DRAFT)
    event("Cancelled", status=EventStatus.CANCELLED)
    begun = utcnow() - timedelta(minutes=30)
    event("Begun", starts_at=begun, ends_at=begun + timedelta(hours=2))
    event("Over", starts_at=begun - timedelta(days=3))
    load_jobs()

    _run()
    assert _invited() == {
        "In the room": {"both@example.org", "room@example.org"},
        "On screen": {"both@example.org", "screen@example.org"},
        "Either way": {"both@example.org", "room@example.org", "screen@example.org"},
    }
    # The normal invitation, delivered: the default text, their own RSVP link, list headers.
    assert len(smtp.to("both@example.org")) == 3
    assert smtp.to("news@example.org") == [] and smtp.to("plain@example.org") == []
    mail = smtp.last_to("room@example.org")
    assert mail.subject.startswith("Invitation: ")
    assert "We would like to invite you to this event" in mail.text()
    assert "Leaders of place" in mail.text()
    assert mail.message["List-Unsubscribe"]
    invitation = db.session.scalars(
        select(Invitation).where(Invitation.email == "room@example.org").order_by(Invitation.id)
    ).first()
    assert invitation.subscriber_id == room.id and invitation.sent_at is not None
    assert any(links_to(link, invitation) for m in smtp.to(invitation.email) for link in m.links())
    # Recorded as the organiser's sends are: one mailing per event with its count.
    mailings = db.session.scalars(select(EventMailing).order_by(EventMailing.id)).all()
    assert [m.recipients for m in mailings] == [2, 2, 3]
    assert {m.audience for m in mailings} == {
        "subscribers invited to every exploration of the enquiry"
    }

    # Later runs invite nobody again.
    sent = len(smtp.messages)
    _run(minutes=2)
    _run(minutes=4)
    assert len(smtp.messages) == sent
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 7


def test_publishing_an_event_brings_the_invitation_on_the_next_run(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any, make_subscriber: Any, smtp: Any
) -> None:
    enquiry = make_enquiry()
    draft = make_event(enquiry=enquiry, access=EventAccess.OPEN, status=EventStatus.DRAFT)
    _stand(make_subscriber(email="keen@example.org"), enquiry)
    load_jobs()
    _run()
    assert _invited() == {} and smtp.messages == []

    published = logged_in.post(f"/manage/events/{draft.id}/publish")
    assert published.status_code == 302
    _run(minutes=1)
    assert _invited() == {draft.title: {"keen@example.org"}}
    assert [m.subject for m in smtp.to("keen@example.org")] == [f"Invitation: {draft.title}"]


def test_nobody_is_invited_again_after_removal_or_a_no(
    logged_in: FlaskClient,
    client: FlaskClient,
    make_enquiry: Any,
    make_event: Any,
    make_subscriber: Any,
    smtp: Any,
) -> None:
    enquiry = make_enquiry()
    event = make_event(enquiry=enquiry, access=EventAccess.OPEN)
    removed = make_subscriber(email="removed@example.org")
    declined = make_subscriber(email="declined@example.org")
    for person in (removed, declined):
        _stand(person, enquiry)
    load_jobs()
    _run()
    assert _invited() == {event.title: {"removed@example.org", "declined@example.org"}}

    by_email = {
        i.email: i
        for i in db.session.scalars(select(Invitation).where(Invitation.event_id == event.id))
    }
    answer(client, by_email["declined@example.org"], "no")
    gone = logged_in.post(f"/manage/invitations/{by_email['removed@example.org'].id}/remove")
    assert gone.status_code == 302
    assert _invited() == {event.title: {"declined@example.org"}}
    smtp.clear()

    _run(minutes=2)
    _run(minutes=4)
    assert _invited() == {event.title: {"declined@example.org"}}
    assert smtp.messages == []


def test_unsubscribed_and_erased_people_are_not_invited(
    client: FlaskClient, make_enquiry: Any, make_event: Any, make_subscriber: Any, smtp: Any
) -> None:
    enquiry = make_enquiry()
    leaving = make_subscriber(email="leaving@example.org")
    erased = make_subscriber(email="erased@example.org")
    for person in (leaving, erased):
        _stand(person, enquiry)
    client.post(f"/newsletter/unsubscribe/{token_for(UNSUBSCRIBE, leaving)}")
    erasure.erase_person(email="erased@example.org")
    db.session.commit()
    make_event(enquiry=enquiry, access=EventAccess.OPEN)
    load_jobs()
    _run()
    assert _invited() == {}
    assert smtp.messages == []
    assert db.session.scalar(select(func.count()).select_from(StandingInvitation)) == 0


def test_asking_later_brings_invitations_to_the_events_already_published(
    client: FlaskClient, make_enquiry: Any, make_event: Any, make_subscriber: Any, smtp: Any
) -> None:
    enquiry = make_enquiry()
    first = make_event(enquiry=enquiry, access=EventAccess.OPEN, title="First")
    second = make_event(enquiry=enquiry, access=EventAccess.OPEN, title="Second")
    late = make_subscriber(email="late@example.org")
    load_jobs()
    _run()
    assert _invited() == {}

    url = f"/newsletter/standing/{token_for(STANDING, late)}"
    assert client.post(url, data={"enquiry_id": str(enquiry.id)}).status_code == 303
    _run(minutes=2)
    assert _invited() == {first.title: {"late@example.org"}, second.title: {"late@example.org"}}
    assert len(smtp.to("late@example.org")) == 2


def test_someone_already_invited_is_not_invited_twice(
    make_enquiry: Any, make_event: Any, make_invitation: Any, make_subscriber: Any, smtp: Any
) -> None:
    enquiry = make_enquiry()
    event = make_event(enquiry=enquiry, access=EventAccess.OPEN)
    known = make_subscriber(email="known@example.org")
    _stand(known, enquiry)
    make_invitation(event=event, email="known@example.org", source=InvitationSource.PASTED)
    load_jobs()
    _run()
    assert _invited() == {}
    assert smtp.messages == []
    delivery = db.session.scalars(select(StandingDelivery)).one()
    assert (delivery.subscriber_id, delivery.invited) == (known.id, False)


def test_a_run_handles_a_batch_and_the_next_carries_on(
    make_enquiry: Any, make_event: Any, make_subscriber: Any
) -> None:
    enquiry = make_enquiry()
    first = make_event(enquiry=enquiry, access=EventAccess.OPEN, title="First")
    second = make_event(enquiry=enquiry, access=EventAccess.OPEN, title="Second")
    people = [make_subscriber(email=f"p{n}@example.org") for n in range(3)]
    for person in people:
        _stand(person, enquiry)

    assert send_standing_invitations(limit=4) == 4
    db.session.commit()
    assert _invited() == {
        first.title: {"p0@example.org", "p1@example.org", "p2@example.org"},
        second.title: {"p0@example.org"},
    }
    assert send_standing_invitations(limit=4) == 2
    assert send_standing_invitations(limit=4) == 0
    db.session.commit()
    assert _invited()[second.title] == {"p0@example.org", "p1@example.org", "p2@example.org"}


def test_the_rsvp_page_offers_a_subscriber_every_exploration(
    client: FlaskClient,
    make_enquiry: Any,
    make_event: Any,
    make_invitation: Any,
    make_subscriber: Any,
) -> None:
    enquiry = make_enquiry(title="Leaders of place")
    event = make_event(enquiry=enquiry)
    subscriber = make_subscriber(email="sub@example.org")
    invited = make_invitation(event=event, email="sub@example.org")
    stranger = make_invitation(event=event, email="stranger@example.org")
    button = "Invite me to every exploration in this enquiry</button>"

    # Opening the page shows the button and changes nothing.
    page = client.get(rsvp_path(invited)).get_data(as_text=True)
    assert button in page
    assert db.session.scalar(select(func.count()).select_from(StandingInvitation)) == 0

    asked = client.post(rsvp_path(invited) + "/standing")
    assert asked.status_code == 302
    rows = db.session.scalars(select(StandingInvitation)).all()
    assert [(r.subscriber_id, r.enquiry_id) for r in rows] == [(subscriber.id, enquiry.id)]
    page = client.get(rsvp_path(invited)).get_data(as_text=True)
    assert "We will invite you to every exploration of this enquiry." in page
    assert button not in page
    assert "You will be invited to every exploration of this enquiry." in page

    # Someone not on the list is offered nothing, and the button's address refuses them.
    page = client.get(rsvp_path(stranger)).get_data(as_text=True)
    assert button not in page
    refused = client.post(rsvp_path(stranger) + "/standing")
    assert refused.status_code == 409
    assert "Only a subscriber" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(StandingInvitation)) == 1
    assert client.post("/rsvp/nonsense/standing").status_code == 404


def test_an_address_stored_with_capitals_is_offered_every_exploration_too(
    client: FlaskClient, make_event: Any, make_invitation: Any, make_subscriber: Any
) -> None:
    # The page reads the subscriber along with the invitation by the address as stored; one
    # stored with capitals is looked up normalised, as the mailing list stores it.
    make_subscriber(email="kofi@example.org")
    invited = make_invitation(event=make_event(), email="Kofi@Example.org")
    page = client.get(rsvp_path(invited)).get_data(as_text=True)
    assert "Invite me to every exploration in this enquiry</button>" in page


def test_the_invite_page_counts_the_standing_subscribers(
    logged_in: FlaskClient, make_enquiry: Any, make_event: Any, make_subscriber: Any
) -> None:
    enquiry = make_enquiry()
    event = make_event(enquiry=enquiry, access=EventAccess.OPEN, format=EventFormat.ONLINE)
    closed = make_event(enquiry=enquiry, access=EventAccess.INVITATION)
    online = make_subscriber(wants_in_person=False)
    room = make_subscriber(wants_online=False)
    for person in (online, room):
        _stand(person, enquiry)
    load_jobs()
    _run()

    page = logged_in.get(f"/manage/invitations/events/{event.id}/invite").get_data(as_text=True)
    assert "<strong>2 standing</strong>" in page
    assert "1 was invited to this event automatically" in page
    page = logged_in.get(f"/manage/invitations/events/{closed.id}/invite").get_data(as_text=True)
    assert "<strong>2 standing</strong>" in page
    assert "0 were invited" in page and "by invitation only" in page
    # The responses page tells who came through a standing invitation.
    page = logged_in.get(f"/manage/invitations/events/{event.id}/responses").get_data(as_text=True)
    assert f'{online.email} <span class="badge">standing</span>' in page


def test_two_workers_at_once_invite_each_person_once(
    app: Flask, make_enquiry: Any, make_event: Any, make_subscriber: Any, smtp: Any
) -> None:
    enquiry = make_enquiry()
    events = [make_event(enquiry=enquiry, access=EventAccess.OPEN) for _ in range(3)]
    people = [make_subscriber(email=f"p{n}@example.org") for n in range(20)]
    for person in people:
        _stand(person, enquiry)
    emails = [p.email for p in people]
    event_ids = {e.id for e in events}
    db.session.close()

    start = threading.Barrier(2)
    counts: list[int] = []
    failures: list[BaseException] = []

    def worker() -> None:
        with app.app_context():
            try:
                start.wait()
                counts.append(send_standing_invitations())
                db.session.commit()
            except BaseException as exc:  # noqa: BLE001  (reported below)
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert sum(counts) == 60
    deliver_due()
    invited = db.session.execute(
        select(Invitation.event_id, Invitation.email, func.count()).group_by(
            Invitation.event_id, Invitation.email
        )
    ).all()
    assert len(invited) == 60 and {n for _, _, n in invited} == {1}
    assert db.session.scalar(select(func.count()).select_from(StandingDelivery)) == 60
    queued = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "invitation")
    )
    assert queued == 60
    assert all(len(smtp.to(email)) == 3 for email in emails)
    assert event_ids == {i for i, _, _ in invited}
