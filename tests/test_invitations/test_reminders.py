"""The automatic reminder before an event: once per person, even with two workers."""

import threading
from datetime import timedelta
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.clock import utcnow
from placeevents.events.models import EventFormat
from placeevents.extensions import db
from placeevents.jobs import load_jobs, run_due_jobs
from placeevents.mail.delivery import deliver_due
from placeevents.mail.models import OutboxMessage
from tests.test_invitations.conftest import answer


def test_reminders_go_once_with_two_workers_and_carry_the_join_link_online(
    app: Flask, client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    start = utcnow().replace(microsecond=0) + timedelta(days=10)
    event = make_event(
        format=EventFormat.HYBRID,
        starts_at=start,
        reminder_lead_hours=24,
        join_url="https://meet.example.org/abc",
    )
    room = make_invitation(event=event, email="room@example.org")
    screen = make_invitation(event=event, email="screen@example.org")
    unsure = make_invitation(event=event, email="unsure@example.org")
    answer(client, room, "yes", mode="in_person")
    answer(client, screen, "yes", mode="online")
    answer(client, unsure, "maybe")
    smtp.clear()
    load_jobs()

    with time_machine.travel(start - timedelta(hours=30), tick=False):
        run_due_jobs()
        deliver_due()
    assert smtp.messages == []  # not yet inside the lead time

    def worker() -> None:
        with app.app_context():
            run_due_jobs()
            db.session.remove()

    db.session.close()
    with time_machine.travel(start - timedelta(hours=23), tick=False):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    # A later period, both workers again: still nothing new.
    with time_machine.travel(start - timedelta(hours=20), tick=False):
        worker()
        worker()
        reminders = db.session.scalars(
            select(OutboxMessage.recipients).where(OutboxMessage.kind == "event_reminder")
        ).all()
        assert sorted(reminders) == ["room@example.org", "screen@example.org"]
        deliver_due()

    assert len(smtp.to("room@example.org")) == 1
    assert len(smtp.to("screen@example.org")) == 1
    assert smtp.to("unsure@example.org") == []
    in_room = smtp.last_to("room@example.org")
    assert in_room.subject.startswith("Coming up")
    assert "booked in person" in in_room.text() and "meet.example.org" not in in_room.text()
    online = smtp.last_to("screen@example.org").text()
    assert "booked online" in online and "https://meet.example.org/abc" in online


def test_a_yes_inside_the_lead_time_is_its_own_reminder(
    client: FlaskClient, make_event: Any, make_invitation: Any, smtp: Any
) -> None:
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    event = make_event(starts_at=start, reminder_lead_hours=48)
    late = make_invitation(event=event, email="late@example.org")
    load_jobs()
    with time_machine.travel(start - timedelta(hours=10), tick=False):
        answer(client, late, "yes")
        run_due_jobs()
        deliver_due()
    assert [m.subject for m in smtp.to("late@example.org")] == [f"You're coming: {event.title}"]
