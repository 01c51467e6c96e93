"""Newsletters and learning digests: composing, previewing, testing, scheduling, queueing the
send in batches, and the public archive."""

import os
import re
import socket
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

from markupsafe import Markup
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from placeevents.addresses import has_control_characters
from placeevents.audit.services import Target, record
from placeevents.calendar.services import feed_url
from placeevents.clock import utcnow
from placeevents.enquiries.models import Enquiry
from placeevents.enquiries.services import current_enquiry
from placeevents.enquiries.timezones import format_range
from placeevents.events.models import Event, EventAccess, EventStatus
from placeevents.events.services import public_events
from placeevents.extensions import db
from placeevents.invitations.responses import attendee_emails
from placeevents.mail.outbox import (
    BatchProgress,
    RenderedEmail,
    address,
    batch_progress,
    build_message,
    enqueue,
    enqueue_all,
    render_email,
    subject_as_sent,
)
from placeevents.markdown import markdown_to_text, render_markdown
from placeevents.news.models import (
    Newsletter,
    NewsletterKind,
    NewsletterRecipient,
    NewsletterStatus,
)
from placeevents.newsletter import links
from placeevents.newsletter.models import Subscriber
from placeevents.newsletter.services import (
    INTERESTS,
    Audience,
    AudienceCount,
    audience_batch,
    count_audience,
)
from placeevents.notes.models import Note
from placeevents.notes.services import learning
from placeevents.urls import external_url, path_for

if TYPE_CHECKING:
    from placeevents.auth.models import Organiser

SUBJECT_LENGTH = 200
BODY_LENGTH = 100_000
# The stored list of events an audience is narrowed to (comma-separated ids).
EVENT_IDS_LENGTH = 1000
# Subscribers queued per transaction by the send job.
BATCH_SIZE = 200
# How long a worker holds a send before another may take it over; renewed with each batch.
SEND_LEASE = timedelta(minutes=2)
RECENT_NOTES = 5
# A digest quotes the start of each note, up to this many characters.
EXCERPT_LENGTH = 240
BLOCKS = {
    "events": "Upcoming events",
    "notes": "Recent public notes",
    "learning": "“What we are learning”",
    "calendar": "The enquiry's calendar",
}
MAIL_TEMPLATE = "news"


class NewsError(Exception):
    """A newsletter cannot be saved, sent or shown as asked; the message is for the organiser."""


@dataclass(frozen=True)
class NewsInput:
    """What an organiser entered for a newsletter, before it is checked."""

    subject: str
    body: str = ""
    interests: tuple[str, ...] = ("news",)
    event_ids: tuple[int, ...] = ()


# --- composing


def _check(data: NewsInput) -> NewsInput:
    subject = " ".join((data.subject or "").split())
    if not subject:
        raise NewsError("Give the newsletter a subject.")
    if has_control_characters(subject):
        raise NewsError("The subject cannot contain control characters.")
    if len(subject) > SUBJECT_LENGTH:
        raise NewsError(f"The subject can be at most {SUBJECT_LENGTH} characters.")
    body = (data.body or "").replace("\r\n", "\n").strip()
    if len(body) > BODY_LENGTH:
        raise NewsError(f"The text can be at most {BODY_LENGTH} characters.")
    interests = tuple(i for i in INTERESTS if i in data.interests)
    if not interests:
        raise NewsError("Choose at least one interest: the newsletter goes to those who chose it.")
    event_ids = tuple(sorted(set(data.event_ids)))
    found = db.session.scalars(select(Event.id).where(Event.id.in_(event_ids))).all()
    if len(found) != len(event_ids) or len(",".join(map(str, event_ids))) > EVENT_IDS_LENGTH:
        raise NewsError("Choose events from the list.")
    return NewsInput(subject, body, interests, event_ids)


def _apply(newsletter: Newsletter, data: NewsInput) -> None:
    newsletter.subject = data.subject
    newsletter.body = data.body
    newsletter.interests = ",".join(data.interests)
    newsletter.event_ids = ",".join(str(i) for i in data.event_ids)


def audit_target(key: str) -> Target | None:
    """How a newsletter (by id) reads in the audit log: its subject, linked to its page."""
    newsletter = db.session.get(Newsletter, int(key)) if key.isdigit() else None
    if newsletter is None:
        return None
    return Target(
        f"{newsletter.kind.label}: {newsletter.subject}",
        path_for("manage.news.edit", newsletter_id=newsletter.id),
    )


def all_newsletters() -> list[Newsletter]:
    """Every newsletter, newest first, for the organisers' list."""
    return list(
        db.session.scalars(
            select(Newsletter).order_by(Newsletter.created_at.desc(), Newsletter.id.desc())
        )
    )


def get_newsletter(*, newsletter_id: int) -> Newsletter:
    """One newsletter for the organiser pages."""
    newsletter = db.session.get(Newsletter, newsletter_id)
    if newsletter is None:
        raise NewsError("There is no such newsletter.")
    return newsletter


def create_newsletter(*, data: NewsInput, organiser: "Organiser | None") -> Newsletter:
    """Save a new newsletter as a draft."""
    newsletter = Newsletter(
        kind=NewsletterKind.NEWS, created_by_id=organiser.id if organiser else None
    )
    _apply(newsletter, _check(data))
    db.session.add(newsletter)
    db.session.flush()
    record(
        action="news.create", target=f"newsletter:{newsletter.id}", detail=newsletter.subject,
        organiser=organiser,
    )
    return newsletter


def _lock_editable(newsletter: Newsletter) -> None:
    # A conditional write: once the send job has started it, nothing here changes it.
    held = db.session.execute(
        update(Newsletter)
        .where(
            Newsletter.id == newsletter.id,
            Newsletter.status.in_([NewsletterStatus.DRAFT, NewsletterStatus.SCHEDULED]),
        )
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(newsletter)
    if not held:
        raise NewsError("This newsletter has started sending, so it can no longer be changed.")


def update_newsletter(
    *, newsletter: Newsletter, data: NewsInput, organiser: "Organiser | None",
    insert: str | None = None,
) -> Newsletter:
    """Save changes to a draft or scheduled newsletter, with a block appended when asked."""
    _lock_editable(newsletter)
    if insert is not None:
        block = block_markdown(block=insert)
        data = NewsInput(
            data.subject, f"{(data.body or '').rstrip()}\n\n{block}".strip(), data.interests,
            data.event_ids,
        )
    _apply(newsletter, _check(data))
    db.session.flush()
    return newsletter


def delete_draft(*, newsletter: Newsletter, organiser: "Organiser | None") -> None:
    """Delete a newsletter that was never sent."""
    _lock_editable(newsletter)
    record(
        action="news.delete", target=f"newsletter:{newsletter.id}", detail=newsletter.subject,
        organiser=organiser, linked=False,
    )
    db.session.delete(newsletter)
    db.session.flush()


# --- blocks from the app, written as Markdown so the organiser can edit them

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~-])")


def _escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _enquiry() -> Enquiry:
    enquiry = current_enquiry()
    if enquiry is None:
        raise NewsError("There is no current enquiry to take this from.")
    return enquiry


def _events_block(enquiry: Enquiry) -> str:
    upcoming = [e for e in public_events(enquiry)[0] if e.status == EventStatus.PUBLISHED]
    if not upcoming:
        return "## Upcoming events\n\nNo upcoming events have been announced yet."
    lines = ["## Upcoming events", ""]
    for event in upcoming:
        when = format_range(event.starts_at, event.ends_at, enquiry.timezone)
        where = event.venue if event.has_place else "Online"
        line = f"- [{_escape(event.title)}]({external_url('events.show', slug=event.slug)})"
        line += f": {_escape(when)}, {_escape(where)}"
        if event.access == EventAccess.OPEN:
            line += ". Open to all: ask for a place on its page."
        lines.append(line)
    return "\n".join(lines)


def _note_link(note: Note) -> str:
    return f"{external_url('notes.learning', slug=note.event.enquiry.slug)}#note-{note.id}"


def _note_line(note: Note) -> str:
    return (
        f"- [{_escape(note.title)}]({_note_link(note)}), from "
        f"{_escape(note.event.title)}"
    )


def _excerpt(note: Note) -> str:
    first = markdown_to_text(note.body).split("\n\n")[0]
    first = " ".join(first.split())
    return first if len(first) <= EXCERPT_LENGTH else first[: EXCERPT_LENGTH - 1].rstrip() + "…"


def _digest_line(note: Note) -> str:
    excerpt = _excerpt(note)
    return f"{_note_line(note)}: {_escape(excerpt)}" if excerpt else _note_line(note)


def _public_notes(enquiry: Enquiry) -> list[Note]:
    seen: dict[int, Note] = {}
    for section in learning(enquiry):
        for note in section.notes:
            seen.setdefault(note.id, note)
    return sorted(seen.values(), key=lambda n: (n.event.starts_at, n.created_at), reverse=True)


def _notes_block(enquiry: Enquiry) -> str:
    notes = _public_notes(enquiry)[:RECENT_NOTES]
    if not notes:
        return "## Recent notes\n\nNo notes have been published yet."
    return "\n".join(["## Recent notes", "", *(_note_line(n) for n in notes)])


def _learning_block(enquiry: Enquiry) -> str:
    url = external_url("notes.learning", slug=enquiry.slug)
    return (
        "## What we are learning\n\n"
        "Everything published from the enquiry's sessions, gathered under its lines of "
        f"enquiry: [What we are learning]({url})."
    )


def _calendar_block(enquiry: Enquiry) -> str:
    url = feed_url(enquiry)
    return (
        "## Follow the enquiry in your calendar\n\n"
        "Subscribe once and every event appears in your calendar, with changes and "
        "cancellations kept up to date. Copy this address into your calendar's "
        f"“subscribe to calendar” option: <{url}>"
    )


def block_markdown(*, block: str) -> str:
    """The Markdown of a block taken from the app: events, notes, learning or calendar."""
    makers = {
        "events": _events_block,
        "notes": _notes_block,
        "learning": _learning_block,
        "calendar": _calendar_block,
    }
    if block not in makers:
        raise NewsError("There is no such block.")
    return makers[block](_enquiry())


# --- learning digests


def _covered_note_ids() -> set[int]:
    rows = db.session.scalars(
        select(Newsletter.note_ids).where(
            Newsletter.kind == NewsletterKind.DIGEST,
            Newsletter.status.in_([NewsletterStatus.SENDING, NewsletterStatus.SENT]),
        )
    )
    return {int(i) for ids in rows for i in ids.split(",") if i.isdigit()}


def create_digest(*, organiser: "Organiser | None") -> Newsletter:
    """A learning digest prefilled with the public notes no earlier digest carried, grouped by
    the enquiry's lines of enquiry."""
    enquiry = _enquiry()
    covered = _covered_note_ids()
    parts = [
        f"Here is what the enquiry “{_escape(enquiry.title)}” has been learning since our "
        "last digest."
    ]
    included: dict[int, Note] = {}
    for section in learning(enquiry):
        fresh = [n for n in section.notes if n.id not in covered]
        if not fresh:
            continue
        parts.append(f"## {_escape(section.title)}")
        parts.append("\n".join(_digest_line(n) for n in fresh))
        included.update((n.id, n) for n in fresh)
    if not included:
        parts.append("No new notes have been published since the last digest.")
    parts.append(_learning_block(enquiry))
    newsletter = Newsletter(
        kind=NewsletterKind.DIGEST,
        subject=f"What we are learning: {enquiry.title}"[:SUBJECT_LENGTH],
        body="\n\n".join(parts),
        note_ids=",".join(str(i) for i in sorted(included)),
        created_by_id=organiser.id if organiser else None,
    )
    db.session.add(newsletter)
    db.session.flush()
    record(
        action="news.create", target=f"newsletter:{newsletter.id}",
        detail=f"learning digest, {len(included)} notes", organiser=organiser,
    )
    return newsletter


# --- the audience


def audience_of(newsletter: Newsletter) -> Audience:
    """Whom the newsletter goes to: its interests, narrowed to its events' attendees if any."""
    events = newsletter.event_id_list
    emails = frozenset(attendee_emails(event_ids=events)) if events else None
    return Audience(interests=tuple(newsletter.interest_list), emails=emails)


def count_recipients(*, newsletter: Newsletter) -> AudienceCount:
    """How many the newsletter would reach if sent now, and how many are left out."""
    return count_audience(audience=audience_of(newsletter))


def attended_events() -> list[Event]:
    """Events that have ended, newest first, for narrowing an audience to who came."""
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.status == EventStatus.PUBLISHED, Event.ends_at < utcnow())
            .order_by(Event.starts_at.desc())
        )
    )


# --- the mail


def content_html(newsletter: Newsletter) -> Markup:
    """The newsletter's text as sanitised HTML (mail, web version and preview alike); its
    headings start at h2, right under the subject's h1."""
    return render_markdown(newsletter.body, top_level=2)


def content_text(newsletter: Newsletter) -> str:
    """The newsletter's text written out as plain text, links spelled out."""
    return markdown_to_text(newsletter.body)


def web_url(newsletter: Newsletter) -> str:
    """The public web version's address (no personal link in it)."""
    return external_url("news.show", newsletter_id=newsletter.id)


@dataclass(frozen=True)
class _Content:
    html: Markup
    text: str
    web_url: str


def _content(newsletter: Newsletter) -> _Content:
    return _Content(content_html(newsletter), content_text(newsletter), web_url(newsletter))


def _render(
    newsletter: Newsletter, subscriber: Subscriber, content: _Content, *, test: bool = False
) -> RenderedEmail:
    return render_email(
        MAIL_TEMPLATE,
        newsletter=newsletter,
        subscriber=subscriber,
        content_html=content.html,
        content_text=content.text,
        web_url=content.web_url,
        preferences_url=links.preferences_url(subscriber),
        unsubscribe_url=links.unsubscribe_url(subscriber),
        test=test,
    )


def _message(
    newsletter: Newsletter, subscriber: Subscriber, content: _Content, *, test: bool = False
) -> EmailMessage:
    rendered = _render(newsletter, subscriber, content, test=test)
    return build_message(
        to=address(subscriber.email, subscriber.name),
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        headers=links.subscriber_mail_headers(subscriber),
    )


def _stand_in(email: str = "subscriber@example.org", name: str = "") -> Subscriber:
    # Unsaved, with a nonce no link can match: a preview or test never carries a working link.
    return Subscriber(id=0, email=email, name=name, token_nonce="preview")


def preview(*, newsletter: Newsletter) -> RenderedEmail:
    """What a subscriber will get (their name and links stand in), as subject, text and HTML."""
    rendered = _render(newsletter, _stand_in(name="Sample Reader"), _content(newsletter))
    return replace(rendered, subject=subject_as_sent(rendered.subject))


def send_test(
    *, newsletter: Newsletter, organiser: "Organiser", data: NewsInput | None = None
) -> EmailMessage:
    """Send the newsletter to the organiser themselves, saving `data` first if given."""
    if data is not None:
        update_newsletter(newsletter=newsletter, data=data, organiser=organiser)
    message = _message(
        newsletter, _stand_in(organiser.email, organiser.name), _content(newsletter), test=True
    )
    enqueue(message, kind="news_test")
    return message


# --- sending


def send_now(
    *, newsletter: Newsletter, organiser: "Organiser | None", data: NewsInput | None = None
) -> Newsletter:
    """Hand the newsletter to the send job now, saving `data` first if given; a second press
    finds it started and changes nothing."""
    if data is not None:
        update_newsletter(newsletter=newsletter, data=data, organiser=organiser)
    return _hand_over(newsletter, utcnow(), organiser, action="news.send")


def schedule(
    *, newsletter: Newsletter, when: datetime, organiser: "Organiser | None"
) -> Newsletter:
    """Have the send job start the newsletter at `when` (it can be changed until then)."""
    if when <= utcnow():
        raise NewsError("Choose a time in the future, or send it now.")
    return _hand_over(newsletter, when, organiser, action="news.schedule")


def _hand_over(
    newsletter: Newsletter, when: datetime, organiser: "Organiser | None", *, action: str
) -> Newsletter:
    _lock_editable(newsletter)
    if not newsletter.body.strip():
        raise NewsError("Write something before sending.")
    newsletter.status = NewsletterStatus.SCHEDULED
    newsletter.scheduled_for = when
    db.session.flush()
    record(
        action=action, target=f"newsletter:{newsletter.id}",
        detail=f"{newsletter.subject}; from {when:%Y-%m-%d %H:%M} UTC", organiser=organiser,
    )
    return newsletter


def cancel_schedule(*, newsletter: Newsletter, organiser: "Organiser | None") -> Newsletter:
    """Take a scheduled newsletter back to draft, if it has not started."""
    _lock_editable(newsletter)
    if newsletter.status != NewsletterStatus.SCHEDULED:
        raise NewsError("This newsletter is not scheduled.")
    newsletter.status = NewsletterStatus.DRAFT
    newsletter.scheduled_for = None
    db.session.flush()
    record(
        action="news.cancel", target=f"newsletter:{newsletter.id}", detail=newsletter.subject,
        organiser=organiser,
    )
    return newsletter


def start_due() -> list[int]:
    """Start every scheduled newsletter whose time has come; the ids started."""
    now = utcnow()
    due = db.session.scalars(
        select(Newsletter.id).where(
            Newsletter.status == NewsletterStatus.SCHEDULED, Newsletter.scheduled_for <= now
        )
    ).all()
    started = []
    for newsletter_id in due:
        # Conditional, so an edit or cancel that got there first wins and nothing starts twice.
        changed = db.session.execute(
            update(Newsletter)
            .where(
                Newsletter.id == newsletter_id,
                Newsletter.status == NewsletterStatus.SCHEDULED,
                Newsletter.scheduled_for <= now,
            )
            .values(status=NewsletterStatus.SENDING, started_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed:
            newsletter = db.session.get(Newsletter, newsletter_id)
            assert newsletter is not None
            db.session.refresh(newsletter)
            newsletter.recipients = count_recipients(newsletter=newsletter).recipients
            started.append(newsletter_id)
    db.session.flush()
    return started


def new_claim_token() -> str:
    """Who holds a send: host, process and a random part."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_send(*, token: str) -> Newsletter | None:
    """Take a newsletter being sent that no live worker holds, for SEND_LEASE; None if none."""
    now = utcnow()
    candidates = db.session.scalars(
        select(Newsletter.id)
        .where(Newsletter.status == NewsletterStatus.SENDING)
        .order_by(Newsletter.started_at, Newsletter.id)
    ).all()
    for newsletter_id in candidates:
        held = db.session.execute(
            update(Newsletter)
            .where(
                Newsletter.id == newsletter_id,
                Newsletter.status == NewsletterStatus.SENDING,
                (Newsletter.claimed_until.is_(None)) | (Newsletter.claimed_until < now),
            )
            .values(claimed_by=token, claimed_until=now + SEND_LEASE)
            .execution_options(synchronize_session=False)
        ).rowcount
        if held:
            newsletter = db.session.get(Newsletter, newsletter_id)
            assert newsletter is not None
            db.session.refresh(newsletter)
            return newsletter
    return None


def _claim_recipients(newsletter: Newsletter, subscriber_ids: list[int]) -> set[int]:
    # Rows someone else wrote first (another worker, one that died mid-send) are skipped, so
    # each subscriber is queued once whatever happens.
    if not subscriber_ids:
        return set()
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    now = utcnow()
    statement = (
        insert(NewsletterRecipient)
        .values(
            [
                {"newsletter_id": newsletter.id, "subscriber_id": sid, "queued_at": now}
                for sid in subscriber_ids
            ]
        )
        .on_conflict_do_nothing(index_elements=["newsletter_id", "subscriber_id"])
        .returning(NewsletterRecipient.subscriber_id)
    )
    return set(db.session.scalars(statement))


def queue_batch(*, newsletter: Newsletter, token: str, limit: int | None = None) -> bool:
    """Queue the next batch of the newsletter's messages; False once every one is queued.

    Renews the lease first and gives up (False) if another worker has taken the send over.
    """
    now = utcnow()
    held = db.session.execute(
        update(Newsletter)
        .where(
            Newsletter.id == newsletter.id,
            Newsletter.claimed_by == token,
            Newsletter.status == NewsletterStatus.SENDING,
        )
        .values(claimed_until=now + SEND_LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not held:
        return False
    db.session.refresh(newsletter)
    batch = audience_batch(
        audience=audience_of(newsletter), after_id=newsletter.cursor, limit=limit or BATCH_SIZE
    )
    if batch.last_id is None:
        newsletter.status = NewsletterStatus.SENT
        newsletter.finished_at = now
        newsletter.claimed_by = None
        newsletter.claimed_until = None
        db.session.flush()
        record(
            action="news.sent", target=f"newsletter:{newsletter.id}",
            detail=f"{newsletter.queued} messages queued",
        )
        return False
    mine = _claim_recipients(newsletter, [s.id for s in batch.subscribers])
    content = _content(newsletter)
    enqueue_all(
        (_message(newsletter, s, content) for s in batch.subscribers if s.id in mine),
        kind=f"news_{newsletter.kind.value}",
        batch_key=newsletter.batch_key,
        bulk=True,
    )
    newsletter.queued += len(mine)
    newsletter.cursor = batch.last_id
    db.session.flush()
    return True


@dataclass(frozen=True)
class NewsProgress:
    """How far a send has got: reached at the start, queued so far, and the outbox's counts."""

    recipients: int
    queued: int
    outbox: BatchProgress

    @property
    def sent(self) -> int:
        return self.outbox.sent

    @property
    def failed(self) -> int:
        return self.outbox.failed

    @property
    def waiting(self) -> int:
        return self.outbox.pending


def progress(*, newsletter: Newsletter) -> NewsProgress:
    """The send's progress for its page."""
    return NewsProgress(
        recipients=newsletter.recipients,
        queued=newsletter.queued,
        outbox=batch_progress(newsletter.batch_key),
    )


# --- the public archive

PUBLISHED = (NewsletterStatus.SENDING, NewsletterStatus.SENT)


def archive() -> list[Newsletter]:
    """Newsletters that have gone out, newest first."""
    return list(
        db.session.scalars(
            select(Newsletter)
            .where(Newsletter.status.in_(PUBLISHED))
            .order_by(Newsletter.started_at.desc(), Newsletter.id.desc())
        )
    )


def archived(*, newsletter_id: int) -> Newsletter:
    """One newsletter's web version, once it has gone out."""
    newsletter = db.session.get(Newsletter, newsletter_id)
    if newsletter is None or newsletter.status not in PUBLISHED:
        raise NewsError("There is no such newsletter.")
    return newsletter
