"""Public forms that mail an address do the same work whether the address is known or not.

Each form below once rendered and queued mail only for a known address, so the database writes
(and the time they took) told a stranger who is on the list, invited or erased. Now each writes
one mail request whoever the address belongs to, and the worker decides what to send. The
tests compare the SQL writes of the requests, not their timings.

Request a place is the exception, by design: it registers a new address at once, so a new
address writes an invitation and its answer where an invited one writes only the mail with its
own link. What stays alike is the page: an invited address and an erased one see the same
words, which show no answer, name or place in line.
"""

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from placeevents.erasure import erase_person
from placeevents.events.models import EventAccess
from placeevents.extensions import db
from placeevents.invitations.models import Invitation, InvitationSource
from placeevents.mail.delivery import deliver_due
from placeevents.mail.models import MailRequest
from placeevents.newsletter.models import Subscriber, SubscriberStatus
from tests.conftest import DeliveringClient, count_queries

_WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)

KNOWN, UNKNOWN, ERASED = "known@example.org", "stranger@example.org", "erased@example.org"


def _writes(client: FlaskClient, path: str, data: dict[str, str]) -> tuple[Counter[str], Any]:
    """The SQL writes (kind and table, counted) of one POST, and how it was answered."""
    with count_queries() as statements:
        response = client.post(path, data=data)
    found: Counter[str] = Counter()
    for statement in statements:
        match = _WRITE.match(statement)
        if match:
            found[f"{match[1].split()[0].upper()} {match[2].lower()}"] += 1
    # A page that repeats the address typed is alike but for that address.
    body = _without_csrf(response.get_data()).replace(data.get("signup-email", "").encode(), b"")
    answer = (response.status_code, response.location, body)
    return found, answer


def _without_csrf(body: bytes) -> bytes:
    return re.sub(rb'(name="[\w-]*csrf_token"[^>]*value=")[^"]*"', rb'\1"', body)


def _alike(client: DeliveringClient, path: str, form: Callable[[str], dict[str, str]],
           addresses: list[str]) -> None:
    client.delivering = False  # each request alone, as the worker would find it
    outcomes = {address: _writes(client, path, form(address)) for address in addresses}
    writes = {address: found for address, (found, _) in outcomes.items()}
    answers = {address: answer for address, (_, answer) in outcomes.items()}
    assert writes[addresses[0]] == Counter({"INSERT mail_request": 1}), writes
    assert all(found == writes[addresses[0]] for found in writes.values()), writes
    assert all(answer == answers[addresses[0]] for answer in answers.values()), answers
    client.delivering = True
    deliver_due()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(MailRequest)) == 0


SIGNUP = {
    "signup-name": "Pat Person",
    "signup-organisation": "Some Council",
    "signup-wants_online": "y",
}


def test_signup_writes_alike_for_a_subscriber_a_stranger_and_an_erased_address(
    client: DeliveringClient, make_subscriber: Callable[..., Any], smtp: Any
) -> None:
    make_subscriber(email=KNOWN, status=SubscriberStatus.CONFIRMED)
    erase_person(email=ERASED)
    db.session.commit()

    _alike(client, "/newsletter/signup", lambda a: {**SIGNUP, "signup-email": a},
           [KNOWN, UNKNOWN, ERASED])

    assert "already" in smtp.last_to(KNOWN).subject.lower()
    assert len(smtp.to(UNKNOWN)) == 1  # the stranger is asked to confirm
    assert smtp.to(ERASED) == []
    assert db.session.scalar(select(Subscriber).where(Subscriber.email == ERASED)) is None


def test_newsletter_fresh_link_writes_alike_for_known_and_unknown(
    client: DeliveringClient, make_subscriber: Callable[..., Any], smtp: Any
) -> None:
    make_subscriber(email=KNOWN, status=SubscriberStatus.PENDING)

    _alike(client, "/newsletter/fresh-link", lambda a: {"email": a}, [KNOWN, UNKNOWN])

    assert len(smtp.to(KNOWN)) == 1 and smtp.to(UNKNOWN) == []


def test_rsvp_fresh_link_writes_alike_for_invited_and_unknown(
    client: DeliveringClient, make_event: Callable[..., Any], smtp: Any
) -> None:
    event = make_event()
    db.session.add(Invitation(event=event, email=KNOWN, name="Kim", source=InvitationSource.PASTED))
    db.session.commit()

    _alike(client, "/rsvp/fresh-link", lambda a: {"email": a}, [KNOWN, UNKNOWN])

    assert len(smtp.to(KNOWN)) == 1 and smtp.to(UNKNOWN) == []


def test_request_a_place_shows_an_invited_and_an_erased_address_the_same_page(
    client: DeliveringClient, make_event: Callable[..., Any], make_invitation: Any, smtp: Any
) -> None:
    event = make_event(access=EventAccess.OPEN, capacity=10)
    make_invitation(event, answer="yes", email=KNOWN, name="Kim Known")
    erase_person(email=ERASED)
    db.session.commit()
    path = f"/events/{event.slug}/request-place"

    client.delivering = False
    outcomes = {
        address: _writes(client, path, {"name": "Pat Person", "email": address})
        for address in (KNOWN, ERASED, UNKNOWN)
    }
    (known, shown), (erased, erased_shown) = outcomes[KNOWN], outcomes[ERASED]
    assert shown == erased_shown
    page = shown[2].decode()
    assert shown[0] == 200 and "We have sent the details to that address" in page
    for secret in ("Kim", "Pat Person", "coming", "waiting", "number"):
        assert secret not in page, secret
    assert known == Counter({"INSERT outbox_message": 1})  # the person's own link, again
    assert erased == Counter()
    assert {"INSERT invitation", "INSERT rsvp", "INSERT outbox_message"} <= set(
        outcomes[UNKNOWN][0]
    )
    client.delivering = True
    deliver_due()

    assert len(smtp.to(KNOWN)) == len(smtp.to(UNKNOWN)) == 1
    assert smtp.to(ERASED) == []
    emails = set(db.session.scalars(select(Invitation.email)))
    assert emails == {KNOWN, UNKNOWN}
