"""The mailing list's use cases: signup, confirmation, preferences, unsubscribe and lists.

Other domains may call find_subscriber, is_suppressed, suppressed_among, invitable_subscribers,
add_do_not_invite, is_do_not_invite, do_not_invite_among, count_audience, audience_batch,
standing_subscribers, standing_offer and ask_standing_for_address.
"""

import hashlib
import secrets
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, false, func, or_, select
from sqlalchemy.exc import IntegrityError

from placeevents.addresses import normalise_email
from placeevents.audit.services import Target, record
from placeevents.clock import utcnow
from placeevents.enquiries.models import Enquiry, EnquiryStatus
from placeevents.enquiries.services import current_enquiry
from placeevents.enquiries.timezones import to_local
from placeevents.extensions import db
from placeevents.mail.bounces import bounced_addresses, bounced_among
from placeevents.mail.outbox import address, build_message, enqueue, render_email
from placeevents.mail.requests import QueuedRequest, mail_request_handler, request_mail
from placeevents.newsletter import links, standing
from placeevents.newsletter.models import (
    ConsentSource,
    DoNotInvite,
    Subscriber,
    SubscriberStatus,
    Suppression,
)
from placeevents.tokens import ExpiredToken, InvalidToken, read_token
from placeevents.urls import path_for

# Bump when the consent sentence on the signup form changes, so each record names what was shown.
CONSENT_TEXT_VERSION = "2024-03"
CONFIRM_LINK_LIFETIME = timedelta(days=7)
SIGNUP_MAIL_INTERVAL = timedelta(hours=1)
SIGNUP_REQUEST = "newsletter.signup"
FRESH_LINK_REQUEST = "newsletter.fresh_link"
UNCONFIRMED_LIFETIME = timedelta(days=30)
PAGE_SIZE = 100
DEFAULT_TIMEZONE = "Europe/London"
INTERESTS = {
    "in_person": "Face-to-face events",
    "online": "Online events",
    "news": "News and updates",
}


class NewsletterError(Exception):
    """A mailing-list action cannot be done as asked; the message is for the person asking."""


class InvalidLink(NewsletterError):
    """A link from a mail is broken, for another purpose, or no longer matches anyone."""


class ExpiredLink(InvalidLink):
    """A confirmation link older than its lifetime."""


@dataclass(frozen=True)
class Interests:
    """What a person wants to hear about."""

    in_person: bool = False
    online: bool = False
    news: bool = False

    @property
    def chosen(self) -> bool:
        return self.in_person or self.online or self.news


@dataclass(frozen=True)
class Details:
    """What a person tells us about themselves on a form."""

    name: str
    interests: Interests
    organisation: str = ""
    role: str = ""


def mask_email(email: str) -> str:
    """An address shown on a page reached by link, e.g. a***@example.org."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


def suppression_hash(email: str) -> str:
    """The hash an erased address leaves behind."""
    # Unkeyed on purpose: a keyed hash would stop matching when SECRET_KEY is rotated.
    return hashlib.sha256(f"placeevents.suppression:{normalise_email(email)}".encode()).hexdigest()


def is_suppressed(email: str) -> bool:
    """Whether this address was erased at the person's request (so it is never re-added)."""
    return (
        db.session.scalar(
            select(Suppression.id).where(Suppression.email_hash == suppression_hash(email))
        )
        is not None
    )


def suppressed_among(emails: Iterable[str]) -> set[str]:
    """Which of these addresses were erased at the person's request."""
    by_hash = {suppression_hash(e): normalise_email(e) for e in emails}
    if not by_hash:
        return set()
    found = db.session.scalars(
        select(Suppression.email_hash).where(Suppression.email_hash.in_(by_hash))
    )
    return {by_hash[h] for h in found}


def find_subscriber(email: str) -> Subscriber | None:
    """The subscriber with this address, in any status, or None."""
    return db.session.scalar(select(Subscriber).where(Subscriber.email == normalise_email(email)))


def audit_target(key: str) -> Target | None:
    """How a subscriber (by id) reads in the audit log: their address, linked to their page."""
    subscriber = db.session.get(Subscriber, int(key)) if key.isdigit() else None
    if subscriber is None:
        return None
    return Target(subscriber.email, path_for("manage.newsletter.show", subscriber_id=subscriber.id))


def add_do_not_invite(email: str) -> DoNotInvite:
    """Record that this address asked never to be sent invitations (idempotent, even when the
    same address asks twice at once)."""
    email = normalise_email(email)
    entry = db.session.scalar(select(DoNotInvite).where(DoNotInvite.email == email))
    if entry is not None:
        return entry
    entry = DoNotInvite(email=email)
    try:
        with db.session.begin_nested():
            db.session.add(entry)
    except IntegrityError:
        # A simultaneous request recorded it first.
        entry = db.session.scalars(select(DoNotInvite).where(DoNotInvite.email == email)).one()
    return entry


def is_do_not_invite(email: str) -> bool:
    """Whether this address asked never to be sent invitations."""
    return bool(do_not_invite_among([email]))


def do_not_invite_among(emails: Iterable[str]) -> set[str]:
    """Which of these addresses asked never to be sent invitations (normalised)."""
    wanted = {normalise_email(e) for e in emails}
    if not wanted:
        return set()
    return set(db.session.scalars(select(DoNotInvite.email).where(DoNotInvite.email.in_(wanted))))


def invitable_subscribers(
    *, in_person: bool, online: bool, any_interest: bool = False, with_excluded: bool = False
) -> list[Subscriber]:
    """Confirmed subscribers who want an event of this format and may be invited, oldest first.

    Face-to-face interest matches in-person and hybrid events, online interest matches online
    and hybrid ones (a hybrid event passes in_person=True, online=True); any_interest=True takes
    every confirmed subscriber, whatever they asked to hear about. Bounced, do-not-invite and
    erased addresses are left out, unless with_excluded=True for a caller that counts them.
    """
    wanted = []
    if in_person:
        wanted.append(Subscriber.wants_in_person.is_(True))
    if online:
        wanted.append(Subscriber.wants_online.is_(True))
    if not wanted and not any_interest:
        return []
    query = select(Subscriber).where(Subscriber.status == SubscriberStatus.CONFIRMED)
    if not any_interest:
        query = query.where(or_(*wanted))
    candidates = db.session.scalars(query.order_by(Subscriber.id)).all()
    if with_excluded:
        return list(candidates)
    return _invitable(candidates)


def _invitable(candidates: Sequence[Subscriber]) -> list[Subscriber]:
    emails = [s.email for s in candidates]
    excluded = bounced_among(emails) | suppressed_among(emails) | do_not_invite_among(emails)
    return [s for s in candidates if s.email not in excluded]


def standing_subscribers(
    *, enquiry_id: int, in_person: bool, online: bool, handled: Select[tuple[int]] | None = None
) -> list[Subscriber]:
    """Confirmed subscribers who asked to be invited to every exploration of the enquiry and
    want an event of this format (as invitable_subscribers matches them), oldest first; those
    whose ids `handled` selects (the caller's subquery), bounced, do-not-invite and erased
    addresses left out."""
    return _invitable(
        standing.candidates(
            enquiry_id=enquiry_id, in_person=in_person, online=online, handled=handled
        )
    )


# --- audiences for list mail (news and digests)


@dataclass(frozen=True)
class Audience:
    """Whom list mail reaches: confirmed subscribers with any of these interests, and when
    `emails` is given, only those among these addresses."""

    interests: tuple[str, ...] = ("news",)
    emails: frozenset[str] | None = None


@dataclass(frozen=True)
class AudienceCount:
    """How many an audience reaches now, and how many it leaves out and why."""

    recipients: int
    bounced: int
    unsubscribed: int


@dataclass(frozen=True)
class AudienceBatch:
    """The next subscribers of an audience in id order; `last_id` is where the next batch
    starts (None once the audience is exhausted)."""

    subscribers: list[Subscriber]
    last_id: int | None


def _audience(audience: Audience, status: SubscriberStatus) -> Select[tuple[Subscriber]]:
    wanted = [
        getattr(Subscriber, f"wants_{interest}").is_(True)
        for interest in audience.interests
        if interest in INTERESTS
    ]
    query = select(Subscriber).where(
        Subscriber.status == status, or_(*wanted) if wanted else false()
    )
    if audience.emails is not None:
        query = query.where(Subscriber.email.in_(sorted(audience.emails)))
    return query


def _count(query: Select[tuple[Subscriber]]) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def count_audience(*, audience: Audience) -> AudienceCount:
    """How many confirmed subscribers an audience reaches, bounced addresses left out.

    Erased people are no longer on the list, so nothing is left to count for them.
    """
    confirmed = _audience(audience, SubscriberStatus.CONFIRMED)
    bounced = _count(confirmed.where(Subscriber.email.in_(bounced_addresses())))
    return AudienceCount(
        recipients=_count(confirmed) - bounced,
        bounced=bounced,
        unsubscribed=_count(_audience(audience, SubscriberStatus.UNSUBSCRIBED)),
    )


def audience_batch(*, audience: Audience, after_id: int = 0, limit: int = 500) -> AudienceBatch:
    """The next confirmed subscribers of an audience after `after_id`, oldest first; bounced
    and erased addresses are left out."""
    candidates = db.session.scalars(
        _audience(audience, SubscriberStatus.CONFIRMED)
        .where(Subscriber.id > after_id, Subscriber.email.not_in(bounced_addresses()))
        .order_by(Subscriber.id)
        .limit(limit)
    ).all()
    if not candidates:
        return AudienceBatch(subscribers=[], last_id=None)
    erased = suppressed_among(s.email for s in candidates)
    return AudienceBatch(
        subscribers=[s for s in candidates if s.email not in erased], last_id=candidates[-1].id
    )


# --- mail


def _send(subscriber: Subscriber, template: str, **context: Any) -> None:
    rendered = render_email(
        template,
        subscriber=subscriber,
        preferences_url=links.preferences_url(subscriber),
        unsubscribe_url=links.unsubscribe_url(subscriber),
        interests=[label for key, label in INTERESTS.items() if _wants(subscriber, key)],
        **context,
    )
    message = build_message(
        to=address(subscriber.email, subscriber.name),
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        headers=links.subscriber_mail_headers(subscriber),
    )
    enqueue(message, kind=template)


def _wants(subscriber: Subscriber, interest: str) -> bool:
    return bool(getattr(subscriber, f"wants_{interest}"))


def _send_confirmation(subscriber: Subscriber) -> None:
    _send(
        subscriber,
        "newsletter_confirm",
        confirm_url=links.confirm_url(subscriber),
        lifetime_days=CONFIRM_LINK_LIFETIME.days,
        awaiting_confirmation=True,
    )


# --- signup and confirmation


def _apply_details(subscriber: Subscriber, details: Details) -> None:
    subscriber.name = details.name
    subscriber.organisation = details.organisation
    subscriber.role = details.role
    subscriber.wants_in_person = details.interests.in_person
    subscriber.wants_online = details.interests.online
    subscriber.wants_news = details.interests.news


def _mailed_recently(subscriber: Subscriber, now: datetime) -> bool:
    last = subscriber.last_signup_mail_at
    return last is not None and now - last < SIGNUP_MAIL_INTERVAL


def _new_pending(
    *, email: str, details: Details, source: ConsentSource, note: str, now: datetime
) -> Subscriber | None:
    subscriber = Subscriber(
        email=email,
        status=SubscriberStatus.PENDING,
        consent_source=source,
        consent_note=note,
        consent_text_version=CONSENT_TEXT_VERSION,
        requested_at=now,
        last_signup_mail_at=now,
    )
    _apply_details(subscriber, details)
    try:
        with db.session.begin_nested():
            db.session.add(subscriber)
    except IntegrityError:
        return None  # a simultaneous signup for this address has just been mailed
    _send_confirmation(subscriber)
    return subscriber


def _ask_again(subscriber: Subscriber, now: datetime) -> None:
    # Whoever asks, only the mailbox owner can act on what is sent, so nothing is revealed.
    subscriber.last_signup_mail_at = now
    if subscriber.status == SubscriberStatus.CONFIRMED:
        _send(subscriber, "newsletter_already_subscribed")
        return
    subscriber.status = SubscriberStatus.PENDING
    subscriber.requested_at = now
    _send_confirmation(subscriber)


def request_signup(*, email: str, details: Details) -> None:
    """Handle the signup form: queue a request the worker answers (see _answer_signup).

    The form writes the same row whoever the address belongs to, so nothing it does shows
    who is on the list.
    """
    request_mail(kind=SIGNUP_REQUEST, email=normalise_email(email), payload=_payload(details))


@mail_request_handler(SIGNUP_REQUEST)
def _answer_signup(request: QueuedRequest) -> None:
    """A confirmation mail, or "you are already subscribed"; nothing for an address mailed
    within the hour, nor for one erased at the person's request."""
    now, email = request.requested_at, request.email
    details = _details(request.payload)
    subscriber = find_subscriber(email)
    if subscriber is None:
        if not is_suppressed(email):
            _new_pending(email=email, details=details, source=ConsentSource.FORM, note="", now=now)
        return
    if _mailed_recently(subscriber, now):
        return
    if subscriber.status != SubscriberStatus.CONFIRMED:
        # What they confirm is what they asked for last; a confirmed record is never changed here.
        _apply_details(subscriber, details)
        subscriber.consent_source = ConsentSource.FORM
        subscriber.consent_note = ""
        subscriber.consent_text_version = CONSENT_TEXT_VERSION
    _ask_again(subscriber, now)


def _payload(details: Details) -> dict[str, Any]:
    return {
        "name": details.name,
        "organisation": details.organisation,
        "role": details.role,
        "interests": [key for key in INTERESTS if getattr(details.interests, key)],
    }


def _details(payload: dict[str, Any]) -> Details:
    chosen = set(payload.get("interests", []))
    return Details(
        name=payload.get("name", ""),
        organisation=payload.get("organisation", ""),
        role=payload.get("role", ""),
        interests=Interests(**{key: key in chosen for key in INTERESTS}),
    )


def request_fresh_link(*, email: str) -> None:
    """Queue a request for a fresh confirmation (or preferences) link; the worker sends one to
    a known address, nothing otherwise."""
    request_mail(kind=FRESH_LINK_REQUEST, email=normalise_email(email))


@mail_request_handler(FRESH_LINK_REQUEST)
def _answer_fresh_link(request: QueuedRequest) -> None:
    subscriber = find_subscriber(request.email)
    if subscriber is None or _mailed_recently(subscriber, request.requested_at):
        return
    _ask_again(subscriber, request.requested_at)


def add_in_person(
    *, email: str, details: Details, note: str, returning: bool = False
) -> Subscriber:
    """Add someone who asked an organiser in person; they still confirm by mail.

    An address erased at the person's request is added only when they asked to come back
    (`returning`); their confirmation then lifts the erasure.
    """
    email = normalise_email(email)
    existing = find_subscriber(email)
    if existing is not None:
        raise NewsletterError(f"{email} is already on the list ({existing.status.label}).")
    erased = is_suppressed(email)
    if erased and not returning:
        raise NewsletterError(
            "This address was erased at the person's request, so nothing adds it back. If they "
            "asked you to, tick “They asked to come back”: they still confirm by mail."
        )
    subscriber = _new_pending(
        email=email, details=details, source=ConsentSource.ORGANISER, note=note, now=utcnow()
    )
    if subscriber is None:
        raise NewsletterError(f"{email} has just been added by someone else.")
    detail = f"{email}, erased before and asked to come back" if erased else email
    record(action="newsletter.add", target=f"subscriber {subscriber.id}", detail=detail)
    return subscriber


def subscriber_from_token(*, purpose: str, token: str, max_age: int | None = None) -> Subscriber:
    """The subscriber a link names, after checking signature, purpose, age and nonce."""
    try:
        data = read_token(purpose, token, max_age=max_age)
    except ExpiredToken as exc:
        raise ExpiredLink("This link has expired.") from exc
    except InvalidToken as exc:
        raise InvalidLink("This link is not valid.") from exc
    subscriber = db.session.get(Subscriber, data.row_id)
    if subscriber is None or not secrets.compare_digest(subscriber.token_nonce, data.nonce):
        raise InvalidLink("This link is no longer valid.")
    return subscriber


def subscriber_for_confirmation(*, token: str) -> Subscriber:
    """The subscriber a confirmation link names, if it may still be used."""
    subscriber = subscriber_from_token(
        purpose=links.CONFIRM,
        token=token,
        max_age=int(CONFIRM_LINK_LIFETIME.total_seconds()),
    )
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        # An old confirmation link must not undo a later unsubscribe.
        raise InvalidLink("This link is no longer valid.")
    return subscriber


def _confirm(subscriber: Subscriber, ip: str) -> None:
    subscriber.status = SubscriberStatus.CONFIRMED
    subscriber.confirmed_at = utcnow()
    subscriber.confirmed_ip = ip[:64]
    # The person has given fresh consent themselves (only someone who asked an organiser to come
    # back can get here after an erasure), so the erasure no longer applies.
    db.session.execute(
        delete(Suppression).where(Suppression.email_hash == suppression_hash(subscriber.email))
    )
    _send(
        subscriber,
        "newsletter_welcome",
        standing_url=links.standing_url(subscriber),
        enquiries=[e.title for e in standing.offered_enquiries()],
    )


@dataclass(frozen=True)
class Confirmation:
    """The outcome of pressing the confirmation button: who, and whether it was news."""

    subscriber: Subscriber
    already_confirmed: bool


def confirm_subscription(*, token: str, ip: str) -> Confirmation:
    """Confirm from the button on the confirmation page; a second press changes nothing."""
    subscriber = subscriber_for_confirmation(token=token)
    already = subscriber.status == SubscriberStatus.CONFIRMED
    if not already:
        _confirm(subscriber, ip)
    db.session.flush()
    return Confirmation(subscriber=subscriber, already_confirmed=already)


def subscriber_for_preferences(*, token: str) -> Subscriber:
    """The subscriber a preferences link names (these links do not expire)."""
    return subscriber_from_token(purpose=links.PREFERENCES, token=token)


def update_preferences(
    *, token: str, details: Details, standing_for: Collection[int] | None = None
) -> Subscriber:
    """Save the name, organisation, role and interests from the preferences page, and the
    enquiries to be invited to throughout (`standing_for`, when the page offered them)."""
    subscriber = subscriber_for_preferences(token=token)
    _apply_details(subscriber, details)
    if standing_for is not None and subscriber.status != SubscriberStatus.UNSUBSCRIBED:
        standing.replace(subscriber, standing_for)
    db.session.flush()
    return subscriber


def resubscribe(*, token: str, ip: str) -> Subscriber:
    """Subscribe again from the preferences page after unsubscribing."""
    subscriber = subscriber_for_preferences(token=token)
    if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
        return subscriber
    subscriber.consent_source = ConsentSource.FORM
    subscriber.consent_note = ""
    subscriber.consent_text_version = CONSENT_TEXT_VERSION
    subscriber.requested_at = utcnow()
    _confirm(subscriber, ip)
    db.session.flush()
    return subscriber


def subscriber_for_unsubscribe(*, token: str) -> Subscriber:
    """The subscriber a one-click unsubscribe link names."""
    return subscriber_from_token(purpose=links.UNSUBSCRIBE, token=token)


def unsubscribe(*, token: str) -> Subscriber:
    """Withdraw consent in one step; unsubscribing twice is harmless."""
    subscriber = subscriber_for_unsubscribe(token=token)
    if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        subscriber.unsubscribed_at = utcnow()
        # Unsubscribing stops everything: no standing invitation outlives it.
        standing.remove_all(subscriber)
        db.session.flush()
    return subscriber


# --- standing invitations (see newsletter.standing)


def subscriber_for_standing(*, token: str) -> Subscriber:
    """The subscriber a standing-invitation link (from the welcome mail) names."""
    return subscriber_from_token(purpose=links.STANDING, token=token)


def _standing_enquiry(enquiry_id: int) -> Enquiry:
    enquiry = standing.offered_enquiry(enquiry_id)
    if enquiry is None:
        raise NewsletterError("That enquiry is not running any more.")
    return enquiry


def _ask_standing(subscriber: Subscriber, enquiry_id: int) -> Enquiry:
    if subscriber.status != SubscriberStatus.CONFIRMED:
        raise NewsletterError(
            "Only a confirmed subscriber can be invited to every exploration: "
            "confirm or renew your subscription first."
        )
    enquiry = _standing_enquiry(enquiry_id)
    standing.add(subscriber, enquiry.id)
    db.session.flush()
    return enquiry


def ask_standing(*, token: str, enquiry_id: int) -> Enquiry:
    """Ask, from the page linked in the welcome mail, to be invited to every exploration of an
    enquiry; asking twice changes nothing."""
    return _ask_standing(subscriber_for_standing(token=token), enquiry_id)


def ask_standing_for_address(*, email: str, enquiry_id: int) -> Enquiry:
    """Ask for an invitee, from their RSVP page, to be invited to every exploration of the
    enquiry; only a confirmed subscriber can."""
    subscriber = find_subscriber(email)
    if subscriber is None:
        raise NewsletterError("Only a subscriber can be invited to every exploration.")
    return _ask_standing(subscriber, enquiry_id)


def standing_offer(*, email: str, enquiry_id: int) -> str:
    """What an invitee's RSVP page offers: "ask" (a confirmed subscriber who has not asked for
    this current enquiry), "standing" (asked already), or "" (nothing to offer)."""
    # The enquiry is usually in the session already (the page's event loaded it): no query.
    if standing.offered_enquiry(enquiry_id) is None:
        return ""
    return _offer(standing.confirmed_and_chosen(normalise_email(email), enquiry_id))


def standing_offer_columns(
    *, email: ColumnElement[str], enquiry_id: ColumnElement[int]
) -> tuple[ColumnElement[SubscriberStatus | None], ColumnElement[bool]]:
    """What standing_offer reads, as two columns of another statement: the RSVP page reads
    them with the invitation (the address must be normalised); see standing_offer_from."""
    return standing.confirmed_and_chosen_columns(email, enquiry_id)


def standing_offer_from(
    *, enquiry_status: EnquiryStatus, status: SubscriberStatus | None, chosen: bool
) -> str:
    """standing_offer, from the values of standing_offer_columns and the enquiry's status."""
    if enquiry_status != EnquiryStatus.CURRENT:
        return ""
    return _offer(standing.confirmed_and_chosen_from(status, chosen))


def _offer(found: tuple[bool, bool] | None) -> str:
    if found is None or not found[0]:
        return ""
    return "standing" if found[1] else "ask"


def personal_data(*, token: str) -> dict[str, Any]:
    """What the mailing list holds about the person a preferences link names, for download as
    JSON (the page adds what other domains hold about the address)."""
    subscriber = subscriber_for_preferences(token=token)
    bounced = bool(bounced_among([subscriber.email]))
    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "organisation": subscriber.organisation,
        "role": subscriber.role,
        "status": subscriber.status.value,
        "interests": {key: _wants(subscriber, key) for key in INTERESTS},
        "consent": {
            "text_version": subscriber.consent_text_version,
            "source": subscriber.consent_source.value,
            "note": subscriber.consent_note,
            "import_batch": subscriber.import_batch_id,
            "requested_at": _iso(subscriber.requested_at),
            "confirmed_at": _iso(subscriber.confirmed_at),
            "confirmed_from_ip": subscriber.confirmed_ip,
            "unsubscribed_at": _iso(subscriber.unsubscribed_at),
        },
        "do_not_invite": is_do_not_invite(subscriber.email),
        "invited_to_every_exploration_of": sorted(
            e.title
            for e in db.session.scalars(
                select(Enquiry).where(Enquiry.id.in_(standing.chosen_enquiry_ids(subscriber)))
            )
        ),
        "mail_bounced": bounced,
        "created_at": _iso(subscriber.created_at),
        "updated_at": _iso(subscriber.updated_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- the organiser's list


@dataclass(frozen=True)
class SubscriberFilter:
    """What the organiser's list is narrowed to."""

    search: str = ""
    status: SubscriberStatus | None = None
    interest: str | None = None
    source: ConsentSource | None = None

    def as_args(self) -> dict[str, str]:
        values = {
            "q": self.search,
            "status": self.status.value if self.status else "",
            "interest": self.interest or "",
            "source": self.source.value if self.source else "",
        }
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class SubscriberPage:
    """One page of the filtered list, its size and the whole list's counts by status."""

    items: Sequence[Subscriber]
    matching: int
    page: int
    pages: int
    counts: dict[SubscriberStatus, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(filters: SubscriberFilter) -> Select[tuple[Subscriber]]:
    query = select(Subscriber)
    if filters.search:
        pattern = f"%{_escape_like(filters.search.lower())}%"
        query = query.where(
            or_(
                Subscriber.email.like(pattern, escape="\\"),
                func.lower(Subscriber.name).like(pattern, escape="\\"),
                func.lower(Subscriber.organisation).like(pattern, escape="\\"),
            )
        )
    if filters.status is not None:
        query = query.where(Subscriber.status == filters.status)
    if filters.interest in INTERESTS:
        query = query.where(getattr(Subscriber, f"wants_{filters.interest}").is_(True))
    if filters.source is not None:
        query = query.where(Subscriber.consent_source == filters.source)
    return query


def list_subscribers(*, filters: SubscriberFilter, page: int = 1) -> SubscriberPage:
    """A page of the organiser's list, newest first, in three queries whatever its size."""
    query = _filtered(filters)
    matching = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-matching // PAGE_SIZE))
    page = min(max(page, 1), pages)
    items = db.session.scalars(
        query.order_by(Subscriber.requested_at.desc(), Subscriber.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    counts = dict.fromkeys(SubscriberStatus, 0)
    for status, n in db.session.execute(
        select(Subscriber.status, func.count()).group_by(Subscriber.status)
    ):
        counts[status] = n
    return SubscriberPage(items=items, matching=matching, page=page, pages=pages, counts=counts)


def display_timezone() -> str:
    """The zone organiser pages show times in: the current enquiry's, else Europe/London."""
    enquiry = current_enquiry()
    return enquiry.timezone if enquiry is not None else DEFAULT_TIMEZONE


def get_subscriber(*, subscriber_id: int) -> Subscriber:
    """One subscriber for the organiser's detail page."""
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NewsletterError("There is no such subscriber.")
    return subscriber


EXPORT_HEADER = (
    "email",
    "name",
    "organisation",
    "role",
    "status",
    "face_to_face_events",
    "online_events",
    "news",
    "consent_source",
    "consent_note",
    "consent_text_version",
    "requested_at",
    "confirmed_at",
    "unsubscribed_at",
    "import_batch",
)


def export_subscribers(*, filters: SubscriberFilter) -> Iterator[tuple[Any, ...]]:
    """Record the export in the audit log and return its rows, read lazily in batches."""
    matching = db.session.scalar(select(func.count()).select_from(_filtered(filters).subquery()))
    described = ", ".join(f"{k}={v}" for k, v in filters.as_args().items()) or "everyone"
    record(
        action="newsletter.export",
        target="subscribers",
        detail=f"{matching} rows ({described})",
    )
    return _export_rows(filters, display_timezone())


def _local_iso(value: datetime | None, tz: str) -> str | None:
    # With its offset, so a spreadsheet reader never has to guess the zone.
    return to_local(value, tz).isoformat(timespec="seconds") if value is not None else None


def _export_rows(filters: SubscriberFilter, tz: str) -> Iterator[tuple[Any, ...]]:
    result = db.session.scalars(
        _filtered(filters).order_by(Subscriber.email).execution_options(yield_per=500)
    )
    for s in result:
        yield (
            s.email,
            s.name,
            s.organisation,
            s.role,
            s.status.value,
            s.wants_in_person,
            s.wants_online,
            s.wants_news,
            s.consent_source.value,
            s.consent_note,
            s.consent_text_version,
            _local_iso(s.requested_at, tz),
            _local_iso(s.confirmed_at, tz),
            _local_iso(s.unsubscribed_at, tz),
            s.import_batch_id,
        )


def purge_unconfirmed() -> int:
    """Delete signups left unconfirmed for 30 days; someone who had unsubscribed stays so."""
    cutoff = utcnow() - UNCONFIRMED_LIFETIME
    stale = db.session.scalars(
        select(Subscriber).where(
            Subscriber.status == SubscriberStatus.PENDING, Subscriber.requested_at < cutoff
        )
    ).all()
    for subscriber in stale:
        if subscriber.unsubscribed_at is not None:
            subscriber.status = SubscriberStatus.UNSUBSCRIBED
        else:
            db.session.delete(subscriber)
    db.session.flush()
    return len(stale)
