"""flask demo load: the Total Place 2.0 enquiry, dated relative to today."""

from datetime import datetime, timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from placeevents.auth.services import create_organiser
from placeevents.clock import utcnow
from placeevents.enquiries.models import Enquiry, EnquiryQuestion, EnquiryStatus
from placeevents.enquiries.timezones import from_local, to_local
from placeevents.events.models import Event, EventAccess, EventFormat, EventStatus
from placeevents.extensions import db
from placeevents.invitations import attendance
from placeevents.invitations.models import (
    AttendanceMode,
    Invitation,
    InvitationSource,
    RsvpAnswer,
)
from placeevents.news import services as news
from placeevents.news.models import Newsletter, NewsletterStatus
from placeevents.newsletter.models import ConsentSource, Subscriber, SubscriberStatus
from placeevents.notes.models import Note, NoteKind, NoteRevision, NoteVisibility

demo_cli = AppGroup("demo", help="Demo content.")

TIMEZONE = "Europe/London"
DEMO_ENQUIRY_SLUGS = ("total-place-2", "leading-beyond-boundaries")
ENQUIRY_TITLE = (
    "Total Place 2.0: What would it take to shift place-based approaches from the margins to "
    "the mainstream?"
)

INTRODUCTION = """
Place-based leadership means leading beyond the walls of any one organisation: councils,
health services, community groups and residents working together for places that are thriving,
resilient and fair. The Centre has worked this way for many years, through programmes such as
Total Place, Community Budgets, Local Vision and the early integrated care systems, and locally
on food poverty, loneliness, homelessness and support for people living complex lives.

The value of working this way is well documented, yet it still sits at the edges. Silos of
power, money and governance tend to absorb or reject change, lessons from one programme are
lost in the rush to bid for the next, and the many national pilots rarely connect with each
other, let alone with the whole system.

Over the year we are holding a series of face-to-face and online explorations with people who
know this work best. Each one takes up one of three lines of enquiry. Join the mailing list to
be invited to any or all of them.
"""

QUESTIONS = [
    (
        "Breaking the continuous cycle of bid and pilot",
        "Competitive bidding draws money into bid-writing capacity and rewards those who already "
        "have it. How could places stop chasing the next pot and instead build lasting capacity "
        "for change, growing the impact of what has already been invested?",
    ),
    (
        "Shifting responsibility for whole-system working to national bodies",
        "Today local leaders are expected to join up a fragmented system. What if it were the "
        "other way round, with local services assessing, challenging and holding national bodies "
        "to account for becoming more place-based?",
    ),
    (
        "Sharing and amplifying the learning",
        "The way initiatives are funded and reported keeps much of their learning sealed inside "
        "them. What spaces do we need so that experience flows between places and is amplified?",
    ),
]

# (slug, title, format, day offset, start, end, venue, address, question index, description)
EVENTS = [
    (
        "opening-exploration-london",
        "Opening exploration: why does place-based working stay at the margins?",
        EventFormat.IN_PERSON,
        -84,
        (10, 0),
        (13, 0),
        "The Leadership Centre",
        "Westminster, London",
        None,
        "We begin the enquiry together: what we have learned from two decades of place-based "
        "programmes, why so much of it fades when the funding ends, and which questions matter "
        "most for the year ahead.",
    ),
    (
        "bid-and-pilot-online",
        "Beyond bid and pilot: building change capacity that lasts",
        EventFormat.ONLINE,
        -42,
        (14, 0),
        (15, 30),
        "",
        "",
        0,
        "An online exploration of the first line of enquiry, with leaders who have lived the "
        "cycle of bidding, piloting and starting again. What would it take to fund places for "
        "the long haul?",
    ),
    (
        "national-bodies-manchester",
        "Who holds the whole system? National bodies and local accountability",
        EventFormat.IN_PERSON,
        -14,
        (10, 30),
        (13, 0),
        "Friends Meeting House",
        "6 Mount Street, Manchester",
        1,
        "A face-to-face exploration of the second line of enquiry: what it would look like for "
        "local public services to rate, challenge and hold national bodies to account.",
    ),
    (
        "learning-that-travels-bristol",
        "Learning that travels: how do lessons move between places?",
        EventFormat.HYBRID,
        10,
        (10, 0),
        (12, 30),
        "The Station",
        "Silver Street, Bristol",
        2,
        "Join us in Bristol or online to work on the third line of enquiry: the spaces we need "
        "so that what one place learns can be taken up by others.",
    ),
    (
        "living-systems-online",
        "Living systems and lasting change",
        EventFormat.ONLINE,
        38,
        (13, 0),
        (14, 30),
        "",
        "",
        None,
        "Living systems theory predicts that systems absorb change efforts. It also suggests a "
        "way forward: experiments that disturb the system long enough for it to change. We "
        "explore what that means in practice.",
    ),
    (
        "closing-gathering-birmingham",
        "From the margins to the mainstream: closing gathering",
        EventFormat.IN_PERSON,
        66,
        (10, 0),
        (16, 0),
        "Birmingham and Midland Institute",
        "Margaret Street, Birmingham",
        None,
        "We bring the year's learning together and agree what we will ask of national and local "
        "leaders next.",
    ),
]

PEOPLE = [
    ("Amara Okafor", "amara.okafor@example.org", "Leeds City Council", "Head of Communities"),
    ("Ben Hughes", "ben.hughes@example.org", "NHS Greater Manchester", "Place Lead"),
    ("Catherine Doyle", "catherine.doyle@example.org", "Bristol Community Trust", "Director"),
    ("Dev Patel", "dev.patel@example.org", "Local Government Association", "Adviser"),
    ("Eilidh Ross", "eilidh.ross@example.org", "Fife Health and Social Care", "Programme Manager"),
    ("Farid Haddad", "farid.haddad@example.org", "Birmingham Food Network", "Coordinator"),
    ("Grace Mensah", "grace.mensah@example.org", "Department for Levelling Up", "Policy Lead"),
    ("Hannah Price", "hannah.price@example.org", "Cornwall Council", "Assistant Director"),
    ("Isaac Wright", "isaac.wright@example.org", "Shelter", "Regional Manager"),
    ("Joanna Kowalska", "joanna.kowalska@example.org", "Camden Council", "Strategy Officer"),
    ("Kwame Asante", "kwame.asante@example.org", "Leadership Centre enabler", "Facilitator"),
    ("Laura Bennett", "laura.bennett@example.org", "Integrated Care Board", "Chief Officer"),
]

# Per event: (title, kind, visibility, attributed, question indexes, body, free tags).
NOTES = {
    "opening-exploration-london": [
        (
            "What we heard at the opening exploration",
            NoteKind.SUMMARY,
            NoteVisibility.PUBLIC,
            False,
            [0, 2],
            "Around thirty leaders from councils, health, the voluntary sector and government "
            "met to open the enquiry.\n\n"
            "- Several places described doing the same partnership work three times under "
            "three different programme names.\n"
            "- The learning from Total Place is still relevant, but few people in post today "
            "know it exists.\n"
            "- People asked for fewer new pilots and more patient support for what already "
            "works.",
            "funding, continuity",
        ),
        (
            "Facilitator reflections",
            NoteKind.FACILITATOR,
            NoteVisibility.PRIVATE,
            True,
            [],
            "Energy dipped after the break; next time start the table conversations earlier. "
            "Follow up with the two national officials who asked for a smaller conversation.",
            "facilitation",
        ),
    ],
    "bid-and-pilot-online": [
        (
            "Key insights: the cost of the bidding cycle",
            NoteKind.INSIGHTS,
            NoteVisibility.PUBLIC,
            False,
            [0],
            "1. Bid-writing capacity has become a hidden tax on smaller places.\n"
            "2. Short funding windows push partnerships to propose new things rather than grow "
            "existing work.\n"
            "3. Participants suggested pooling a share of each pot into long-term place "
            "development funds.",
            "funding, bidding",
        ),
        (
            "Actions agreed",
            NoteKind.ACTIONS,
            NoteVisibility.ATTENDEES,
            True,
            [0],
            "- Collect examples of long-term funding agreements from three places.\n"
            "- Share the slides and the reading list with everyone who took part.",
            "follow-up",
        ),
    ],
    "national-bodies-manchester": [
        (
            "Session summary: turning accountability the other way round",
            NoteKind.SUMMARY,
            NoteVisibility.PUBLIC,
            False,
            [1, 2],
            "We tested a thought experiment: local services publishing an annual review of how "
            "well national bodies support place-based work.\n\n"
            "People saw promise in it, and real risks: it could become another compliance "
            "exercise unless national bodies co-design it.",
            "accountability, national bodies",
        ),
    ],
}


def _at(day_offset: int, hour_minute: tuple[int, int], today: datetime) -> datetime:
    local_day = (to_local(today, TIMEZONE) + timedelta(days=day_offset)).date()
    naive = datetime(local_day.year, local_day.month, local_day.day, *hour_minute)
    return from_local(naive, TIMEZONE).utc


def load_demo() -> Enquiry:
    """Create the demo enquiry, its events, subscribers, answers, attendance and notes."""
    now = utcnow()
    archived = Enquiry(
        slug="leading-beyond-boundaries",
        title="Leading beyond boundaries: what did Total Place teach us?",
        summary="Our earlier enquiry, looking back at a decade of place-based programmes.",
        introduction="An enquiry into the lessons of Total Place and Community Budgets, "
        "and which of them still hold.",
        timezone=TIMEZONE,
        status=EnquiryStatus.ARCHIVED,
        created_at=now - timedelta(days=400),
    )
    enquiry = Enquiry(
        slug="total-place-2",
        title=ENQUIRY_TITLE,
        summary="A year of face-to-face and online explorations of place-based leadership.",
        introduction=INTRODUCTION.strip(),
        timezone=TIMEZONE,
        status=EnquiryStatus.CURRENT,
        created_at=now,
    )
    enquiry.questions = [
        EnquiryQuestion(position=i, title=title, body=body)
        for i, (title, body) in enumerate(QUESTIONS, start=1)
    ]
    db.session.add_all([archived, enquiry])

    subscribers = [
        Subscriber(
            email=email,
            name=name,
            organisation=org,
            role=role,
            wants_in_person=i % 3 != 2,
            wants_online=i % 3 != 0,
            wants_news=i % 2 == 0,
            status=SubscriberStatus.CONFIRMED,
            consent_text_version="2024-02",
            consent_source=ConsentSource.IMPORT,
            requested_at=now - timedelta(days=120),
            confirmed_at=now - timedelta(days=119),
        )
        for i, (name, email, org, role) in enumerate(PEOPLE)
    ]
    db.session.add_all(subscribers)

    for slug, title, fmt, offset, start, end, venue, address, _, description in EVENTS:
        starts_at = _at(offset, start, now)
        event = Event(
            enquiry=enquiry,
            slug=slug,
            title=title,
            description=description,
            format=fmt,
            venue=venue,
            address=address,
            join_url="https://meet.example.org/total-place-" + slug
            if fmt != EventFormat.IN_PERSON
            else "",
            hosts="Kwame Asante and the Leadership Centre team",
            starts_at=starts_at,
            ends_at=_at(offset, end, now),
            capacity=30 if fmt != EventFormat.ONLINE else None,
            rsvp_deadline=starts_at - timedelta(days=2),
            status=EventStatus.DRAFT if offset > 60 else EventStatus.PUBLISHED,
            access=EventAccess.OPEN if fmt == EventFormat.HYBRID else EventAccess.INVITATION,
            published_at=now - timedelta(days=100) if offset <= 60 else None,
        )
        db.session.add(event)
        if offset < 0:
            _past_answers(event, subscribers, offset)
            attendance.close_check_in(event=event, organiser=None)
        elif offset < 60:
            _upcoming_answers(event, subscribers)
        for n_title, kind, visibility, attributed, qs, body, tags in NOTES.get(slug, []):
            note = Note(
                event=event,
                title=n_title,
                body=body,
                kind=kind,
                visibility=visibility,
                attributed=attributed,
                author_name="Kwame Asante" if attributed else "",
                questions=[enquiry.questions[q] for q in qs],
                tags=tags,
            )
            note.revisions = [
                NoteRevision(
                    number=1,
                    title=n_title,
                    body=body,
                    kind=kind,
                    visibility=visibility,
                    attributed=attributed,
                    author_name=note.author_name,
                    tags=tags,
                )
            ]
            db.session.add(note)

    old_event = Event(
        enquiry=archived,
        slug="total-place-ten-years-on",
        title="What Total Place taught us, ten years on",
        description="A look back with people who led the original pilots.",
        format=EventFormat.IN_PERSON,
        venue="The Leadership Centre",
        address="Westminster, London",
        starts_at=_at(-380, (10, 0), now),
        ends_at=_at(-380, (13, 0), now),
        status=EventStatus.PUBLISHED,
        published_at=now - timedelta(days=420),
    )
    db.session.add(old_event)
    db.session.flush()
    _sent_newsletters(now)
    return enquiry


NEWS_SUBJECT = "Spring update: what we heard, and where we meet next"
NEWS_BODY = """
Thank you to everyone who came to our first explorations. The conversations kept returning to
one theme: places spend too much of their energy bidding for the next pot of money, and too
little growing what earlier programmes started.

Some of you asked how to take part if you cannot travel. Every line of enquiry will have at
least one online session, and the notes from each one are published for everyone.
"""


def _sent_newsletters(now: datetime) -> None:
    """A newsletter and a learning digest, as sent weeks ago, so the archive has something in
    it (no mail is queued for them)."""
    reached = sum(1 for p in range(len(PEOPLE)) if p % 2 == 0)
    digest = news.create_digest(organiser=None)
    update = Newsletter(
        subject=NEWS_SUBJECT,
        body=NEWS_BODY.strip() + "\n\n" + news.block_markdown(block="events"),
    )
    db.session.add(update)
    for newsletter, days_ago in ((update, 40), (digest, 12)):
        newsletter.status = NewsletterStatus.SENT
        newsletter.started_at = newsletter.finished_at = now - timedelta(days=days_ago)
        newsletter.recipients = newsletter.queued = reached
    db.session.flush()


def _invite(event: Event, subscriber: Subscriber) -> Invitation:
    invitation = Invitation(
        event=event,
        email=subscriber.email,
        name=subscriber.name,
        organisation=subscriber.organisation,
        role=subscriber.role,
        subscriber_id=subscriber.id,
        source=InvitationSource.SUBSCRIBER,
        sent_at=event.starts_at - timedelta(days=21),
    )
    db.session.add(invitation)
    return invitation


def _past_answers(event: Event, subscribers: list[Subscriber], offset: int) -> None:
    db.session.flush()
    for i, subscriber in enumerate(subscribers):
        invitation = _invite(event, subscriber)
        pattern = (i + offset) % 4
        if pattern == 3:
            continue  # never answered
        answer = RsvpAnswer.YES if pattern in (0, 1) else RsvpAnswer.NO
        attendance.record_history(
            invitation=invitation,
            answer=attendance.Answer(
                answer=answer,
                mode=AttendanceMode.IN_PERSON if event.has_place else AttendanceMode.ONLINE,
                wants_notes=answer == RsvpAnswer.NO and i % 2 == 0,
                question="How do we keep learning alive between programmes?" if i % 3 == 0 else "",
            ),
            answered_at=event.starts_at - timedelta(days=10),
            came=i % 5 != 0,
        )


def _upcoming_answers(event: Event, subscribers: list[Subscriber]) -> None:
    db.session.flush()
    for i, subscriber in enumerate(subscribers[:8]):
        invitation = _invite(event, subscriber)
        if i % 3 == 2:
            continue
        answer = RsvpAnswer.YES if i % 3 == 0 else RsvpAnswer.MAYBE
        attendance.record_history(
            invitation=invitation,
            answer=attendance.Answer(
                answer=answer,
                mode=AttendanceMode.ONLINE
                if event.format == EventFormat.ONLINE or i % 2
                else AttendanceMode.IN_PERSON,
            ),
            answered_at=utcnow() - timedelta(days=2),
        )


@demo_cli.command("load")
@click.option("--force", is_flag=True, help="Load even if the database already has enquiries.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if data exists.")
@click.option("--organiser", "organiser_email", help="Also create this organiser account.")
@click.option("--password", help="The password for --organiser.")
def load_command(
    force: bool, if_empty: bool, organiser_email: str | None, password: str | None
) -> None:
    """Load the Total Place 2.0 demo enquiry (refuses if data exists, unless --force)."""
    existing = db.session.scalar(select(func.count()).select_from(Enquiry))
    if existing and if_empty:
        click.echo("The database already has enquiries; the demo was not loaded.")
        return
    if existing and not force:
        raise click.ClickException(
            "the database already has enquiries; use --force to add the demo anyway"
        )
    if force and existing:
        # Demo slugs and addresses are unique: clear the earlier demo before loading again.
        _remove_demo()
    enquiry = load_demo()
    if organiser_email:
        if not password:
            raise click.ClickException("--organiser needs --password")
        from placeevents.auth.models import Organiser, Role

        if not db.session.scalar(select(Organiser.id).where(Organiser.email == organiser_email)):
            # An admin, so the demo shows the team and the settings too.
            create_organiser(
                email=organiser_email, name="Demo organiser", password=password, role=Role.ADMIN
            )
    db.session.commit()
    click.echo(f"Loaded the demo enquiry '{enquiry.slug}' with {len(EVENTS)} events.")


def _remove_demo() -> None:
    demo_enquiries = select(Enquiry.id).where(Enquiry.slug.in_(DEMO_ENQUIRY_SLUGS))
    # Every event of the demo enquiries goes with them, whatever its slug.
    events = select(Event).where(
        Event.slug.in_([e[0] for e in EVENTS]) | Event.enquiry_id.in_(demo_enquiries)
    )
    for event in db.session.scalars(events):
        for note in db.session.scalars(select(Note).where(Note.event_id == event.id)):
            db.session.delete(note)
        attendance.forget_event(event=event)
        db.session.delete(event)
    for enquiry in db.session.scalars(
        select(Enquiry).where(Enquiry.slug.in_(DEMO_ENQUIRY_SLUGS))
    ):
        db.session.delete(enquiry)
    demo_newsletters = select(Newsletter).where(
        Newsletter.subject.in_([NEWS_SUBJECT, f"What we are learning: {ENQUIRY_TITLE}"[:200]])
    )
    for newsletter in db.session.scalars(demo_newsletters):
        db.session.delete(newsletter)
    emails = [p[1] for p in PEOPLE]
    for subscriber in db.session.scalars(select(Subscriber).where(Subscriber.email.in_(emails))):
        db.session.delete(subscriber)
    db.session.flush()
