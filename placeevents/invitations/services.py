"""Invitations and RSVPs: inviting, answering, exact capacity, the waiting list, reminders."""

import hmac
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from placeevents.audit.services import record
from placeevents.clock import utcnow
from placeevents.enquiries.models import Enquiry
from placeevents.events.models import Event, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations import mail
from placeevents.invitations.models import (
    AttendanceMode,
    EventMailing,
    Invitation,
    InvitationSource,
    MailingKind,
    Rsvp,
    RsvpAnswer,
)
from placeevents.mail.bounces import bounced_among
from placeevents.mail.outbox import enqueue
from placeevents.newsletter.links import extras_of, list_mail_extras_for
from placeevents.newsletter.models import DoNotInvite, Subscriber, SubscriberStatus
from placeevents.newsletter.services import suppressed_among
from placeevents.tokens import ExpiredToken, InvalidToken, read_token

if TYPE_CHECKING:
    from placeevents.auth.models import Organiser

# Links keep working until 30 days after the event, so notes shared later stay reachable.
LINK_LIFETIME_AFTER_EVENT = timedelta(days=30)
# A place freed this close to the start is offered, not given, so nobody is booked unawares.
OFFER_WINDOW = timedelta(hours=48)
OFFER_TIME = timedelta(hours=12)
REMIND_AGAIN_AFTER = timedelta(days=1)
# The largest reminder lead time an event can have; the job looks no further ahead.
MAX_REMINDER_LEAD = timedelta(days=14)


class InvitationError(Exception):
    """A rule of invitations or answers was broken; the message is for the person."""


class AnswersClosed(InvitationError):
    """Answers can no longer be changed (deadline passed, event over or cancelled)."""


class ModeNeeded(InvitationError):
    """A yes to a hybrid event must say whether the person comes in person or online."""


def normalise_email(email: str) -> str:
    """Addresses are compared stripped and lower-cased, as the mailing list stores them."""
    return email.strip().lower()


# --- tokens


def _with_event() -> list:
    return [
        joinedload(Invitation.event).joinedload(Event.enquiry),
        selectinload(Invitation.rsvp),
    ]


def invitation_for_token(*, token: str, purpose: str = mail.RSVP_PURPOSE) -> Invitation:
    """The invitation a link names; InvalidToken or ExpiredToken if it reaches none."""
    data = read_token(purpose, token)
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.id == data.row_id).options(*_with_event())
    )
    if invitation is None or not hmac.compare_digest(invitation.token_nonce, data.nonce):
        raise InvalidToken("this link is not valid")
    if invitation.event.status == EventStatus.DRAFT:
        raise InvalidToken("this link is not valid")
    if utcnow() > invitation.event.ends_at + LINK_LIFETIME_AFTER_EVENT:
        raise ExpiredToken("this link has expired")
    return invitation


def _lock(invitation: Invitation) -> Invitation:
    # Two answers from the same person at once are taken one after the other (PostgreSQL).
    db.session.execute(
        select(Invitation.id).where(Invitation.id == invitation.id).with_for_update()
    )
    db.session.refresh(invitation, ["rsvp"])
    return invitation


# --- capacity


def _take_place(event_id: int) -> bool:
    """Take one in-person place if one is left: exact under concurrency (one conditional UPDATE)."""
    table = Event.__table__
    result = db.session.execute(
        table.update()
        .where(
            table.c.id == event_id,
            sa.or_(table.c.capacity.is_(None), table.c.places_taken < table.c.capacity),
        )
        # A place changing hands is not an edit of the event.
        .values(places_taken=table.c.places_taken + 1, updated_at=table.c.updated_at)
    )
    return result.rowcount == 1


def _force_place(event_id: int) -> None:
    table = Event.__table__
    db.session.execute(
        table.update()
        .where(table.c.id == event_id)
        .values(places_taken=table.c.places_taken + 1, updated_at=table.c.updated_at)
    )


def _release_place(event_id: int) -> None:
    table = Event.__table__
    db.session.execute(
        table.update()
        .where(table.c.id == event_id, table.c.places_taken > 0)
        .values(places_taken=table.c.places_taken - 1, updated_at=table.c.updated_at)
    )


def _holds_place(rsvp: Rsvp | None) -> bool:
    return (
        rsvp is not None
        and rsvp.answer in (RsvpAnswer.YES, RsvpAnswer.OFFERED)
        and rsvp.mode == AttendanceMode.IN_PERSON
    )


def _refresh_places(event: Event) -> None:
    db.session.flush()
    db.session.expire(event, ["places_taken"])


def waitlist_position(rsvp: Rsvp) -> int:
    """1 for the first in line on the event's waiting list, and so on."""
    invitation = rsvp.invitation
    ahead = db.session.scalar(
        select(sa.func.count())
        .select_from(Rsvp)
        .join(Invitation)
        .where(
            Invitation.event_id == invitation.event_id,
            Rsvp.answer == RsvpAnswer.WAITLISTED,
            sa.or_(
                Rsvp.waitlisted_at < rsvp.waitlisted_at,
                sa.and_(Rsvp.waitlisted_at == rsvp.waitlisted_at, Rsvp.id < rsvp.id),
            ),
        )
    )
    return (ahead or 0) + 1


def promote_waitlist(event: Event) -> list[Invitation]:
    """Give freed in-person places to the first in line, telling each by mail.

    Within 48 hours of the start a place is offered, to accept within 12 hours. Call it
    whenever places free up, e.g. when the capacity is raised.
    """
    promoted: list[Invitation] = []
    now = utcnow()
    while _take_place(event.id):
        first = db.session.scalar(
            select(Rsvp)
            .join(Invitation)
            .where(
                Invitation.event_id == event.id,
                Rsvp.answer == RsvpAnswer.WAITLISTED,
                Rsvp.mode == AttendanceMode.IN_PERSON,
            )
            .order_by(Rsvp.waitlisted_at, Rsvp.id)
            .limit(1)
            .with_for_update(skip_locked=True, of=Rsvp)
        )
        if first is None:
            _release_place(event.id)
            break
        invitation = first.invitation
        if event.starts_at - now <= OFFER_WINDOW:
            first.answer = RsvpAnswer.OFFERED
            first.offer_expires_at = min(now + OFFER_TIME, event.starts_at)
            message = mail.build_waitlist_offer(invitation)
        else:
            first.answer = RsvpAnswer.YES
            first.waitlisted_at = None
            message = mail.build_rsvp_confirmation(invitation, promoted=True)
            _mark_reminded_if_due(invitation, now)
        db.session.flush()
        enqueue(message, kind="waitlist_promotion")
        promoted.append(invitation)
    _refresh_places(event)
    return promoted


# --- answering


@dataclass(frozen=True)
class Answer:
    """What someone answered on their RSVP page (or an organiser on their behalf)."""

    answer: RsvpAnswer
    mode: AttendanceMode | None = None
    wants_notes: bool = False
    access_needs: str = ""
    dietary_needs: str = ""
    question: str = ""


def _resolve_mode(event: Event, mode: AttendanceMode | None) -> AttendanceMode:
    if event.format == EventFormat.IN_PERSON:
        return AttendanceMode.IN_PERSON
    if event.format == EventFormat.ONLINE:
        return AttendanceMode.ONLINE
    if mode is None:
        raise ModeNeeded("Choose whether you will come in person or join online.")
    return mode


def can_change_answer(invitation: Invitation) -> bool:
    """Whether the invitee may still change their answer freely (before deadline and start)."""
    event = invitation.event
    now = utcnow()
    if event.status != EventStatus.PUBLISHED or now >= event.starts_at:
        return False
    return event.rsvp_deadline is None or now <= event.rsvp_deadline


def can_withdraw(invitation: Invitation) -> bool:
    """A person with a place or on the waiting list can always say no until the start."""
    rsvp = invitation.rsvp
    return (
        invitation.event.status == EventStatus.PUBLISHED
        and utcnow() < invitation.event.starts_at
        and rsvp is not None
        and rsvp.answer in (RsvpAnswer.YES, RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED)
    )


def _check_open(invitation: Invitation, answer: Answer) -> None:
    event = invitation.event
    if event.status == EventStatus.CANCELLED:
        raise AnswersClosed("This event has been cancelled, so answers are closed.")
    if can_change_answer(invitation):
        return
    if answer.answer == RsvpAnswer.NO and can_withdraw(invitation):
        return
    if utcnow() >= event.starts_at:
        raise AnswersClosed("This event has started, so answers are closed.")
    raise AnswersClosed(
        "The deadline for answers has passed. If you have a place you can still say no."
    )


def _mark_reminded_if_due(invitation: Invitation, now: datetime) -> None:
    # A confirmation sent inside the reminder window already is the reminder.
    event = invitation.event
    if now >= event.starts_at - timedelta(hours=event.reminder_lead_hours):
        invitation.event_reminder_sent_at = now


def _apply(
    invitation: Invitation,
    answer: Answer,
    *,
    organiser: "Organiser | None",
    overbook: bool,
) -> tuple[Rsvp, bool]:
    """Record an answer and move places; returns the Rsvp and whether a place was freed."""
    event = invitation.event
    now = utcnow()
    rsvp = invitation.rsvp
    if rsvp is None:
        rsvp = Rsvp(answer=answer.answer, invitation=invitation)
        db.session.add(rsvp)
    had_place = _holds_place(rsvp) if rsvp.id is not None else False
    was = rsvp.answer if rsvp.id is not None else None
    freed = False
    rsvp.wants_notes = answer.answer == RsvpAnswer.NO and answer.wants_notes
    rsvp.set_by_organiser_id = organiser.id if organiser is not None else None
    rsvp.answered_at = now

    if answer.answer == RsvpAnswer.YES:
        mode = _resolve_mode(event, answer.mode)
        rsvp.mode = mode
        rsvp.access_needs = answer.access_needs.strip() if event.ask_access_needs else ""
        rsvp.dietary_needs = answer.dietary_needs.strip() if event.ask_dietary_needs else ""
        rsvp.question = answer.question.strip() if event.ask_question else ""
        if mode == AttendanceMode.ONLINE:
            freed = had_place
            rsvp.answer = RsvpAnswer.YES
            rsvp.waitlisted_at = None
            rsvp.overbooked = False
        elif had_place:
            rsvp.answer = RsvpAnswer.YES
        elif was == RsvpAnswer.WAITLISTED and not overbook:
            rsvp.answer = RsvpAnswer.WAITLISTED
        elif _take_place(event.id):
            rsvp.answer = RsvpAnswer.YES
            rsvp.waitlisted_at = None
            rsvp.overbooked = False
        elif overbook:
            _force_place(event.id)
            rsvp.answer = RsvpAnswer.YES
            rsvp.waitlisted_at = None
            rsvp.overbooked = True
        else:
            rsvp.answer = RsvpAnswer.WAITLISTED
            rsvp.waitlisted_at = now
        if rsvp.answer == RsvpAnswer.YES:
            rsvp.offer_expires_at = None
            if was != RsvpAnswer.YES:
                _mark_reminded_if_due(invitation, now)
    else:
        freed = had_place
        rsvp.answer = answer.answer
        rsvp.mode = None
        rsvp.waitlisted_at = None
        rsvp.offer_expires_at = None
        rsvp.overbooked = False
        rsvp.access_needs = rsvp.dietary_needs = rsvp.question = ""
    if freed:
        _release_place(event.id)
    db.session.flush()
    return rsvp, freed


def _answer_mail(invitation: Invitation) -> EmailMessage:
    rsvp = invitation.rsvp
    assert rsvp is not None
    if rsvp.answer == RsvpAnswer.YES:
        return mail.build_rsvp_confirmation(invitation)
    if rsvp.answer == RsvpAnswer.WAITLISTED:
        return mail.build_waitlist_joined(invitation, position=waitlist_position(rsvp))
    return mail.build_rsvp_answer(invitation)


def answer_invitation(*, invitation: Invitation, answer: Answer) -> Rsvp:
    """The invitee answers: places are taken or freed exactly, and a confirmation is mailed."""
    if answer.answer not in (RsvpAnswer.YES, RsvpAnswer.MAYBE, RsvpAnswer.NO):
        raise InvitationError("Choose one of the answers.")
    _lock(invitation)
    _check_open(invitation, answer)
    if answer.answer == RsvpAnswer.YES and invitation.rsvp is not None:
        rsvp = invitation.rsvp
        if rsvp.answer == RsvpAnswer.OFFERED and rsvp.offer_expires_at is not None:
            if utcnow() >= rsvp.offer_expires_at:
                raise InvitationError("The offer of a place has lapsed and passed on.")
    rsvp, freed = _apply(invitation, answer, organiser=None, overbook=False)
    enqueue(_answer_mail(invitation), kind="rsvp")
    if freed:
        promote_waitlist(invitation.event)
    _refresh_places(invitation.event)
    return rsvp


def accept_offer(*, invitation: Invitation) -> Rsvp:
    """Accept a place offered from the waiting list, before the offer lapses."""
    _lock(invitation)
    rsvp = invitation.rsvp
    if rsvp is None or rsvp.answer != RsvpAnswer.OFFERED:
        raise InvitationError("There is no offer of a place waiting for you.")
    if rsvp.offer_expires_at is not None and utcnow() >= rsvp.offer_expires_at:
        raise InvitationError("The offer of a place has lapsed and passed on.")
    rsvp.answer = RsvpAnswer.YES
    rsvp.offer_expires_at = None
    rsvp.waitlisted_at = None
    rsvp.answered_at = utcnow()
    _mark_reminded_if_due(invitation, utcnow())
    db.session.flush()
    enqueue(mail.build_rsvp_confirmation(invitation), kind="rsvp")
    return rsvp


def set_answer_for(
    *,
    invitation: Invitation,
    answer: Answer,
    organiser: "Organiser",
    overbook: bool = False,
    notify: bool = True,
) -> Rsvp:
    """An organiser sets someone's answer (recorded); when full, a yes waits unless overbooked."""
    if answer.answer not in (RsvpAnswer.YES, RsvpAnswer.MAYBE, RsvpAnswer.NO):
        raise InvitationError("Choose one of the answers.")
    _lock(invitation)
    if invitation.event.status == EventStatus.CANCELLED:
        raise AnswersClosed("This event has been cancelled.")
    rsvp, freed = _apply(invitation, answer, organiser=organiser, overbook=overbook)
    detail = f"{invitation.email}: {rsvp.answer.value}"
    if rsvp.mode is not None:
        detail += f" ({rsvp.mode.value})"
    if rsvp.overbooked and overbook:
        detail += ", overbooked"
    record(action="rsvp.set_by_organiser", target=f"event:{invitation.event_id}", detail=detail)
    if notify:
        enqueue(_answer_mail(invitation), kind="rsvp")
    if freed:
        promote_waitlist(invitation.event)
    _refresh_places(invitation.event)
    return rsvp


def remove_invitation(*, invitation: Invitation, organiser: "Organiser") -> Event:
    """Remove someone from an event's list, freeing their place for the next in line."""
    _lock(invitation)
    event = invitation.event
    had_place = _holds_place(invitation.rsvp)
    record(
        action="invitation.removed",
        target=f"event:{event.id}",
        detail=invitation.email,
        organiser=organiser,
    )
    db.session.delete(invitation)
    db.session.flush()
    if had_place:
        _release_place(event.id)
        promote_waitlist(event)
    _refresh_places(event)
    return event


def expire_offers() -> int:
    """Lapse offers not accepted in time and pass each place on to the next in line."""
    now = utcnow()
    lapsed = db.session.scalars(
        select(Rsvp)
        .where(Rsvp.answer == RsvpAnswer.OFFERED, Rsvp.offer_expires_at <= now)
        .options(joinedload(Rsvp.invitation).joinedload(Invitation.event))
        .with_for_update(skip_locked=True, of=Rsvp)
    ).all()
    events: dict[int, Event] = {}
    for rsvp in lapsed:
        invitation = rsvp.invitation
        rsvp.answer = RsvpAnswer.NO
        rsvp.mode = None
        rsvp.offer_expires_at = None
        rsvp.waitlisted_at = None
        _release_place(invitation.event_id)
        db.session.flush()
        enqueue(mail.build_waitlist_lapsed(invitation), kind="waitlist_lapsed")
        events[invitation.event_id] = invitation.event
    for event in events.values():
        if event.status == EventStatus.PUBLISHED and utcnow() < event.starts_at:
            promote_waitlist(event)
    return len(lapsed)


# --- choosing recipients and inviting


@dataclass(frozen=True)
class PastedAddress:
    """One valid pasted line."""

    email: str
    name: str = ""


# `Name <address>` or `"Name" <address>`, as mail programs copy addresses.
_NAMED_ADDRESS = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>]*)>$")


def parse_pasted(text: str) -> tuple[list[PastedAddress], list[str]]:
    """Pasted lines (`email`, `name,email`, `Name <email>`) as addresses; an error per bad line."""
    found: list[PastedAddress] = []
    errors: list[str] = []
    for number, raw in enumerate((text or "").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        named = _NAMED_ADDRESS.match(line)
        if named:
            name, email = named["name"], named["email"]
        else:
            name, _, email = line.rpartition(",")
        name = name.strip().rstrip(",").strip().strip('"').strip()
        email = email.strip().strip("<>")
        try:
            checked = validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            errors.append(f"Line {number}: “{line[:80]}” is not an email address.")
            continue
        found.append(PastedAddress(email=normalise_email(checked.normalized), name=name[:200]))
    return found, errors


@dataclass(frozen=True)
class RecipientChoice:
    """Whom an organiser wants to invite."""

    subscribers: str = "none"  # "none", "all" or "interest"
    past_attendees: bool = False
    pasted: tuple[PastedAddress, ...] = ()


@dataclass(frozen=True)
class Recipient:
    """One person about to be invited."""

    email: str
    name: str
    source: InvitationSource
    organisation: str = ""
    role: str = ""
    subscriber_id: int | None = None


@dataclass
class RecipientPlan:
    """Who will be invited, and who is skipped and why."""

    recipients: list[Recipient] = field(default_factory=list)
    already_invited: int = 0
    skipped_bounced: int = 0
    skipped_do_not_invite: int = 0
    skipped_erased: int = 0

    @property
    def skipped(self) -> int:
        return self.skipped_bounced + self.skipped_do_not_invite + self.skipped_erased


def _subscriber_recipients(event: Event, which: str) -> list[Recipient]:
    if which not in ("all", "interest"):
        return []
    query = select(Subscriber).where(Subscriber.status == SubscriberStatus.CONFIRMED)
    if which == "interest":
        wants = {
            EventFormat.IN_PERSON: Subscriber.wants_in_person,
            EventFormat.ONLINE: Subscriber.wants_online,
            EventFormat.HYBRID: sa.or_(Subscriber.wants_in_person, Subscriber.wants_online),
        }[event.format]
        query = query.where(wants)
    return [
        Recipient(
            email=normalise_email(s.email),
            name=s.name,
            organisation=s.organisation,
            role=s.role,
            subscriber_id=s.id,
            source=InvitationSource.SUBSCRIBER,
        )
        for s in db.session.scalars(query.order_by(Subscriber.id))
    ]


def _attendee_recipients(event: Event) -> list[Recipient]:
    rows = db.session.execute(
        select(Invitation)
        .join(Rsvp)
        .join(Event, Invitation.event_id == Event.id)
        .where(
            Event.enquiry_id == event.enquiry_id,
            Event.id != event.id,
            Event.starts_at < event.starts_at,
            Rsvp.attended.is_(True),
        )
        .order_by(Event.starts_at.desc(), Invitation.id)
    ).scalars()
    return [
        Recipient(
            email=normalise_email(i.email),
            name=i.name,
            organisation=i.organisation,
            role=i.role,
            subscriber_id=i.subscriber_id,
            source=InvitationSource.ATTENDEE,
        )
        for i in rows
    ]


def plan_invitations(*, event: Event, choice: RecipientChoice) -> RecipientPlan:
    """Whom a choice reaches, once per address; the invited, bounced, erased and refused skipped."""
    candidates: dict[str, Recipient] = {}
    pasted = [
        Recipient(email=p.email, name=p.name, source=InvitationSource.PASTED) for p in choice.pasted
    ]
    sources = (
        _subscriber_recipients(event, choice.subscribers)
        + (_attendee_recipients(event) if choice.past_attendees else [])
        + pasted
    )
    for recipient in sources:
        candidates.setdefault(recipient.email, recipient)
    emails = list(candidates)
    plan = RecipientPlan()
    if not emails:
        return plan
    invited = set(
        db.session.scalars(select(Invitation.email).where(Invitation.event_id == event.id))
    )
    bounced = bounced_among(emails)
    refused = set(
        db.session.scalars(select(DoNotInvite.email).where(DoNotInvite.email.in_(emails)))
    )
    # The newsletter domain owns the suppression list and the hash an erasure leaves.
    erased = suppressed_among(emails)
    for email, recipient in candidates.items():
        if email in invited:
            plan.already_invited += 1
        elif email in erased:
            plan.skipped_erased += 1
        elif email in refused:
            plan.skipped_do_not_invite += 1
        elif email in bounced:
            plan.skipped_bounced += 1
        else:
            plan.recipients.append(recipient)
    return plan


def default_invitation_text(event: Event) -> tuple[str, str]:
    """The subject and text an invitation starts with, for the organiser to edit."""
    enquiry: Enquiry = event.enquiry
    subject = f"Invitation: {event.title}"
    # Titles stand on their own lines, so one ending in "?" never meets more punctuation.
    body = (
        f"We would like to invite you to this event:\n\n{event.title}\n\n"
        "It is part of our enquiry, a series of face-to-face and online explorations of "
        f"place-based leadership:\n\n{enquiry.title}\n\n"
        "Please let us know whether you can join us: your answer takes one click from the "
        "link below, and you can change it later."
    )
    return subject, body


@dataclass(frozen=True)
class InvitationPreview:
    """What one person would get, and whom the send would reach."""

    plan: RecipientPlan
    sample: Recipient | None
    message: EmailMessage


def invite_closed_reason(*, event: Event) -> str:
    """Why nobody can be invited to the event now, in words; "" when invitations can go."""
    if event.status == EventStatus.CANCELLED:
        return "This event has been cancelled, so nobody can be invited to it."
    if event.status == EventStatus.DRAFT:
        return "This event is a draft. Publish it before inviting people."
    now = utcnow()
    if now >= event.ends_at:
        return "This event is over, so nobody can be invited to it."
    if now >= event.starts_at:
        return "This event has already started, so nobody can be invited to it."
    return ""


def message_closed_reason(*, event: Event) -> str:
    """Why the people invited can't be written to now, in words; "" when they can."""
    if event.status == EventStatus.CANCELLED:
        return (
            "This event has been cancelled; everyone with a place was told so when it was "
            "cancelled."
        )
    if event.status == EventStatus.DRAFT:
        return "This event is a draft, so nobody has been invited to it yet."
    if utcnow() >= event.ends_at:
        return "This event is over. To send people what came of it, share the session notes."
    return ""


def _check_invitable(event: Event) -> None:
    reason = invite_closed_reason(event=event)
    if reason:
        raise InvitationError(reason)


def _stand_in(event: Event, sample: Any) -> Invitation:
    # An unsaved invitation with no working link: a preview never exposes anyone's own page.
    return Invitation(
        id=0,
        event=event,
        email=sample.email if sample else "someone@example.org",
        name=sample.name if sample else "",
        source=sample.source if sample else InvitationSource.PASTED,
        token_nonce="preview",
    )


def preview_invitation(
    *, event: Event, choice: RecipientChoice, subject: str, body: str
) -> InvitationPreview:
    """Exactly what the first recipient would get (nothing is stored)."""
    plan = plan_invitations(event=event, choice=choice)
    sample = plan.recipients[0] if plan.recipients else None
    message = mail.build_invitation(_stand_in(event, sample), subject=subject, body=body)
    return InvitationPreview(plan=plan, sample=sample, message=message)


def send_test_invitation(
    *, event: Event, organiser: "Organiser", subject: str, body: str
) -> EmailMessage:
    """Send the invitation as written to the organiser themselves."""
    message = mail.build_invitation_test(
        event, subject=subject, body=body, to_email=organiser.email, to_name=organiser.name
    )
    enqueue(message, kind="invitation_test")
    return message


def _new_batch_key(kind: MailingKind, event: Event) -> str:
    return f"{kind.value}-{event.id}-{secrets.token_hex(6)}"


def send_invitations(
    *,
    event: Event,
    choice: RecipientChoice,
    subject: str,
    body: str,
    organiser: "Organiser",
) -> EventMailing:
    """Invite everyone the choice reaches, once per person per event, as one outbox batch."""
    _check_invitable(event)
    plan = plan_invitations(event=event, choice=choice)
    now = utcnow()
    mailing = EventMailing(
        event=event,
        kind=MailingKind.INVITATION,
        batch_key=_new_batch_key(MailingKind.INVITATION, event),
        audience=_describe_choice(choice),
        subject=subject,
        body=body,
        recipients=len(plan.recipients),
        already_invited=plan.already_invited,
        skipped_bounced=plan.skipped_bounced,
        skipped_do_not_invite=plan.skipped_do_not_invite,
        skipped_erased=plan.skipped_erased,
        created_by_id=organiser.id,
    )
    invitations = [
        Invitation(
            event=event,
            email=r.email,
            name=r.name,
            organisation=r.organisation,
            role=r.role,
            subscriber_id=r.subscriber_id,
            source=r.source,
            invited_by_id=organiser.id,
            sent_at=now,
            # Known to have no answer yet: building their mail then asks the database nothing.
            rsvp=None,
        )
        for r in plan.recipients
    ]
    try:
        with db.session.begin_nested():
            db.session.add(mailing)
            db.session.add_all(invitations)
    except IntegrityError as exc:
        raise InvitationError(
            "Some of these people were invited at the same moment from elsewhere. "
            "Send again: nobody will be invited twice."
        ) from exc
    extras = list_mail_extras_for(i.email for i in invitations)
    for invitation in invitations:
        message = mail.build_invitation(
            invitation, subject=subject, body=body, extras=extras_of(extras, invitation.email)
        )
        enqueue(message, kind="invitation", batch_key=mailing.batch_key)
    record(
        action="invitations.sent",
        target=f"event:{event.id}",
        detail=f"{len(invitations)} invited; {plan.already_invited} already invited; "
        f"{plan.skipped} skipped",
        organiser=organiser,
    )
    return mailing


def _describe_choice(choice: RecipientChoice) -> str:
    parts = {
        "all": "all confirmed subscribers",
        "interest": "subscribers interested in this format",
    }
    described = [parts[choice.subscribers]] if choice.subscribers in parts else []
    if choice.past_attendees:
        described.append("people who attended earlier events")
    if choice.pasted:
        described.append(f"{len(choice.pasted)} pasted addresses")
    return "; ".join(described)[:200]


# --- organisers: reminders and messages


def remind_non_responders(
    *, event: Event, invitation_ids: Iterable[int], organiser: "Organiser"
) -> EventMailing:
    """Remind the chosen people who have not answered; nobody more than once a day."""
    wanted = set(invitation_ids)
    now = utcnow()
    candidates = db.session.scalars(
        select(Invitation)
        .where(Invitation.event_id == event.id, Invitation.id.in_(wanted))
        .options(*_with_event())
    ).all()
    unanswered = [i for i in candidates if i.rsvp is None]
    bounced = bounced_among(i.email for i in unanswered)
    extras = list_mail_extras_for(i.email for i in unanswered)
    mailing = EventMailing(
        event=event,
        kind=MailingKind.REMINDER,
        batch_key=_new_batch_key(MailingKind.REMINDER, event),
        audience="people who have not answered",
        created_by_id=organiser.id,
    )
    db.session.add(mailing)
    table = Invitation.__table__
    for invitation in unanswered:
        if invitation.email in bounced:
            mailing.skipped_bounced += 1
            continue
        # Claimed with a conditional update, so a double click cannot remind twice.
        claimed = db.session.execute(
            table.update()
            .where(
                table.c.id == invitation.id,
                sa.or_(
                    table.c.last_reminded_at.is_(None),
                    table.c.last_reminded_at <= now - REMIND_AGAIN_AFTER,
                ),
            )
            .values(last_reminded_at=now)
        ).rowcount
        if not claimed:
            mailing.skipped_recent += 1
            continue
        enqueue(
            mail.build_answer_reminder(invitation, extras=extras_of(extras, invitation.email)),
            kind="answer_reminder",
            batch_key=mailing.batch_key,
        )
        mailing.recipients += 1
    db.session.flush()
    record(
        action="invitations.reminded",
        target=f"event:{event.id}",
        detail=f"{mailing.recipients} reminded; {mailing.skipped_recent} reminded in the last day",
        organiser=organiser,
    )
    return mailing


AUDIENCES = {
    "confirmed": ("the confirmed", (RsvpAnswer.YES,)),
    "waitlisted": ("the waiting list", (RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED)),
    "everyone": ("everyone invited", None),
}


@dataclass
class MessagePlan:
    """Whom a message to an audience reaches, and how many bounced addresses it skips."""

    label: str
    recipients: list[Invitation]
    skipped_bounced: int = 0


def plan_message(*, event: Event, audience: str) -> MessagePlan:
    """The people a message to the chosen audience would reach (nothing is stored)."""
    reason = message_closed_reason(event=event)
    if reason:
        raise InvitationError(reason)
    if audience not in AUDIENCES:
        raise InvitationError("Choose whom to write to.")
    label, answers = AUDIENCES[audience]
    query = select(Invitation).where(Invitation.event_id == event.id).options(*_with_event())
    if answers is not None:
        query = query.join(Rsvp).where(Rsvp.answer.in_(answers))
    invitations = db.session.scalars(query.order_by(Invitation.id)).all()
    bounced = bounced_among(i.email for i in invitations)
    return MessagePlan(
        label=label,
        recipients=[i for i in invitations if i.email not in bounced],
        skipped_bounced=sum(1 for i in invitations if i.email in bounced),
    )


@dataclass(frozen=True)
class MessagePreview:
    """How many people a message would reach, and what the first of them would get."""

    plan: MessagePlan
    sample: Invitation | None
    message: EmailMessage


def preview_message(*, event: Event, audience: str, subject: str, body: str) -> MessagePreview:
    """The message as the first recipient would get it, and how many would (nothing is stored)."""
    plan = plan_message(event=event, audience=audience)
    sample = plan.recipients[0] if plan.recipients else None
    message = mail.build_attendee_message(_stand_in(event, sample), subject=subject, body=body)
    return MessagePreview(plan=plan, sample=sample, message=message)


def send_test_message(
    *, event: Event, organiser: "Organiser", subject: str, body: str
) -> EmailMessage:
    """Send a message to attendees, as written, to the organiser themselves."""
    message = mail.build_attendee_message_test(
        event, subject=subject, body=body, to_email=organiser.email, to_name=organiser.name
    )
    enqueue(message, kind="attendee_message_test")
    return message


def message_attendees(
    *, event: Event, audience: str, subject: str, body: str, organiser: "Organiser"
) -> EventMailing:
    """Write to the confirmed, the waiting list, or everyone invited to an event."""
    plan = plan_message(event=event, audience=audience)
    mailing = EventMailing(
        event=event,
        kind=MailingKind.MESSAGE,
        batch_key=_new_batch_key(MailingKind.MESSAGE, event),
        audience=plan.label,
        subject=subject,
        body=body,
        created_by_id=organiser.id,
        skipped_bounced=plan.skipped_bounced,
    )
    db.session.add(mailing)
    extras = list_mail_extras_for(i.email for i in plan.recipients)
    for invitation in plan.recipients:
        message = mail.build_attendee_message(
            invitation, subject=subject, body=body, extras=extras_of(extras, invitation.email)
        )
        enqueue(message, kind="attendee_message", batch_key=mailing.batch_key)
        mailing.recipients += 1
    db.session.flush()
    record(
        action="invitations.message",
        target=f"event:{event.id}",
        detail=f"to {plan.label}: {mailing.recipients} sent; “{subject[:100]}”",
        organiser=organiser,
    )
    return mailing


def send_event_reminders() -> int:
    """Remind confirmed attendees of events starting within their lead time, once each."""
    now = utcnow()
    events = db.session.scalars(
        select(Event)
        .where(
            Event.status == EventStatus.PUBLISHED,
            Event.reminder_sent_at.is_(None),
            Event.starts_at > now,
            Event.starts_at <= now + MAX_REMINDER_LEAD,
        )
        .options(joinedload(Event.enquiry))
    ).all()
    sent = 0
    table = Invitation.__table__
    for event in events:
        if now < event.starts_at - timedelta(hours=event.reminder_lead_hours):
            continue
        invitations = db.session.scalars(
            select(Invitation)
            .join(Rsvp)
            .where(
                Invitation.event_id == event.id,
                Rsvp.answer == RsvpAnswer.YES,
                Invitation.event_reminder_sent_at.is_(None),
            )
            .options(selectinload(Invitation.rsvp))
            .order_by(Invitation.id)
        ).all()
        bounced = bounced_among(i.email for i in invitations)
        extras = list_mail_extras_for(i.email for i in invitations)
        for invitation in invitations:
            if invitation.email in bounced:
                continue
            # Each person is claimed with a conditional update, so two workers send once.
            claimed = db.session.execute(
                table.update()
                .where(table.c.id == invitation.id, table.c.event_reminder_sent_at.is_(None))
                .values(event_reminder_sent_at=now)
            ).rowcount
            if claimed:
                message = mail.build_event_reminder(
                    invitation, extras=extras_of(extras, invitation.email)
                )
                enqueue(message, kind="event_reminder")
                sent += 1
        event.reminder_sent_at = now
        db.session.flush()
    return sent


# --- the public side


def request_place(*, event: Event, name: str, email: str) -> Invitation:
    """Request a place on an open event: mail the address the link to its own RSVP page."""
    if not event.accepts_requests:
        raise InvitationError("This event is not open for requests.")
    email = normalise_email(email)
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.event_id == event.id, Invitation.email == email)
    )
    if invitation is None:
        invitation = Invitation(
            event=event, email=email, name=name.strip()[:200], source=InvitationSource.REQUEST
        )
        try:
            with db.session.begin_nested():
                db.session.add(invitation)
        except IntegrityError:
            # The same address asked twice at once: the other request made the invitation.
            invitation = db.session.scalars(
                select(Invitation).where(Invitation.event_id == event.id, Invitation.email == email)
            ).one()
    invitation.sent_at = utcnow()
    if email not in bounced_among([email]):
        enqueue(mail.build_request_place(invitation), kind="request_place")
    db.session.flush()
    return invitation


def send_fresh_links(*, email: str) -> int:
    """Mail an address fresh links to every RSVP page it can still reach; how many."""
    email = normalise_email(email)
    now = utcnow()
    invitations = db.session.scalars(
        select(Invitation)
        .join(Event, Invitation.event_id == Event.id)
        .where(
            Invitation.email == email,
            Event.status != EventStatus.DRAFT,
            Event.ends_at > now - LINK_LIFETIME_AFTER_EVENT,
        )
        .options(*_with_event())
        .order_by(Event.starts_at)
    ).all()
    if not invitations or email in bounced_among([email]):
        return 0
    enqueue(mail.build_fresh_links(email, invitations), kind="rsvp_fresh_link")
    return len(invitations)


def stop_invitations(*, invitation: Invitation) -> DoNotInvite:
    """Record that an address wants no more invitations."""
    email = normalise_email(invitation.email)
    existing = db.session.scalar(select(DoNotInvite).where(DoNotInvite.email == email))
    if existing is not None:
        return existing
    entry = DoNotInvite(email=email)
    try:
        with db.session.begin_nested():
            db.session.add(entry)
    except IntegrityError:
        entry = db.session.scalars(select(DoNotInvite).where(DoNotInvite.email == email)).one()
    return entry


def is_stopped(email: str) -> bool:
    """Whether an address has asked not to be invited."""
    return (
        db.session.scalar(select(DoNotInvite.id).where(DoNotInvite.email == normalise_email(email)))
        is not None
    )


# --- the responses dashboard


@dataclass
class Responses:
    """An event's invitations and answers, counted, with waiting-list positions."""

    event: Event
    invitations: list[Invitation]
    counts: Counter[str]
    positions: dict[int, int]
    mailings: list[EventMailing]

    @property
    def unanswered(self) -> list[Invitation]:
        return [i for i in self.invitations if i.rsvp is None]

    @property
    def waitlist(self) -> list[Invitation]:
        return sorted(
            (i for i in self.invitations if i.id in self.positions),
            key=lambda i: self.positions[i.id],
        )

    def answers_to(self, attribute: str) -> list[Invitation]:
        return [
            i
            for i in self.invitations
            if i.rsvp is not None
            and i.rsvp.answer in (RsvpAnswer.YES, RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED)
            and getattr(i.rsvp, attribute)
        ]


def responses(*, event_id: int) -> Responses:
    """Everything the responses dashboard shows, in a fixed number of queries."""
    event = db.session.scalar(
        select(Event).where(Event.id == event_id).options(joinedload(Event.enquiry))
    )
    if event is None:
        raise InvitationError("No such event.")
    invitations = list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.event_id == event.id)
            .options(joinedload(Invitation.rsvp))
            .order_by(sa.func.lower(Invitation.name), Invitation.email)
        ).unique()
    )
    counts: Counter[str] = Counter(invited=len(invitations))
    waiting: list[Rsvp] = []
    for invitation in invitations:
        rsvp = invitation.rsvp
        if rsvp is None:
            counts["unanswered"] += 1
            continue
        if rsvp.answer == RsvpAnswer.YES:
            mode = rsvp.mode.value if rsvp.mode is not None else "in_person"
            counts[f"yes_{mode}"] += 1
            counts["yes"] += 1
        else:
            counts[rsvp.answer.value] += 1
        if rsvp.answer == RsvpAnswer.NO and rsvp.wants_notes:
            counts["wants_notes"] += 1
        if rsvp.answer == RsvpAnswer.WAITLISTED:
            waiting.append(rsvp)
    waiting.sort(key=lambda r: (r.waitlisted_at or datetime.max.replace(tzinfo=UTC), r.id))
    positions = {r.invitation_id: n for n, r in enumerate(waiting, 1)}
    mailings = list(
        db.session.scalars(
            select(EventMailing)
            .where(EventMailing.event_id == event.id)
            .order_by(EventMailing.created_at.desc(), EventMailing.id.desc())
            .limit(10)
        )
    )
    return Responses(event, invitations, counts, positions, mailings)


def get_event(*, event_id: int) -> Event:
    """An event for the organiser pages, with its enquiry."""
    event = db.session.scalar(
        select(Event).where(Event.id == event_id).options(joinedload(Event.enquiry))
    )
    if event is None:
        raise InvitationError("No such event.")
    return event


def get_invitation(*, invitation_id: int) -> Invitation:
    """An invitation for the organiser pages, with its event and answer."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.id == invitation_id).options(*_with_event())
    )
    if invitation is None:
        raise InvitationError("No such invitation.")
    return invitation


def get_mailing(*, event_id: int, mailing_id: int) -> EventMailing:
    """A bulk send of an event, for its progress page."""
    mailing = db.session.scalar(
        select(EventMailing)
        .where(EventMailing.id == mailing_id, EventMailing.event_id == event_id)
        .options(joinedload(EventMailing.event).joinedload(Event.enquiry))
    )
    if mailing is None:
        raise InvitationError("No such send.")
    return mailing


def mode_choices(event: Event) -> Sequence[AttendanceMode]:
    """The ways someone can attend an event."""
    if event.format == EventFormat.HYBRID:
        return (AttendanceMode.IN_PERSON, AttendanceMode.ONLINE)
    if event.format == EventFormat.ONLINE:
        return (AttendanceMode.ONLINE,)
    return (AttendanceMode.IN_PERSON,)


def answer_counts(*, event_ids: Iterable[int]) -> dict[int, Counter[str]]:
    """Per event: invited, yes, waitlisted (with offers), maybe, no, unanswered; one query."""
    ids = list(event_ids)
    counts: dict[int, Counter[str]] = {event_id: Counter() for event_id in ids}
    if not ids:
        return counts
    rows = db.session.execute(
        select(Invitation.event_id, Rsvp.answer, sa.func.count())
        .outerjoin(Rsvp, Rsvp.invitation_id == Invitation.id)
        .where(Invitation.event_id.in_(ids))
        .group_by(Invitation.event_id, Rsvp.answer)
    ).all()
    for event_id, answer, n in rows:
        tally = counts[event_id]
        tally["invited"] += n
        if answer is None:
            tally["unanswered"] += n
        elif answer in (RsvpAnswer.WAITLISTED, RsvpAnswer.OFFERED):
            tally["waitlisted"] += n
        else:
            tally[answer.value] += n
    return counts
