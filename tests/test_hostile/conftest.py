"""Fixtures for hostile input: a world with a row behind every URL, its forms, and snapshots.

Forms are found, not listed: every rule of the URL map is built with the world's ids and
tokens, its page rendered for an organiser (or a stranger), and each <form> on it parsed into
the fields a browser would send. New forms are covered as soon as a page shows them.
"""

import itertools
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from placeevents.enquiries.models import Enquiry
from placeevents.events.models import Event, EventStatus
from placeevents.extensions import db
from placeevents.invitations.models import EventMailing, Invitation, Rsvp
from placeevents.mail.models import OutboxMessage
from placeevents.notes.models import Note
from placeevents.notes.services import attendee_token

# Small and repeatable: the whole folder stays quick, and a failure names its example.
# HOSTILE_EXAMPLES=200 searches harder, for a run on purpose.
settings.register_profile(
    "hostile",
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "4")),
    deadline=None,
    derandomize=os.environ.get("CI", "").lower() == "true",
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
HOSTILE = settings.get_profile("hostile")

HUGE = 70 * 1024  # past MAX_FORM_MEMORY_SIZE

# What a hostile client types: anything, control characters, tricky and huge values.
odd_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(max_codepoint=0x9F), max_size=12),  # C0 and C1 controls
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\r\nBcc: x@example.org",
            "-1",
            "0",
            "2147483648",
            "9" * 40,
            "1e309",
            "NaN",
            "2024-13-45T25:61",
            "0000-00-00",
            "<script>x</script>",
            "' OR 1=1 --",
            "@",
            "a@b",
            "\u202eevil",
            "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
            "☃" * 300,
            "None",
            "[]",
        ]
    ),  # fmt: skip
    st.integers().map(str),
    st.builds(lambda c, n: c * n, st.sampled_from("xé€𝄞"), st.sampled_from([257, 5001, HUGE])),
)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The test app with rate limits off, so a flood of hostile posts reaches every view.

    No app context stays pushed: each request gets its own, as in production, so nothing one
    client's request leaves in `g` (such as the signed-in organiser) reaches another's.
    """
    return make_app(RATELIMIT_ENABLED=False)


# --- the world: a row behind every id in a path, a working token for every token link


@dataclass
class World:
    """The values a URL rule's arguments may take: rows in several states, so that every
    form shows on some page (a draft to publish, a failed message to retry, an offer…)."""

    ids: dict[str, list[int]]
    tokens: dict[str, list[str]]
    slugs: dict[str, str]

    def _choices(self, rule: Rule, name: str) -> list[Any]:
        if name in rule.defaults:
            return [rule.defaults[name]]
        if name in self.ids:
            return self.ids[name]
        if name == "token":
            return self.tokens.get(rule.endpoint, [])
        if name == "slug":
            blueprint = rule.endpoint.split(".")[0]
            return [self.slugs.get(rule.endpoint, self.slugs.get(blueprint, ""))]
        if name == "filename":
            return ["style.css"]
        return []

    def values(self, rule: Rule) -> list[dict[str, Any]]:
        """Each combination of the world's values for the rule's arguments (first: typical)."""
        names = sorted(rule.arguments)
        combos = itertools.product(*(self._choices(rule, n) for n in names))
        return [dict(zip(names, combo, strict=True)) for combo in combos]

    def paths(self, rule: Rule) -> list[str]:
        """The rule built with each combination of the world's values."""
        return [rule.build(v, append_unknown=False)[1] for v in self.values(rule)]

    def path(self, rule: Rule) -> str | None:
        found = self.paths(rule)
        return found[0] if found else None


def build_world() -> World:
    """Load the demo enquiry and add what it lacks: a mailing, an offer, a failed message, a
    bounce, an import preview, a second note revision, pending and unsubscribed people."""
    from placeevents.auth import services as auth
    from placeevents.auth.models import Role
    from placeevents.auth.services import create_organiser
    from placeevents.clock import utcnow
    from placeevents.demo import load_demo
    from placeevents.events.models import EventAccess, EventFormat
    from placeevents.invitations import attendance
    from placeevents.invitations.links import rsvp_token, stop_token
    from placeevents.invitations.models import InvitationSource, RsvpAnswer
    from placeevents.invitations.sending import RecipientChoice, parse_pasted, send_invitations
    from placeevents.mail.bounces import record_bounce
    from placeevents.mail.models import OutboxStatus
    from placeevents.news import services as news
    from placeevents.newsletter.imports import start_import
    from placeevents.newsletter.links import CONFIRM, PREFERENCES, STANDING, UNSUBSCRIBE, token_for
    from placeevents.newsletter.models import Subscriber, SubscriberStatus
    from placeevents.notes.models import NoteRevision

    organiser = create_organiser(
        email="organiser@example.org", name="Olive Organiser", password=PASSWORD
    )
    enquiry = load_demo()
    db.session.flush()
    archived = db.session.scalars(sa.select(Enquiry).where(Enquiry.id != enquiry.id)).first()
    events = list(db.session.scalars(sa.select(Event).order_by(Event.starts_at)))
    now = enquiry.created_at
    upcoming = [e for e in events if e.status == EventStatus.PUBLISHED and e.starts_at > now]
    event = upcoming[0]
    draft = next(e for e in events if e.status == EventStatus.DRAFT)
    past, checking_in = [e for e in events if e.starts_at < now and e.enquiry_id == enquiry.id][-2:]
    attendance.reopen_check_in(event=checking_in, organiser=organiser)
    send_invitations(
        event=event,
        choice=RecipientChoice(pasted=tuple(parse_pasted("Pat Pasted,pat@example.org")[0])),
        subject="Join us",
        body="Please come.",
        organiser=organiser,
    )
    # An open event with one place, taken, and a waiting list offered the place that opens.
    small = Event(
        enquiry=enquiry, slug="small-room", title="Small room", format=EventFormat.IN_PERSON,
        venue="Room 1",
        address="1 High Street", starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=2), status=EventStatus.PUBLISHED,
        access=EventAccess.OPEN, capacity=1, published_at=now,
    )  # fmt: skip
    db.session.add(small)
    first, second = (
        Invitation(event=small, email=f"{who}@example.org", name=who.title(),
                   source=InvitationSource.PASTED)
        for who in ("first", "second")
    )  # fmt: skip
    db.session.add_all([first, second])
    db.session.flush()
    for invitation in (first, second):
        attendance.answer_invitation(
            invitation=invitation, answer=attendance.Answer(answer=RsvpAnswer.YES)
        )
    # A place that opens the day before is offered, not given (see make_invitation).
    with time_machine.travel(small.starts_at - timedelta(days=1), tick=False):
        small.capacity = 2
        attendance.capacity_changed(event=small)
    assert second.rsvp is not None and second.rsvp.answer == RsvpAnswer.OFFERED

    def first_of(model: Any, *where: Any) -> Any:
        return db.session.scalars(sa.select(model).where(*where).order_by(model.id)).first()

    invitation = first_of(Invitation, Invitation.event_id == event.id)
    # Invited to a second upcoming event too, so their RSVP page answers the other at once.
    for other in upcoming[1:2]:
        if first_of(Invitation, Invitation.event_id == other.id,
                    Invitation.email == invitation.email) is None:  # fmt: skip
            db.session.add(Invitation(event=other, email=invitation.email, name=invitation.name,
                                      source=InvitationSource.PASTED))  # fmt: skip
    came = first_of(Invitation, Invitation.event_id == past.id)
    came_today = db.session.scalars(
        sa.select(Invitation)
        .join(Rsvp)
        .where(Invitation.event_id == checking_in.id, Rsvp.attended.is_(True))
        .order_by(Invitation.id)
    ).first()
    mailing = first_of(EventMailing, EventMailing.event_id == event.id)
    note = first_of(Note, Note.event_id == past.id) or first_of(Note)
    last = note.revisions[-1]
    db.session.add(
        NoteRevision(
            note=note, number=last.number + 1, title=last.title, body=last.body + " More.",
            kind=last.kind, visibility=last.visibility, attributed=last.attributed,
        )
    )  # fmt: skip
    note.revision = last.number + 1
    message = first_of(OutboxMessage)
    failed = OutboxMessage(**{
        c.name: getattr(message, c.name) for c in OutboxMessage.__table__.columns
        if c.name not in ("id", "message_id")
    }, message_id="<failed@placeevents.example>")  # fmt: skip
    failed.status = OutboxStatus.FAILED
    failed.raw = b"Subject: x\r\n\r\nx"
    db.session.add(failed)
    bounce = record_bounce(email="gone@example.org", reason="550 no such user")
    batch = start_import(filename="people.csv", data=b"email,name\nnew@example.org,New Person\n")
    subscriber = first_of(Subscriber)
    pending = Subscriber(
        email="pending@example.org", name="Penny Pending", status=SubscriberStatus.PENDING
    )
    gone = Subscriber(
        email="left@example.org", name="Lee Left", status=SubscriberStatus.UNSUBSCRIBED
    )
    db.session.add_all([pending, gone])
    db.session.flush()
    # A draft newsletter to edit, send or delete, and a scheduled one to cancel.
    news_draft = news.create_newsletter(
        data=news.NewsInput(subject="News", body="Some news."), organiser=organiser
    )
    news_scheduled = news.create_newsletter(
        data=news.NewsInput(subject="Later", body="Later news."), organiser=organiser
    )
    news.schedule(
        newsletter=news_scheduled, when=utcnow() + timedelta(days=1), organiser=organiser
    )
    # Colleagues: one with two-factor sign-in (for an admin to reset), one deactivated, and a
    # second session of the organiser's own to end.
    from flask import current_app

    from placeevents.auth import sessions, two_factor

    colleague = create_organiser(email="col@example.org", name="Col League", password=PASSWORD)
    two_factor.enable(organiser=colleague, secret=two_factor.new_secret(), step=0)
    former = create_organiser(email="former@example.org", name="Fo Rmer", password=PASSWORD)
    auth.deactivate(organiser=former)
    with current_app.test_request_context():
        other_session = sessions.start_session(organiser=organiser)
    # A colleague invited but not joined, one who forgot a password, one changing address.
    invited = auth.invite_colleague(email="new-colleague@example.org", role=Role.ORGANISER,
                                    invited_by=organiser)  # fmt: skip
    forgetful = create_organiser(email="forgot@example.org", name="Fay Forgot", password=PASSWORD)
    moving = create_organiser(email="moving@example.org", name="Mo Moving", password=PASSWORD)
    join_tokens = [auth.join_token(invited)]
    reset_tokens = [auth.reset_token(forgetful)]
    email_tokens = [auth.email_change_token(moving, "moved@example.org")]
    rsvp_tokens = [rsvp_token(i) for i in (invitation, second)]
    preferences = [token_for(PREFERENCES, s) for s in (subscriber, gone)]
    world = World(
        ids={
            "enquiry_id": [enquiry.id, archived.id],
            "question_id": [enquiry.questions[0].id, enquiry.questions[1].id],
            "event_id": [event.id, draft.id, past.id, checking_in.id],
            "invitation_id": [invitation.id, came.id, came_today.id],
            "mailing_id": [mailing.id],
            "note_id": [note.id],
            "number": [1],
            "message_id": [message.id, failed.id],
            "bounce_id": [bounce.id],
            "batch_id": [batch.id],
            "subscriber_id": [subscriber.id],
            "newsletter_id": [news_draft.id, news_scheduled.id],
            "organiser_id": [colleague.id, former.id],
            "session_id": [other_session.id],
        },
        tokens={
            "invitations.rsvp": rsvp_tokens,
            "invitations.answer": rsvp_tokens,
            "invitations.accept": rsvp_tokens[::-1],
            "invitations.answer_others": rsvp_tokens,
            "invitations.ask_standing": rsvp_tokens,
            "invitations.personal_calendar": rsvp_tokens,
            "invitations.stop": [stop_token(invitation)],
            "invitations.stop_confirm": [stop_token(invitation)],
            "notes.attendee_index": [attendee_token(came)],
            "notes.attendee_show": [attendee_token(came)],
            "newsletter.confirm": [token_for(CONFIRM, pending)],
            "newsletter.preferences": preferences,
            "newsletter.my_data": preferences,
            "newsletter.resubscribe": preferences[::-1],
            "newsletter.unsubscribe": [token_for(UNSUBSCRIBE, subscriber)],
            "newsletter.standing_invitation": [token_for(STANDING, subscriber)],
            "auth.join": join_tokens,
            "auth.reset_password": reset_tokens,
            "auth.confirm_email": email_tokens,
        },
        slugs={
            "calendar.enquiry_feed": enquiry.slug,
            "enquiries": enquiry.slug,
            "notes": enquiry.slug,
            "calendar": event.slug,
            "events": small.slug,
            "invitations": small.slug,
            "invitations.request_places": enquiry.slug,
        },
    )
    db.session.commit()
    return world


PASSWORD = "correct horse battery staple"


@pytest.fixture
def csrf_app(make_app: Callable[..., Flask]) -> Flask:
    """Like the suite's `csrf_app` (CSRF on, as in production), with no app context pushed."""
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.fixture
def world(app: Flask) -> World:
    with app.app_context():
        return build_world()


def log_in(client: FlaskClient) -> None:
    """Sign the organiser in, with the login form's CSRF token when the app wants one."""
    page = client.get("/login").get_data(as_text=True)
    data = {"email": "organiser@example.org", "password": PASSWORD}
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if token:
        data["csrf_token"] = token.group(1)
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def organiser_client(app: Flask, world: World) -> FlaskClient:
    client = app.test_client()
    log_in(client)
    return client


# --- rules and their forms


def is_organiser_rule(rule: Rule) -> bool:
    return rule.rule.startswith("/manage/") or rule.endpoint == "auth.logout"


# Forms no visit can reach here: they show only to an organiser half-way through a two-factor
# sign-in, and the fuzz signs in with a password alone (a code can be used once per 30 seconds,
# and it signs in many times). tests/test_team/test_two_factor.py drives both, codes and all.
FORMS_OUT_OF_REACH = {
    "auth.login_code": "the code asked for after the password",
    "manage.account.disable_two_factor": "turning two-factor sign-in off needs it on",
}


def rules_of(app: Flask, method: str) -> list[Rule]:
    """Every rule answering `method`, in a stable order (static files and dev pages aside)."""
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if method in r.methods
            and r.endpoint != "static"
            and not r.rule.startswith("/dev/")
            and not (method == "POST" and r.endpoint in FORMS_OUT_OF_REACH)
        ),
        key=lambda r: (r.rule, r.endpoint),
    )


@dataclass
class FormField:
    """One named control of a form, as a browser would send it."""

    name: str
    kind: str  # text, textarea, select, checkbox, radio, hidden, file, number, email, …
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class PageForm:
    action: str
    method: str
    enctype: str
    fields: dict[str, FormField] = field(default_factory=dict)
    # Other addresses the same fields go to, from buttons with a formaction.
    also_to: list[str] = field(default_factory=list)

    def defaults(self) -> list[tuple[str, str]]:
        """What a browser sends when the form is submitted untouched."""
        sent = []
        for f in self.fields.values():
            if f.kind == "file":
                continue
            if f.kind in ("checkbox", "radio", "select"):
                if f.options:
                    sent.append((f.name, f.value or f.options[0]))
                continue
            sent.append((f.name, f.value))
        return sent


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[PageForm] = []
        self.links: list[str] = []
        self._form: PageForm | None = None
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "form":
            self._form = PageForm(
                a.get("action", ""),
                a.get("method", "get").lower(),
                a.get("enctype", "application/x-www-form-urlencoded"),
            )
            self.forms.append(self._form)
            return
        form, name = self._form, a.get("name")
        if form is None:
            return
        if tag in ("button", "input") and a.get("formaction"):
            form.also_to.append(a["formaction"])
        if tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select.options.append(value)
            if "selected" in a:
                self._select.value = value
            return
        if not name:
            return
        if tag in ("input", "button"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            if kind in ("submit", "button", "reset", "image"):
                # A named submit button says which action was chosen.
                kind = "radio"
            known = form.fields.setdefault(name, FormField(name, kind))
            if kind in ("checkbox", "radio"):
                known.options.append(a.get("value", "on"))
                if "checked" in a and not known.value:
                    known.value = a.get("value", "on")
            else:
                known.value = a.get("value", "")
        elif tag == "select":
            self._select = form.fields.setdefault(name, FormField(name, "select"))
        elif tag == "textarea":
            self._textarea = form.fields.setdefault(name, FormField(name, "textarea"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data


def parse_page(html: str) -> tuple[list[PageForm], list[str]]:
    """The forms on a page, and the addresses it links to."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms, parser.links


def _local(address: str) -> str | None:
    parts = urlsplit(address)
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def find_form(
    app: Flask, world: World, rule: Rule, client: FlaskClient
) -> tuple[str, str, PageForm] | None:
    """A form that posts to `rule`, the page showing it, and the address it posts to.

    Looked for on the rule's own page, then its parents' pages, then every page of the site
    and the pages they link to (such as a new event's form, reached from its enquiry).
    """
    targets = world.paths(rule)
    adapter = app.url_map.bind("localhost")
    pages = [p for p in targets if "GET" in rule.methods]
    every = [p for r in rules_of(app, "GET") for p in world.paths(r)]
    pages += sorted(
        {p for p in every for t in targets if t.startswith(p.rstrip("/") + "/")},
        key=len, reverse=True,
    )  # fmt: skip
    pages += [p for p in every if p not in pages]
    seen: set[str] = set()
    while pages:
        page = pages.pop(0)
        if page in seen:
            continue
        seen.add(page)
        response = client.get(page)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        forms, links = parse_page(response.get_data(as_text=True))
        for form in forms:
            if form.method != "post":
                continue
            for address in [form.action or page, *form.also_to]:
                action = _local(address) or page
                try:
                    endpoint, _ = adapter.match(urlsplit(action).path, method="POST")
                except HTTPException:
                    continue
                if endpoint == rule.endpoint and urlsplit(action).path in targets:
                    return page, action, form
        # Pages reached only by a link with a query string (a new event for an enquiry).
        pages += [q for link in links if (q := _local(link)) and "?" in q and q not in seen]
    return None


# --- the database as rows


def snapshot(app: Flask) -> dict[str, int]:
    """How many rows each table holds, read in one query."""
    with app.app_context(), db.engine.connect() as conn:
        tables = db.metadata.sorted_tables
        count = sa.func.count()
        counts = conn.execute(
            sa.select(*(sa.select(count).select_from(t).scalar_subquery() for t in tables))
        ).one()
    return {t.name: n for t, n in zip(tables, counts, strict=True)}


_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
# The one write a GET may make (placeevents.db.bookkeeping_write): when a signed-in session was
# last seen, at most once a minute, so a slow run of a sweep meets it now and then.
_BOOKKEEPING = re.compile(r"^\s*UPDATE organiser_session SET last_seen_at=", re.IGNORECASE)


@contextmanager
def committed_writes(app: Flask) -> Iterator[list[str]]:
    """The INSERT, UPDATE and DELETE statements committed inside the block (rolled back ones
    do not count): what a refused request may not leave behind, row counts or not."""
    committed: list[str] = []
    pending: dict[int, list[str]] = {}

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if _WRITE.match(statement) and not _BOOKKEEPING.match(statement):
            pending.setdefault(id(conn), []).append(" ".join(statement.split())[:120])

    def commit(conn: Any) -> None:
        committed.extend(pending.pop(id(conn), []))

    def rollback(conn: Any) -> None:
        pending.pop(id(conn), None)

    with app.app_context():
        engine = db.engine
    hooks = [("before_cursor_execute", before), ("commit", commit), ("rollback", rollback)]
    for name, hook in hooks:
        sa.event.listen(engine, name, hook)
    try:
        yield committed
    finally:
        for name, hook in hooks:
            sa.event.remove(engine, name, hook)


def changed_tables(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [name for name in before if before[name] != after[name]]
