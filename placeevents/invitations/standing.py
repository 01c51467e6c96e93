"""Standing invitations: the worker invites subscribers who asked to be invited to every
exploration of an enquiry (newsletter.standing keeps their choices) to each of its events.

Each (event, subscriber) is handled once, recorded in StandingDelivery under a unique
constraint: a removal by an organiser, a "no" or a second worker running at the same moment
never brings a second invitation.
"""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from placeevents.audit.services import record
from placeevents.clock import utcnow
from placeevents.events.models import Event, EventAccess, EventStatus
from placeevents.extensions import db
from placeevents.invitations import mail
from placeevents.invitations.models import (
    EventMailing,
    Invitation,
    InvitationSource,
    MailingKind,
    StandingDelivery,
)
from placeevents.invitations.sending import default_invitation_text, new_batch_key
from placeevents.mail.outbox import enqueue_all
from placeevents.newsletter import standing as newsletter_standing
from placeevents.newsletter.links import extras_of, list_mail_extras_for
from placeevents.newsletter.models import Subscriber
from placeevents.newsletter.services import standing_subscribers

AUDIENCE = "subscribers invited to every exploration of the enquiry"
# People handled per run: each costs a few milliseconds (mostly building its mail), and one run
# is one transaction, which on SQLite holds every other writer back; the next run goes on.
BATCH = 200


def standing_events() -> list[Event]:
    """The events a standing invitation reaches now: published, open to requests (not by
    invitation only) and not yet started, in enquiries someone stands invited to."""
    enquiry_ids = newsletter_standing.enquiries_with_standing()
    if not enquiry_ids:
        return []
    return list(
        db.session.scalars(
            select(Event)
            .where(
                Event.enquiry_id.in_(enquiry_ids),
                Event.status == EventStatus.PUBLISHED,
                Event.access == EventAccess.OPEN,
                Event.starts_at > utcnow(),
            )
            .order_by(Event.id)
        )
    )


def send_standing_invitations(*, limit: int = BATCH) -> int:
    """Invite standing subscribers not yet handled to the events they reach, at most `limit`
    people handled in one go (the next run carries on); how many were invited."""
    invited = 0
    for event in standing_events():
        if limit <= 0:
            break
        done, handled = _invite_standing(event, limit)
        invited += done
        limit -= handled
    return invited


def _new_invitation(event: Event, subscriber: Subscriber) -> Invitation:
    return Invitation(
        event=event,
        email=subscriber.email,
        name=subscriber.name,
        organisation=subscriber.organisation,
        role=subscriber.role,
        subscriber_id=subscriber.id,
        source=InvitationSource.STANDING,
        sent_at=utcnow(),
        # Known to have no answer yet: building their mail then asks the database nothing.
        rsvp=None,
    )


def _claim(event: Event, subscriber: Subscriber, invitation: Invitation | None) -> bool:
    """Record the (event, subscriber) as handled, with its invitation if any; False when
    another worker (or an organiser's send) got there first."""
    try:
        with db.session.begin_nested():
            db.session.add(
                StandingDelivery(
                    event_id=event.id, subscriber_id=subscriber.id, invited=invitation is not None
                )
            )
            if invitation is not None:
                db.session.add(invitation)
    except IntegrityError:
        return False
    return True


def _invite_standing(event: Event, limit: int) -> tuple[int, int]:
    """Invite the event's standing subscribers not yet handled, at most `limit` of them: how
    many were invited, and how many handled."""
    # Those handled before are left out in SQL, so a run with nothing new to do reads no one.
    waiting = standing_subscribers(
        enquiry_id=event.enquiry_id,
        in_person=event.has_place,
        online=event.is_online,
        handled=select(StandingDelivery.subscriber_id).where(StandingDelivery.event_id == event.id),
    )[:limit]
    if not waiting:
        return 0, 0
    invited_emails = set(
        db.session.scalars(
            select(Invitation.email).where(
                Invitation.event_id == event.id, Invitation.email.in_([s.email for s in waiting])
            )
        )
    )
    # In subscriber order, as every worker goes: two at once wait on each other, never deadlock.
    invitations: list[Invitation] = []
    already = 0
    for subscriber in waiting:
        known = subscriber.email in invited_emails
        invitation = None if known else _new_invitation(event, subscriber)
        if not _claim(event, subscriber, invitation):
            continue
        if invitation is None:
            already += 1
        else:
            invitations.append(invitation)
    if not invitations:
        return 0, already
    subject, body = default_invitation_text(event)
    mailing = EventMailing(
        event=event,
        kind=MailingKind.INVITATION,
        batch_key=new_batch_key(MailingKind.INVITATION, event),
        audience=AUDIENCE,
        subject=subject,
        body=body,
        recipients=len(invitations),
        already_invited=already,
    )
    db.session.add(mailing)
    db.session.flush()
    extras = list_mail_extras_for(i.email for i in invitations)
    messages = [
        mail.build_invitation(
            invitation, subject=subject, body=body, extras=extras_of(extras, invitation.email)
        )
        for invitation in invitations
    ]
    enqueue_all(messages, kind="invitation", batch_key=mailing.batch_key, bulk=True)
    record(
        action="invitations.standing_sent",
        target=f"event:{event.id}",
        detail=f"{len(invitations)} invited, as they asked to be invited to every exploration",
    )
    return len(invitations), len(invitations) + already


@dataclass(frozen=True)
class StandingCount:
    """For the organiser's invite page: how many stand invited to every exploration of the
    event's enquiry, and how many of them the worker invited to this event."""

    standing: int
    invited: int


def standing_count(*, event: Event) -> StandingCount:
    """How many subscribers have a standing invitation for the event's enquiry, and how many
    were invited to this event automatically (two queries)."""
    invited = db.session.scalar(
        select(func.count()).where(
            Invitation.event_id == event.id, Invitation.source == InvitationSource.STANDING
        )
    )
    return StandingCount(
        standing=newsletter_standing.count(enquiry_id=event.enquiry_id), invited=invited or 0
    )
