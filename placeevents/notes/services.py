"""Session notes: writing and revising them, who may read them, sharing them, the learning page."""

import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from functools import cache
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload, selectinload

from placeevents.addresses import has_control_characters, normalise_email
from placeevents.audit.services import Target, record
from placeevents.clock import utcnow
from placeevents.enquiries.models import Enquiry, EnquiryQuestion
from placeevents.events.models import Event, EventStatus
from placeevents.extensions import db
from placeevents.invitations import audiences
from placeevents.invitations.attendance import Presence, presence
from placeevents.invitations.models import Invitation, Rsvp
from placeevents.mail.bounces import bounced_among
from placeevents.mail.outbox import (
    MailHeaderError,
    RenderedEmail,
    address,
    build_message,
    enqueue,
    render_email,
)
from placeevents.newsletter.links import extras_of, list_mail_extras_for
from placeevents.notes.models import (
    Note,
    NoteKind,
    NoteRevision,
    NoteShare,
    NoteVisibility,
    is_web_address,
    split_resource_line,
)
from placeevents.tokens import InvalidToken, make_token, read_token
from placeevents.urls import external_url, path_for

if TYPE_CHECKING:
    from placeevents.auth.models import Organiser

TOKEN_PURPOSE = "note"
SHARE_BATCH_PREFIX = "note-share"
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_RESOURCES = 30
SHARED = (NoteVisibility.ATTENDEES, NoteVisibility.PUBLIC)

# The fields a revision records, with the words the revisions page uses for them.
# The note's own text fields, copied as they are between a note, its revisions and a form.
TEXT_FIELDS = (
    "title",
    "body",
    "kind",
    "visibility",
    "attributed",
    "author_name",
    "resources",
    "tags",
)

REVISED_FIELDS = {
    "title": "title",
    "body": "text",
    "kind": "kind",
    "visibility": "visibility",
    "attributed": "attribution",
    "author_name": "author",
    "resources": "resource links",
    "tags": "tags",
    "question_ids": "lines of enquiry",
}


class NoteError(Exception):
    """A note cannot be saved or shared as asked; the message is for the organiser."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NoteConflict(NoteError):
    """Someone saved the note after the organiser opened it; their form is now stale."""

    def __init__(self, current_revision: int) -> None:
        super().__init__(
            f"Someone else saved this note (now at revision {current_revision}) after you "
            "opened it. Your changes were not saved yet."
        )
        self.current_revision = current_revision


class NoteNotFound(Exception):
    """A reader's link does not lead to a note they may read."""


@dataclass(frozen=True)
class NoteInput:
    """What an organiser entered for a note, before it is checked."""

    title: str
    body: str = ""
    kind: NoteKind = NoteKind.SUMMARY
    author_name: str = ""
    visibility: NoteVisibility = NoteVisibility.PRIVATE
    attributed: bool = True
    resources: str = ""
    tags: str = ""
    question_ids: Sequence[int] = ()


# --- checking what was entered


def _single_line(value: str, *, label: str, field_name: str, limit: int) -> str:
    value = " ".join(value.split()) if value else ""
    if has_control_characters(value):
        raise NoteError(f"The {label} cannot contain control characters.", field_name)
    if len(value) > limit:
        raise NoteError(f"The {label} can be at most {limit} characters.", field_name)
    return value


def normalise_tags(text: str) -> str:
    """Free tags as stored: trimmed, de-duplicated ignoring case, comma separated."""
    seen: dict[str, str] = {}
    for raw in (text or "").split(","):
        tag = " ".join(raw.split())
        if not tag:
            continue
        if has_control_characters(tag):
            raise NoteError("Tags cannot contain control characters.", "tags")
        if len(tag) > MAX_TAG_LENGTH:
            raise NoteError(
                f"Each tag can be at most {MAX_TAG_LENGTH} characters: “{tag[:20]}…” is longer.",
                "tags",
            )
        seen.setdefault(tag.casefold(), tag)
    if len(seen) > MAX_TAGS:
        raise NoteError(f"A note can have at most {MAX_TAGS} tags.", "tags")
    return ", ".join(seen.values())


def _line_list(numbers: Sequence[int]) -> str:
    words = [str(n) for n in numbers]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def normalise_resources(text: str) -> str:
    """Resource links as stored, one per line, each checked to be an http(s) address.

    Every bad line is reported at once, numbered as the organiser sees them in the box.
    """
    lines = [
        (number, line.strip())
        for number, line in enumerate((text or "").splitlines(), start=1)
        if line.strip()
    ]
    if len(lines) > MAX_RESOURCES:
        raise NoteError(f"A note can have at most {MAX_RESOURCES} resource links.", "resources")
    kept = []
    bad_addresses: list[int] = []
    problems: list[str] = []
    for number, line in lines:
        resource = split_resource_line(line)
        if not is_web_address(resource.url) or len(resource.url) > 1000:
            bad_addresses.append(number)
            continue
        try:
            title = _single_line(
                resource.title, label="resource title", field_name="resources", limit=200
            )
        except NoteError as error:
            problems.append(f"Line {number}: {error.message}")
            continue
        kept.append(f"{title} | {resource.url}" if title else resource.url)
    if bad_addresses:
        several = len(bad_addresses) > 1
        problems.insert(
            0,
            f"{'Lines' if several else 'Line'} {_line_list(bad_addresses)} "
            f"{'need' if several else 'needs'} a web address starting https:// or http:// "
            "(write “Title | https://…” or just the address).",
        )
    if problems:
        raise NoteError(" ".join(problems), "resources")
    return "\n".join(kept)


@dataclass(frozen=True)
class _Checked:
    title: str
    body: str
    kind: NoteKind
    author_name: str
    visibility: NoteVisibility
    attributed: bool
    resources: str
    tags: str
    questions: list[EnquiryQuestion] = field(default_factory=list)


def _check(data: NoteInput, event: Event) -> _Checked:
    title = _single_line(data.title, label="title", field_name="title", limit=200)
    if not title:
        raise NoteError("Give the note a title.", "title")
    author = _single_line(data.author_name, label="author", field_name="author_name", limit=200)
    by_id = {q.id: q for q in event.enquiry.questions}
    wanted = list(dict.fromkeys(data.question_ids))
    if any(qid not in by_id for qid in wanted):
        raise NoteError("Choose lines of enquiry from this event's enquiry.", "questions")
    return _Checked(
        title=title,
        body=(data.body or "").replace("\r\n", "\n").strip(),
        kind=NoteKind(data.kind),
        author_name=author,
        visibility=NoteVisibility(data.visibility),
        attributed=bool(data.attributed),
        resources=normalise_resources(data.resources),
        tags=normalise_tags(data.tags),
        questions=[by_id[qid] for qid in sorted(wanted, key=lambda q: by_id[q].position)],
    )


def _question_ids(questions: Iterable[EnquiryQuestion]) -> str:
    return ",".join(str(q.id) for q in questions)


def _apply(note: Note, checked: _Checked) -> None:
    for name in TEXT_FIELDS:
        setattr(note, name, getattr(checked, name))
    note.questions = list(checked.questions)


def _snapshot(note: Note, editor: "Organiser | None", restored_from: int | None = None) -> None:
    note.revisions.append(
        NoteRevision(
            number=note.revision,
            **{name: getattr(note, name) for name in TEXT_FIELDS},
            question_ids=_question_ids(note.questions),
            edited_by_id=editor.id if editor is not None else None,
            edited_at=utcnow(),
            restored_from=restored_from,
        )
    )


def _state(source: Note | NoteRevision | _Checked) -> dict[str, object]:
    state: dict[str, object] = {name: getattr(source, name) for name in TEXT_FIELDS}
    if isinstance(source, NoteRevision):
        state["question_ids"] = source.question_ids
    else:
        state["question_ids"] = _question_ids(source.questions)
    return state


# --- organiser use cases


def audit_target(key: str) -> Target | None:
    """How a note (by id) reads in the audit log: "Note: " and its title, linked to its page."""
    note = db.session.get(Note, int(key)) if key.isdigit() else None
    if note is None:
        return None
    return Target(f"Note: {note.title}", path_for("manage.notes.show", note_id=note.id))


def note_counts_by_event() -> dict[int, int]:
    """How many notes each event has (events without notes are absent)."""
    return dict(
        db.session.execute(select(Note.event_id, func.count()).group_by(Note.event_id)).all()
    )


def notes_for_event(event: Event) -> list[Note]:
    """Every note of an event, oldest first, with what its organiser list shows."""
    return list(
        db.session.scalars(
            select(Note)
            .where(Note.event_id == event.id)
            .options(selectinload(Note.questions))
            .order_by(Note.created_at, Note.id)
        )
    )


def create_note(*, event: Event, data: NoteInput, editor: "Organiser | None") -> Note:
    """Attach a new note to an event; its first revision records who wrote it."""
    checked = _check(data, event)
    note = Note(event=event, revision=1, created_by_id=editor.id if editor else None)
    _apply(note, checked)
    db.session.add(note)
    _snapshot(note, editor)
    db.session.flush()
    record(action="note.create", target=f"note:{note.id}", detail=note.title, organiser=editor)
    return note


def update_note(
    *,
    note: Note,
    data: NoteInput,
    editor: "Organiser | None",
    base_revision: int | None = None,
) -> Note:
    """Save changes as a new revision; refuses when someone saved the note in the meantime."""
    db.session.refresh(note, with_for_update=True)
    if base_revision is not None and base_revision != note.revision:
        raise NoteConflict(note.revision)
    checked = _check(data, note.event)
    if _state(checked) == _state(note):
        return note
    _apply(note, checked)
    note.revision += 1
    _snapshot(note, editor)
    db.session.flush()
    record(
        action="note.update",
        target=f"note:{note.id}",
        detail=f"revision {note.revision}",
        organiser=editor,
    )
    return note


def restore_revision(*, note: Note, number: int, editor: "Organiser | None") -> Note:
    """Bring back an earlier revision's content as a new revision."""
    db.session.refresh(note, with_for_update=True)
    revision = next((r for r in note.revisions if r.number == number), None)
    if revision is None:
        raise NoteError(f"This note has no revision {number}.")
    if _state(revision) == _state(note):
        raise NoteError(f"Revision {number} is the same as the current text; nothing to restore.")
    for name in TEXT_FIELDS:
        setattr(note, name, getattr(revision, name))
    if revision.question_ids is not None:
        ids = {int(i) for i in revision.question_ids.split(",") if i}
        # Lines of enquiry removed from the enquiry since then cannot come back.
        note.questions = [q for q in note.event.enquiry.questions if q.id in ids]
    note.revision += 1
    _snapshot(note, editor, restored_from=number)
    db.session.flush()
    record(
        action="note.restore",
        target=f"note:{note.id}",
        detail=f"revision {number} restored as {note.revision}",
        organiser=editor,
    )
    return note


def delete_note(*, note: Note, editor: "Organiser | None") -> None:
    """Delete a note with its revisions and its sharing log."""
    record(
        action="note.delete",
        target=f"note:{note.id}",
        detail=note.title,
        organiser=editor,
        linked=False,
    )
    db.session.delete(note)
    db.session.flush()


def revision_history(note: Note) -> list[tuple[NoteRevision, list[str]]]:
    """Revisions newest first, each with the words for what it changed from the one before."""
    ordered = sorted(note.revisions, key=lambda r: r.number)
    history = []
    previous: dict[str, object] | None = None
    for revision in ordered:
        state = _state(revision)
        if previous is None:
            changed = ["created"]
        else:
            changed = [
                label
                for name, label in REVISED_FIELDS.items()
                if state[name] != previous[name]
                and not (name == "question_ids" and None in (state[name], previous[name]))
            ]
        history.append((revision, changed))
        previous = state
    return list(reversed(history))


# --- who may read what


def can_receive_notes(invitation: Invitation, *, shared: bool | None = None) -> bool:
    """Whether this invitee gets the event's shared notes.

    Those who came, those who answered "No, but send me the session notes", and, until the
    organisers finish check-in, those confirmed ("yes") for an event that has ended, since
    whether they came is not known yet. `shared`, when the caller read it already (see
    shared_with_column), spares the query asking whether a note was shared with them.
    """
    rsvp = invitation.rsvp
    if rsvp is None:
        return False
    if rsvp.wants_notes:
        return True
    came = presence(invitation.event, rsvp.answer, rsvp.attended)
    if came in (Presence.CAME, Presence.UNKNOWN):
        return True
    # Someone an organiser chose to send notes to (one with a place who did not come, say)
    # can open the links in that mail.
    return _was_shared_with(invitation) if shared is None else shared


@cache
def _shared_with() -> sa.Select[tuple[int]]:
    # Built once on first use: the RSVP page of anyone with a place to come asks it.
    return (
        select(NoteShare.id)
        .join(Note, Note.id == NoteShare.note_id)
        .where(Note.event_id == sa.bindparam("event_id"), NoteShare.email == sa.bindparam("email"))
        .limit(1)
    )


def shared_with_column(
    event_id: ColumnElement[int], email: ColumnElement[str]
) -> ColumnElement[bool]:
    """Whether a note of the event was shared with the (normalised) address, as a column of
    another statement: the RSVP page reads it with the invitation."""
    return (
        select(NoteShare.id)
        .join(Note, Note.id == NoteShare.note_id)
        .where(Note.event_id == event_id, NoteShare.email == email)
        .exists()
    )


def _was_shared_with(invitation: Invitation) -> bool:
    found = db.session.scalar(
        _shared_with(),
        {"event_id": invitation.event_id, "email": normalise_email(invitation.email)},
    )
    return found is not None


def attendee_notes(invitation: Invitation, *, shared: bool | None = None) -> list[Note]:
    """The notes this invitee may read: shared or public notes of their event, if eligible
    (`shared` as for can_receive_notes)."""
    if not can_receive_notes(invitation, shared=shared):
        return []
    return list(
        db.session.scalars(
            select(Note)
            .where(Note.event_id == invitation.event_id, Note.visibility.in_(SHARED))
            .options(selectinload(Note.questions))
            .order_by(Note.created_at, Note.id)
        )
    )


def public_notes_for(event: Event) -> list[Note]:
    """An event's public notes, shown once the public event has ended."""
    if not event.is_public or event.ends_at > utcnow():
        return []
    return list(
        db.session.scalars(
            select(Note)
            .where(Note.event_id == event.id, Note.visibility == NoteVisibility.PUBLIC)
            .options(selectinload(Note.questions))
            .order_by(Note.created_at, Note.id)
        )
    )


def attendee_token(invitation: Invitation) -> str:
    """The token of an invitee's links to their notes (dies with the invitation's nonce)."""
    return make_token(TOKEN_PURPOSE, invitation.id, invitation.token_nonce)


def invitation_for_token(token: str) -> Invitation:
    """The invitation a notes link belongs to, if it is genuine and still current."""
    try:
        data = read_token(TOKEN_PURPOSE, token)
    except InvalidToken as exc:
        raise NoteNotFound from exc
    invitation = db.session.scalar(
        select(Invitation)
        .where(Invitation.id == data.row_id)
        .options(
            joinedload(Invitation.rsvp),
            joinedload(Invitation.event).joinedload(Event.enquiry),
        )
    )
    if invitation is None or not secrets.compare_digest(invitation.token_nonce, data.nonce):
        raise NoteNotFound
    return invitation


def attendee_note(*, token: str, note_id: int) -> tuple[Invitation, Note]:
    """One note read through an invitee's link, if they may read it."""
    invitation = invitation_for_token(token)
    note = next((n for n in attendee_notes(invitation) if n.id == note_id), None)
    if note is None:
        raise NoteNotFound
    return invitation, note


# --- sharing


# Whom a share goes to; "all" is everyone who may read the notes (see can_receive_notes).
SHARE_ALL = "all"
SHARE_AUDIENCES = {
    SHARE_ALL: "Everyone who gets the notes: who came, who has a place (until check-in "
    "shows they did not come), who said no but asked for the notes",
    audiences.CAME: "The people who came",
    audiences.CONFIRMED: "Everyone with a place (including those who did not come)",
    audiences.WANTS_NOTES: "The people who said no but asked for the notes",
}


class UnknownShareAudience(NoteError):
    """A share audience that is not one of SHARE_AUDIENCES."""

    def __init__(self) -> None:
        super().__init__("Choose whom to send the notes to from the groups listed.", "audience")


def _share_clause(event: Event, audience: str) -> ColumnElement[bool]:
    if audience not in SHARE_AUDIENCES:
        raise UnknownShareAudience
    if audience != SHARE_ALL:
        return audiences.audience_clause(event, audience)
    # can_receive_notes in SQL: a yes counts until check-in is closed, once the event is over.
    unknown = (
        audiences.audience_clause(event, audiences.CONFIRMED)
        if event.check_in_closed_at is None and event.has_ended
        else sa.false()
    )
    return sa.or_(
        Rsvp.wants_notes.is_(True), audiences.audience_clause(event, audiences.CAME), unknown
    )


@dataclass(frozen=True)
class ShareAudience:
    """One group notes can be shared with, and how many it reaches (bounced left out)."""

    key: str
    label: str
    count: int


def share_audiences(event: Event) -> list[ShareAudience]:
    """The groups an event's notes can be shared with, each counted (one query)."""
    counts = audiences.count_audiences(
        event, {key: _share_clause(event, key) for key in SHARE_AUDIENCES}
    )
    return [ShareAudience(key, label, counts[key]) for key, label in SHARE_AUDIENCES.items()]


def share_recipients(event: Event, audience: str = SHARE_ALL) -> list[Invitation]:
    """Invitees of the event in the chosen audience, by address; by default those who get
    its shared notes (see can_receive_notes)."""
    found = audiences.audience_invitations(event, _share_clause(event, audience))
    # An audience of answers: someone invited without one never gets notes.
    return sorted((i for i in found if i.rsvp is not None), key=lambda i: i.email)


def _sent_pairs(notes: Sequence[Note]) -> set[tuple[int, str]]:
    # (note id, address) pairs that already have each note's current revision.
    if not notes:
        return set()
    current = {n.id: n.revision for n in notes}
    rows = db.session.execute(
        select(NoteShare.note_id, NoteShare.revision, NoteShare.email).where(
            NoteShare.note_id.in_(current)
        )
    ).all()
    return {(note_id, email) for note_id, revision, email in rows if current[note_id] == revision}


@dataclass(frozen=True)
class SharePreview:
    """What a share would do now: who gets notes, and how many have each note already."""

    recipients: list[Invitation]
    notes: list[Note]
    waiting: dict[int, int]
    bounced: int
    audience: str = SHARE_ALL


def share_preview(event: Event, audience: str = SHARE_ALL) -> SharePreview:
    """The recipients (of the chosen audience) and shareable notes of an event, with who still
    waits for each note."""
    notes = [n for n in notes_for_event(event) if n.is_shared]
    candidates = share_recipients(event, audience)
    bounced = bounced_among(i.email for i in candidates)
    recipients = [i for i in candidates if normalise_email(i.email) not in bounced]
    sent = _sent_pairs(notes)
    waiting = {
        n.id: sum(1 for i in recipients if (n.id, normalise_email(i.email)) not in sent)
        for n in notes
    }
    return SharePreview(recipients, notes, waiting, len(candidates) - len(recipients), audience)


@dataclass(frozen=True)
class ShareResult:
    """What a share queued: its batch (for progress), how many mails, and what was skipped."""

    batch_key: str
    messages: int
    already_had: int
    bounced: int


def _to(invitation: Invitation) -> Address:
    try:
        return address(invitation.email, invitation.name)
    except MailHeaderError:
        return address(invitation.email)


def _render_share(
    invitation: Invitation,
    event: Event,
    notes: list[Note],
    footer_links: Sequence[tuple[str, str]] = (),
) -> RenderedEmail:
    token = attendee_token(invitation)
    return render_email(
        "note_share",
        event=event,
        notes=notes,
        invitation=invitation,
        note_urls={
            n.id: external_url("notes.attendee_show", token=token, note_id=n.id) for n in notes
        },
        all_url=external_url("notes.attendee_index", token=token),
        footer_links=list(footer_links),
    )


def _claim(pairs: list[tuple[int, int, str]]) -> set[tuple[int, str]]:
    # Insert the share log rows; a row someone else wrote first (a double click, a second
    # organiser) is skipped, so each revision goes to each address once.
    if not pairs:
        return set()
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    now = utcnow()
    statement = (
        insert(NoteShare)
        .values(
            [
                {"note_id": note_id, "revision": revision, "email": email, "shared_at": now}
                for note_id, revision, email in pairs
            ]
        )
        .on_conflict_do_nothing(index_elements=["note_id", "revision", "email"])
        .returning(NoteShare.note_id, NoteShare.email)
    )
    return {(note_id, email) for note_id, email in db.session.execute(statement)}


def share_notes(
    *,
    event: Event,
    note: Note | None = None,
    editor: "Organiser | None" = None,
    audience: str = SHARE_ALL,
) -> ShareResult:
    """Mail one note, or all shared notes of the event, to the chosen audience: by default its
    attendees and those who asked.

    Each address gets each revision once; one mail per person carries what is new to them,
    queued in the outbox under one batch key.
    """
    if note is not None:
        if note.event_id != event.id:
            raise NoteError("That note belongs to another event.")
        if not note.is_shared:
            raise NoteError(
                "This note is private to organisers. Change its visibility before sharing it."
            )
        notes = [note]
    else:
        notes = [n for n in notes_for_event(event) if n.is_shared]
        if not notes:
            raise NoteError("This event has no notes shared with attendees or public yet.")
    preview = share_preview(event, audience)
    if not preview.recipients:
        if audience != SHARE_ALL:
            raise NoteError("Nobody in the group chosen can receive these notes.")
        raise NoteError(
            "Nobody can receive these notes yet: they go to people who attended and to those "
            "who asked for the session notes."
        )
    sent = _sent_pairs(notes)
    plan = {
        i.id: [n for n in notes if (n.id, normalise_email(i.email)) not in sent]
        for i in preview.recipients
    }
    plan = {invitation_id: due for invitation_id, due in plan.items() if due}
    already_had = len(preview.recipients) - len(plan)
    if not plan:
        raise NoteError("Everyone has already been sent the current revision of these notes.")
    invitations = {i.id: i for i in preview.recipients}
    # Confirmed subscribers get list mail's headers and a link to their preferences.
    by_email = list_mail_extras_for(invitations[invitation_id].email for invitation_id in plan)
    extras = {
        invitation_id: extras_of(by_email, invitations[invitation_id].email)
        for invitation_id in plan
    }
    rendered = {
        invitation_id: _render_share(
            invitations[invitation_id], event, due, extras[invitation_id][1]
        )
        for invitation_id, due in plan.items()
    }
    claimed = _claim(
        [
            (n.id, n.revision, normalise_email(invitations[invitation_id].email))
            for invitation_id, due in plan.items()
            for n in due
        ]
    )
    batch_key = f"{SHARE_BATCH_PREFIX}-{event.id}-{secrets.token_hex(8)}"
    messages = 0
    for invitation_id, due in plan.items():
        invitation = invitations[invitation_id]
        mine = [n for n in due if (n.id, normalise_email(invitation.email)) in claimed]
        if not mine:
            continue
        headers, footer_links = extras[invitation_id]
        mail = (
            rendered[invitation_id]
            if mine == due
            else _render_share(invitation, event, mine, footer_links)
        )
        message = build_message(
            to=_to(invitation),
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            headers=headers,
        )
        enqueue(message, kind="note_share", batch_key=batch_key, bulk=True)
        messages += 1
    if not messages:
        raise NoteError("These notes were sent a moment ago, from another page or by a colleague.")
    record(
        action="note.share",
        target=f"event:{event.id}",
        detail=f"{messages} mails, notes {', '.join(str(n.id) for n in notes)}, to {audience}",
        organiser=editor,
    )
    return ShareResult(batch_key, messages, already_had, preview.bounced)


def share_batch_belongs_to(batch_key: str, event: Event) -> bool:
    """Whether a batch key names a share of this event (so progress pages stay per event)."""
    return batch_key.startswith(f"{SHARE_BATCH_PREFIX}-{event.id}-")


def shares_by_note(event: Event) -> dict[int, int]:
    """How many addresses have had each note's current revision."""
    notes = notes_for_event(event)
    counts: dict[int, int] = defaultdict(int)
    for note_id, _email in _sent_pairs(notes):
        counts[note_id] += 1
    return dict(counts)


# --- the learning page


@dataclass(frozen=True)
class LearningSection:
    """One line of enquiry (or "Other learning") with its public notes, newest first."""

    title: str
    question: EnquiryQuestion | None
    notes: list[Note]


def learning(enquiry: Enquiry) -> list[LearningSection]:
    """Public notes of an enquiry's ended events, grouped by its lines of enquiry."""
    notes = db.session.scalars(
        select(Note)
        .join(Event, Event.id == Note.event_id)
        .where(
            Event.enquiry_id == enquiry.id,
            Event.status.in_([EventStatus.PUBLISHED, EventStatus.CANCELLED]),
            Event.ends_at <= utcnow(),
            Note.visibility == NoteVisibility.PUBLIC,
        )
        .options(joinedload(Note.event).joinedload(Event.enquiry), selectinload(Note.questions))
        .order_by(Event.starts_at.desc(), Note.created_at.desc(), Note.id.desc())
    ).all()
    by_question: dict[int | None, list[Note]] = defaultdict(list)
    for note in notes:
        for question in note.questions or [None]:
            by_question[question.id if question else None].append(note)
    sections = [LearningSection(q.title, q, by_question.get(q.id, [])) for q in enquiry.questions]
    sections.append(LearningSection("Other learning", None, by_question.get(None, [])))
    return sections


def erase_shares(*, email: str) -> int:
    """Forget that notes were shared with an address (for its erasure); how many records."""
    result = db.session.execute(
        delete(NoteShare)
        .where(NoteShare.email == email)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
