"""The services other domains call, and the purge of unconfirmed signups."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import time_machine
from flask import Flask
from sqlalchemy import select

from placeevents.addresses import normalise_email
from placeevents.clock import utcnow
from placeevents.erasure import erase_person
from placeevents.extensions import db
from placeevents.jobs import load_jobs, run_due_jobs
from placeevents.mail.bounces import record_bounce
from placeevents.newsletter.models import Subscriber, SubscriberStatus, Suppression
from placeevents.newsletter.services import (
    add_do_not_invite,
    do_not_invite_among,
    invitable_subscribers,
    is_do_not_invite,
    is_suppressed,
    mask_email,
    suppression_hash,
)


def test_normalise_email() -> None:
    assert normalise_email("  Ada@Example.ORG \n") == "ada@example.org"


def test_mask_email() -> None:
    assert mask_email("ada@example.org") == "a***@example.org"
    assert mask_email("a@b.example") == "a***@b.example"


def test_invitable_subscribers_follow_the_format_rule(
    app: Flask, make_subscriber: Callable[..., Any]
) -> None:
    make_subscriber(email="f2f@example.org", wants_in_person=True, wants_online=False)
    make_subscriber(email="online@example.org", wants_in_person=False, wants_online=True)
    make_subscriber(email="both@example.org", wants_in_person=True, wants_online=True)
    make_subscriber(
        email="news@example.org", wants_in_person=False, wants_online=False, wants_news=True
    )
    make_subscriber(email="pending@example.org", status=SubscriberStatus.PENDING)
    make_subscriber(email="left@example.org", status=SubscriberStatus.UNSUBSCRIBED)
    make_subscriber(email="bounced@example.org")
    make_subscriber(email="refused@example.org")
    make_subscriber(email="suppressed@example.org")
    record_bounce(email="bounced@example.org", reason="550")
    add_do_not_invite("Refused@Example.org")
    db.session.add(Suppression(email_hash=suppression_hash("suppressed@example.org")))
    db.session.commit()

    def emails(**kw: bool) -> set[str]:
        return {s.email for s in invitable_subscribers(**kw)}

    assert emails(in_person=True, online=False) == {"f2f@example.org", "both@example.org"}
    assert emails(in_person=False, online=True) == {"online@example.org", "both@example.org"}
    assert emails(in_person=True, online=True) == {
        "f2f@example.org",
        "online@example.org",
        "both@example.org",
    }
    assert emails(in_person=False, online=False) == set()
    everyone = {"f2f@example.org", "online@example.org", "both@example.org", "news@example.org"}
    assert emails(in_person=False, online=False, any_interest=True) == everyone
    excluded = {"bounced@example.org", "refused@example.org", "suppressed@example.org"}
    assert emails(in_person=True, online=False, with_excluded=True) == {
        "f2f@example.org",
        "both@example.org",
        *excluded,
    }
    assert do_not_invite_among(["REFUSED@example.org ", "f2f@example.org"]) == {
        "refused@example.org"
    }


def test_do_not_invite_and_suppression(app: Flask) -> None:
    assert not is_do_not_invite("ada@example.org")
    first = add_do_not_invite(" ADA@example.org")
    second = add_do_not_invite("ada@example.org")
    db.session.commit()
    assert first.id == second.id and is_do_not_invite("Ada@Example.org")
    assert not is_suppressed("bob@example.org")
    erase_person(email="bob@example.org")
    db.session.commit()
    assert is_suppressed("BOB@example.org")
    assert "bob" not in db.session.scalar(select(Suppression.email_hash))


def test_unconfirmed_signups_are_purged_after_thirty_days(
    app: Flask, make_subscriber: Callable[..., Any]
) -> None:
    now = utcnow()
    make_subscriber(
        email="old@example.org",
        status=SubscriberStatus.PENDING,
        requested_at=now - timedelta(days=31),
    )
    make_subscriber(
        email="recent@example.org",
        status=SubscriberStatus.PENDING,
        requested_at=now - timedelta(days=29),
    )
    make_subscriber(
        email="came-back@example.org",
        status=SubscriberStatus.PENDING,
        requested_at=now - timedelta(days=31),
        unsubscribed_at=now - timedelta(days=60),
    )
    make_subscriber(email="confirmed@example.org", requested_at=now - timedelta(days=400))
    load_jobs()
    outcomes = run_due_jobs()
    assert outcomes["purge-unconfirmed"] == "2 unconfirmed signups purged"
    db.session.expire_all()
    people = {s.email: s.status for s in db.session.scalars(select(Subscriber))}
    assert people == {
        "recent@example.org": SubscriberStatus.PENDING,
        "came-back@example.org": SubscriberStatus.UNSUBSCRIBED,
        "confirmed@example.org": SubscriberStatus.CONFIRMED,
    }
    # Once per period, and idempotent when it runs again later.
    assert "purge-unconfirmed" not in run_due_jobs()
    with time_machine.travel(now + timedelta(hours=2), tick=False):
        assert run_due_jobs()["purge-unconfirmed"] == "0 unconfirmed signups purged"
