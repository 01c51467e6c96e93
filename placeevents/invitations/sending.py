"""Inviting people to an event: choosing recipients, previews and test sends, the invitation
batch, and fresh links for the public (registration is in invitations.registration)."""

import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from placeevents.addresses import normalise_email
from placeevents.audit.services import record
from placeevents.clock import utcnow
from placeevents.enquiries.models import Enquiry
from placeevents.events.models import Event, EventStatus
from placeevents.extensions import db
from placeevents.invitations import mail
from placeevents.invitations.errors import InvitationError
from placeevents.invitations.models import (
    EventMailing,
    Invitation,
    InvitationSource,
    MailingKind,
    Rsvp,
)
from placeevents.invitations.responses import LINK_LIFETIME_AFTER_EVENT, with_event
from placeevents.mail.bounces import bounced_among
from placeevents.mail.outbox import enqueue
from placeevents.mail.requests import QueuedRequest, mail_request_handler, request_mail
from placeevents.newsletter.links import extras_of, list_mail_extras_for
from placeevents.newsletter.services import (
    do_not_invite_among,
    invitable_subscribers,
    is_suppressed,
    suppressed_among,
)
from placeevents.text import one_line

if TYPE_CHECKING:
    from placeevents.auth.models import Organiser

PLACE_REQUEST = "invitations.request_place"
FRESH_LINKS_REQUEST = "invitations.fresh_links"


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
        # A name goes into a To header: one line, no control characters.
        name = " ".join(one_line(name).split()).rstrip(",").strip().strip('"').strip()
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

    @property
    def by_source(self) -> list[tuple[str, int]]:
        """How many of those to be invited each source brings (a person counts once, under the
        first source that reached them): subscribers, past attendees, pasted."""
        labels = {
            InvitationSource.SUBSCRIBER: "Subscribers",
            InvitationSource.ATTENDEE: "People who came to earlier events",
            InvitationSource.PASTED: "Pasted addresses",
        }
        counts = Counter(r.source for r in self.recipients)
        return [(label, counts[source]) for source, label in labels.items() if counts[source]]


def _subscriber_recipients(event: Event, which: str) -> list[Recipient]:
    if which not in ("all", "interest"):
        return []
    # Everyone the choice reaches: plan_invitations counts the ones it skips, and why.
    subscribers = invitable_subscribers(
        in_person=event.has_place,
        online=event.is_online,
        any_interest=which == "all",
        with_excluded=True,
    )
    return [
        Recipient(
            email=normalise_email(s.email),
            name=s.name,
            organisation=s.organisation,
            role=s.role,
            subscriber_id=s.id,
            source=InvitationSource.SUBSCRIBER,
        )
        for s in subscribers
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
    refused = do_not_invite_among(emails)
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


def _check_invitable(event: Event) -> None:
    reason = invite_closed_reason(event=event)
    if reason:
        raise InvitationError(reason)


def stand_in(event: Event, sample: Any) -> Invitation:
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
    message = mail.build_invitation(stand_in(event, sample), subject=subject, body=body)
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


def new_batch_key(kind: MailingKind, event: Event) -> str:
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
        batch_key=new_batch_key(MailingKind.INVITATION, event),
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
        enqueue(message, kind="invitation", batch_key=mailing.batch_key, bulk=True)
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


@mail_request_handler(PLACE_REQUEST)
def _answer_place_request(request: QueuedRequest) -> None:
    """Answer a request for a place queued before registration became one form: invite the
    address (once per event) and mail it its link; nothing for an address erased at the
    person's request, or once the event no longer takes requests.

    Nothing queues these any more; the handler stays so requests still waiting in a queue when
    the change is deployed are answered, and may go once no `mail_request` row of this kind is
    left anywhere.
    """
    email = request.email
    event = db.session.get(Event, request.payload["event_id"])
    if event is None or not event.accepts_requests or is_suppressed(email):
        return
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.event_id == event.id, Invitation.email == email)
    )
    if invitation is None:
        invitation = Invitation(
            event=event, email=email, name=request.payload["name"],
            source=InvitationSource.REQUEST,
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


def send_fresh_links(*, email: str) -> None:
    """Queue a request for fresh links to every RSVP page the address can still reach; the
    worker mails them if there are any (see _answer_fresh_links)."""
    request_mail(kind=FRESH_LINKS_REQUEST, email=normalise_email(email))


@mail_request_handler(FRESH_LINKS_REQUEST)
def _answer_fresh_links(request: QueuedRequest) -> None:
    email = request.email
    now = utcnow()
    invitations = db.session.scalars(
        select(Invitation)
        .join(Event, Invitation.event_id == Event.id)
        .where(
            Invitation.email == email,
            Event.status != EventStatus.DRAFT,
            Event.ends_at > now - LINK_LIFETIME_AFTER_EVENT,
        )
        .options(*with_event())
        .order_by(Event.starts_at)
    ).all()
    if not invitations or email in bounced_among([email]):
        return
    enqueue(mail.build_fresh_links(email, invitations), kind="rsvp_fresh_link")
