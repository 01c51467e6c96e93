"""Mail requests: answered by the worker once each; one that fails waits, then is shown."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from placeevents.auth.services import create_organiser
from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.mail.delivery import deliver_due
from placeevents.mail.models import MailRequest
from placeevents.mail.outbox import build_message, enqueue
from placeevents.mail.requests import HANDLERS, QueuedRequest, request_mail
from placeevents.newsletter.models import Subscriber
from placeevents.newsletter.services import Details, Interests, request_signup
from tests.test_mail.conftest import ScriptedServer, flask_process


def _requests() -> list[MailRequest]:
    db.session.expire_all()
    return list(db.session.scalars(select(MailRequest).order_by(MailRequest.id)))


def _greet(request: QueuedRequest) -> None:
    enqueue(build_message(to=request.email, subject="Hello", text="Hello."), kind="test")


def _broken(request: QueuedRequest) -> None:
    enqueue(build_message(to=request.email, subject="Never", text="Never sent."), kind="test")
    raise RuntimeError("the handler tripped")


def test_a_failing_request_waits_then_fails_and_the_others_are_answered(
    mail_app: Callable[..., Flask],
    scripted_smtp: Callable[..., ScriptedServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = scripted_smtp()
    app = mail_app(**server.config(MAIL_MAX_ATTEMPTS=2))
    monkeypatch.setitem(HANDLERS, "test.greet", _greet)
    monkeypatch.setitem(HANDLERS, "test.broken", _broken)
    for kind, email in [("test.greet", "a@example.org"), ("test.broken", "b@example.org"),
                        ("test.unknown", "c@example.org"), ("test.greet", "d@example.org")]:
        request_mail(kind=kind, email=email)
    db.session.commit()

    report = deliver_due()

    assert (report.requests, report.sent) == (2, 2)
    assert sorted(d.rcpt_tos[0] for d in server.handler.received) == ["a@example.org",
                                                                       "d@example.org"]
    broken, unknown = _requests()
    assert (broken.attempts, broken.failed_at) == (1, None)
    assert broken.last_error == "the handler tripped" and broken.next_attempt_at > utcnow()
    assert "nothing answers mail requests of kind 'test.unknown'" in unknown.last_error
    assert deliver_due().requests == 0  # not due again yet

    with time_machine.travel(utcnow() + timedelta(hours=2), tick=True):
        deliver_due()
    assert [(r.attempts, r.failed_at is not None) for r in _requests()] == [(2, True)] * 2
    # What the broken handler queued was rolled back with it.
    assert len(server.handler.received) == 2

    create_organiser(email="o@example.org", name="O", password="correct horse battery")
    db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": "o@example.org", "password": "correct horse battery"})
    page = client.get("/manage/mail/").get_data(as_text=True)
    assert "Requests that could not be answered" in page
    assert "b@example.org" in page and "the handler tripped" in page


def test_three_workers_answer_each_request_exactly_once(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    app = mail_app(**server.config())
    addresses = [f"person{n}@example.org" for n in range(60)]
    with app.test_request_context(method="POST"):
        for address in addresses:
            request_signup(email=address, details=Details("Pat", Interests(online=True)))
        db.session.commit()

    workers = [flask_process(app, server, "worker", "--once") for _ in range(3)]
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err

    received: dict[str, Any] = {}
    for delivered in server.handler.received:
        received.setdefault(delivered.rcpt_tos[0], []).append(delivered)
    assert sorted(received) == sorted(addresses)
    assert all(len(mails) == 1 for mails in received.values())
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 60
    assert _requests() == []
