"""Enquiries: finding them; opening, editing and archiving them."""

from functools import cache

from sqlalchemy import Row, Select, bindparam, func, select
from sqlalchemy.orm import selectinload

from placeevents.audit.services import Target, record
from placeevents.enquiries.models import Enquiry, EnquiryQuestion, EnquiryStatus
from placeevents.enquiries.timezones import is_valid_timezone
from placeevents.extensions import db
from placeevents.slugs import unique_slug
from placeevents.urls import path_for

DEFAULT_TIMEZONE = "Europe/London"


# The public pages' queries are built once, on first use (once every model is mapped): each
# request only runs them.
@cache
def _current_query() -> Select[tuple[Enquiry]]:
    return (
        select(Enquiry)
        .where(Enquiry.status == EnquiryStatus.CURRENT)
        .order_by(Enquiry.created_at.desc(), Enquiry.id.desc())
        .limit(1)
    )


# The two lists below are plain rows read on the session's connection: no ORM object to build.
@cache
def _archived_query() -> Select[tuple[str, str, str]]:
    enquiry = Enquiry.__table__.c
    return (
        select(enquiry.slug, enquiry.title, enquiry.summary)
        .where(enquiry.status == EnquiryStatus.ARCHIVED)
        .order_by(enquiry.created_at.desc())
    )


@cache
def _questions_query() -> Select[tuple[str, str]]:
    question = EnquiryQuestion.__table__.c
    return (
        select(question.title, question.body)
        .where(question.enquiry_id == bindparam("enquiry_id"))
        .order_by(question.position)
    )


def current_enquiry() -> Enquiry | None:
    """The enquiry the home page presents: the newest current one."""
    return db.session.scalar(_current_query())


def archived_enquiries() -> list[Row[tuple[str, str, str]]]:
    """Earlier enquiries, newest first: the slug, title and summary the public pages link."""
    return list(db.session.connection().execute(_archived_query()))


def public_questions(enquiry: Enquiry) -> list[Row[tuple[str, str]]]:
    """An enquiry's lines of enquiry in order, as its public page shows them: title and body."""
    return list(db.session.connection().execute(_questions_query(), {"enquiry_id": enquiry.id}))


def organisation_timezone() -> str:
    """The zone organiser records read in: the newest enquiry's (Europe/London before any)."""
    newest = select(Enquiry.timezone).order_by(Enquiry.created_at.desc(), Enquiry.id.desc())
    return db.session.scalar(newest) or DEFAULT_TIMEZONE


def audit_target(key: str) -> Target | None:
    """How an enquiry (by slug or id) reads in the audit log: its title, linked to its page."""
    if key.isdigit():
        enquiry = db.session.get(Enquiry, int(key))
    else:
        enquiry = db.session.scalar(select(Enquiry).where(Enquiry.slug == key))
    if enquiry is None:
        return None
    return Target(enquiry.title, path_for("manage.enquiries.show", enquiry_id=enquiry.id))


class EnquiryError(Exception):
    """An enquiry action refused, with a message for the organiser."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def all_enquiries() -> list[Enquiry]:
    """Every enquiry, current first then newest first, with its events loaded."""
    return list(
        db.session.scalars(
            select(Enquiry)
            .options(selectinload(Enquiry.events))
            .order_by(
                (Enquiry.status == EnquiryStatus.CURRENT).desc(),
                Enquiry.created_at.desc(),
                Enquiry.id.desc(),
            )
        )
    )


def enquiry_for_organisers(enquiry_id: int) -> Enquiry | None:
    """One enquiry with its questions and all its events (drafts included) loaded."""
    return db.session.scalar(
        select(Enquiry)
        .where(Enquiry.id == enquiry_id)
        .options(selectinload(Enquiry.questions), selectinload(Enquiry.events))
    )


def rule_errors(*, title: str, timezone: str) -> dict[str, str]:
    """Every rule an enquiry's title and time zone break, keyed by field."""
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Give the enquiry a title."
    if not is_valid_timezone(timezone):
        errors["timezone"] = (
            f"{timezone!r} is not a time zone we know. Use a name like Europe/London."
        )
    return errors


def _checked(title: str, timezone: str) -> str:
    errors = rule_errors(title=title, timezone=timezone)
    if errors:
        field, message = next(iter(errors.items()))
        raise EnquiryError(message, field=field)
    return " ".join(title.split())


def _archive_other_current(enquiry: Enquiry) -> None:
    for other in db.session.scalars(
        select(Enquiry).where(Enquiry.status == EnquiryStatus.CURRENT, Enquiry.id != enquiry.id)
    ):
        other.status = EnquiryStatus.ARCHIVED


def create_enquiry(*, title: str, summary: str, introduction: str, timezone: str) -> Enquiry:
    """Open a new enquiry; it becomes the current one and any other current one is archived."""
    title = _checked(title, timezone)
    enquiry = Enquiry(
        slug=unique_slug(Enquiry.slug, title, max_length=80, fallback="enquiry"),
        title=title,
        summary=summary.strip(),
        introduction=introduction.strip(),
        timezone=timezone,
        status=EnquiryStatus.CURRENT,
    )
    db.session.add(enquiry)
    db.session.flush()
    _archive_other_current(enquiry)
    db.session.flush()
    record(action="enquiry.create", target=f"enquiry {enquiry.slug}", detail=title)
    return enquiry


def update_enquiry(
    *, enquiry: Enquiry, title: str, summary: str, introduction: str, timezone: str
) -> Enquiry:
    """Change an enquiry's words or time zone (event times keep their moment in UTC)."""
    enquiry.title = _checked(title, timezone)
    enquiry.summary = summary.strip()
    enquiry.introduction = introduction.strip()
    enquiry.timezone = timezone
    db.session.flush()
    record(action="enquiry.update", target=f"enquiry {enquiry.slug}")
    return enquiry


def archive_enquiry(*, enquiry: Enquiry) -> Enquiry:
    """Move an enquiry to the archive: it leaves the home page and is listed with earlier ones."""
    enquiry.status = EnquiryStatus.ARCHIVED
    db.session.flush()
    record(action="enquiry.archive", target=f"enquiry {enquiry.slug}")
    return enquiry


def make_current(*, enquiry: Enquiry) -> Enquiry:
    """Make this the enquiry the home page presents; any other current one is archived."""
    enquiry.status = EnquiryStatus.CURRENT
    _archive_other_current(enquiry)
    db.session.flush()
    record(action="enquiry.make_current", target=f"enquiry {enquiry.slug}")
    return enquiry


def _question_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise EnquiryError("Give the line of enquiry a title.", field="title")
    return title


def add_question(*, enquiry: Enquiry, title: str, body: str) -> EnquiryQuestion:
    """Add a line of enquiry at the end of the enquiry's list."""
    title = _question_title(title)
    last = db.session.scalar(
        select(func.max(EnquiryQuestion.position)).where(EnquiryQuestion.enquiry_id == enquiry.id)
    )
    question = EnquiryQuestion(
        enquiry_id=enquiry.id, position=(last or 0) + 1, title=title, body=body.strip()
    )
    db.session.add(question)
    db.session.flush()
    return question


def update_question(*, question: EnquiryQuestion, title: str, body: str) -> EnquiryQuestion:
    """Change a line of enquiry's title or text."""
    question.title = _question_title(title)
    question.body = body.strip()
    db.session.flush()
    return question


def _siblings(question: EnquiryQuestion) -> list[EnquiryQuestion]:
    return list(
        db.session.scalars(
            select(EnquiryQuestion)
            .where(EnquiryQuestion.enquiry_id == question.enquiry_id)
            .order_by(EnquiryQuestion.position)
        )
    )


def move_question(*, question: EnquiryQuestion, offset: int) -> EnquiryQuestion:
    """Move a line of enquiry up (-1) or down (+1) the list; at either end it stays put."""
    siblings = _siblings(question)
    index = siblings.index(question)
    target = index + offset
    if offset not in (-1, 1) or not 0 <= target < len(siblings):
        return question
    other = siblings[target]
    mine, theirs = question.position, other.position
    # Positions are unique per enquiry: park one out of the way so each flush stays valid.
    question.position = 0
    db.session.flush()
    other.position = mine
    db.session.flush()
    question.position = theirs
    db.session.flush()
    return question


def remove_question(*, question: EnquiryQuestion) -> None:
    """Remove a line of enquiry and close the gap in the numbering."""
    siblings = [q for q in _siblings(question) if q.id != question.id]
    db.session.delete(question)
    db.session.flush()
    for position, sibling in enumerate(siblings, 1):
        if sibling.position != position:
            sibling.position = position
            # One at a time, in order, so no two rows ever share a position.
            db.session.flush()
