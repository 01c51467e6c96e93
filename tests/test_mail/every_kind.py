"""One message of every kind the app sends, as queued in the outbox, by its mail template.

Built through the services in an app context with an empty schema (the hostile tests' world:
the demo enquiry and what it lacks), so the mail tests and benchmarks/mail_scores.py judge the
same messages. A mail template with no message here fails test_every_kind_of_mail_is_built.
"""

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
import time_machine

from placeevents.extensions import db
from placeevents.mail.models import OutboxMessage


def _newest_id() -> int:
    return db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0


def _queued_by(action: Callable[[], object]) -> list[OutboxMessage]:
    """The outbox rows the action queued (mail requests answered on the way)."""
    from placeevents.mail.requests import answer_due_requests

    before = _newest_id()
    action()
    answer_due_requests(should_stop=lambda: False)
    db.session.flush()
    return list(
        db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.id > before).order_by(OutboxMessage.id)
        )
    )


def _one(rows: list[OutboxMessage], kind: str, to: str | None = None) -> OutboxMessage:
    found = [r for r in rows if r.kind == kind and (to is None or to in r.recipients.split())]
    assert found, (kind, to, [(r.kind, r.recipients) for r in rows])
    return found[0]


def every_kind_of_mail() -> dict[str, OutboxMessage]:
    """One queued message of each mail template the app sends, keyed by the template's name."""
    from placeevents.auth import services as auth
    from placeevents.auth.models import Organiser
    from placeevents.events.models import Event
    from placeevents.events.services import cancel_event
    from placeevents.invitations import event_changes, messages, registration, sending, several
    from placeevents.invitations.attendance import answers
    from placeevents.invitations.models import Invitation, Rsvp, RsvpAnswer
    from placeevents.news import jobs as news_jobs
    from placeevents.news import services as news
    from placeevents.news.models import Newsletter
    from placeevents.newsletter import services as newsletter
    from placeevents.newsletter.links import CONFIRM, token_for
    from placeevents.newsletter.models import Subscriber, SubscriberStatus
    from placeevents.notes.services import share_notes
    from tests.test_hostile.conftest import build_world

    world = build_world()
    db.session.flush()
    built = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
    found = {
        "team_invitation": _one(built, "team-invitation"),
        "invitation": _one(built, "invitation"),
        "rsvp_confirmation": _one(built, "rsvp", "first@example.org"),
        "waitlist_joined": _one(built, "rsvp", "second@example.org"),
        "waitlist_offer": _one(built, "waitlist_promotion"),
    }

    def by_email(model: type, email: str) -> object:
        return db.session.scalars(sa.select(model).where(model.email == email)).one()

    organiser = by_email(Organiser, "organiser@example.org")
    event = db.session.get(Event, world.ids["event_id"][0])
    past = db.session.get(Event, world.ids["event_id"][2])
    small = db.session.scalars(sa.select(Event).where(Event.slug == "small-room")).one()
    pat = by_email(Invitation, "pat@example.org")
    unanswered = db.session.scalars(
        sa.select(Invitation)
        .outerjoin(Rsvp)
        .where(Invitation.event_id == event.id, Rsvp.id.is_(None), Invitation.id != pat.id)
        .order_by(Invitation.id)
    ).first()
    assert unanswered is not None

    said_no = _queued_by(
        lambda: answers.answer_invitation(
            invitation=unanswered, answer=answers.Answer(answer=RsvpAnswer.NO)
        )
    )
    found["rsvp_answer"] = _one(said_no, "rsvp")
    found["reminder_answer"] = _one(
        _queued_by(
            lambda: messages.remind_non_responders(
                event=event, invitation_ids=[pat.id], organiser=organiser
            )
        ),
        "answer_reminder",
    )
    found["invitation_message"] = _one(
        _queued_by(
            lambda: messages.message_attendees(
                event=event, audience="everyone", subject="Directions",
                body="The entrance is on the left.", organiser=organiser,
            )
        ),
        "attendee_message",
    )  # fmt: skip
    found["note_share"] = _one(_queued_by(lambda: share_notes(event=past)), "note_share")
    found["request_place"] = _one(
        _queued_by(
            # An address already invited that registers again is mailed its own link.
            lambda: registration.register(
                event=small, name="First", email="first@example.org"
            )
        ),
        "request_place",
    )
    found["answers_summary"] = _one(
        _queued_by(
            # Registered for several open events at once: one summary (here, a waiting list).
            lambda: several.register_several(
                enquiry=small.enquiry, name="Sam Several", email="sam@example.org",
                choices={small.id: None},
            )
        ),
        "registration",
    )  # fmt: skip
    found["rsvp_fresh_link"] = _one(
        _queued_by(lambda: sending.send_fresh_links(email="pat@example.org")), "rsvp_fresh_link"
    )
    details = newsletter.Details(name="Ada Lovelace", interests=newsletter.Interests(news=True))
    found["newsletter_confirm"] = _one(
        _queued_by(lambda: newsletter.request_signup(email="ada@example.org", details=details)),
        "newsletter_confirm",
    )
    confirmed = db.session.scalars(
        sa.select(Subscriber)
        .where(Subscriber.status == SubscriberStatus.CONFIRMED)
        .order_by(Subscriber.id)
    ).first()
    assert confirmed is not None
    found["newsletter_already_subscribed"] = _one(
        _queued_by(lambda: newsletter.request_signup(email=confirmed.email, details=details)),
        "newsletter_already_subscribed",
    )
    ada = by_email(Subscriber, "ada@example.org")
    found["newsletter_welcome"] = _one(
        _queued_by(
            lambda: newsletter.confirm_subscription(
                token=token_for(CONFIRM, ada), ip="127.0.0.1"
            )
        ),
        "newsletter_welcome",
    )
    found["password_reset"] = _one(
        _queued_by(lambda: auth.request_password_reset(email="forgot@example.org")),
        "password-reset",
    )
    moving = by_email(Organiser, "moving@example.org")
    found["email_change"] = _one(
        _queued_by(
            lambda: auth.request_email_change(organiser=moving, new_email="moved2@example.org")
        ),
        "email-change",
    )
    draft = db.session.get(Newsletter, world.ids["newsletter_id"][0])
    found["news"] = _one(
        _queued_by(
            lambda: (news.send_now(newsletter=draft, organiser=organiser), news_jobs.run_sends())
        ),
        "news_news",
    )
    found["reminder_event"] = _one(
        _queued_by(
            lambda: _at(small.starts_at - timedelta(hours=1), messages.send_event_reminders)
        ),
        "event_reminder",
    )
    found["waitlist_lapsed"] = _one(
        _queued_by(lambda: _at(small.starts_at + timedelta(minutes=1), answers.expire_offers)),
        "waitlist_lapsed",
    )
    changed = _queued_by(
        lambda: (
            event_changes.queue_event_update(event, change_summary="The room changed."),
            event_changes.queue_change_notices(event, change_summary="The room changed."),
        )
    )
    found["calendar_update"] = _one(changed, "calendar_update")
    found["event_changed"] = _one(changed, "event_changed")
    cancelled = _queued_by(
        lambda: event_changes.announce_cancellation(
            event=event, message=cancel_event(event=event, message="Snowed in. Sorry.")
        )
    )
    found["calendar_cancellation"] = _one(cancelled, "calendar_cancellation")
    found["event_cancelled"] = _one(cancelled, "event_cancelled")
    return found


def _at(when: object, action: Callable[[], object]) -> object:
    with time_machine.travel(when, tick=False):
        return action()
