"""Queueing: in the caller's transaction, left to the worker, never with injected headers."""

import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placeevents.extensions import db
from placeevents.mail.delivery import deliver_due
from placeevents.mail.models import MailRequest, OutboxMessage, OutboxStatus
from placeevents.mail.outbox import MailHeaderError, address, build_message, enqueue
from tests.test_mail.conftest import ScriptedServer, queue_mail

SIGNUP = {"signup-name": "Ada Lovelace", "signup-wants_in_person": "y"}


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_a_rolled_back_transaction_sends_nothing(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    mail_app(**server.config())
    enqueue(build_message(to="someone@example.org", subject="Hi", text="Hello"), kind="test")
    db.session.rollback()

    assert deliver_due().sent == 0
    assert _count() == 0 and server.handler.received == []


def test_a_request_that_fails_after_queueing_sends_nothing(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    app = mail_app(**server.config())

    @app.post("/queue-then-fail")
    def queue_then_fail() -> str:
        enqueue(build_message(to="someone@example.org", subject="Hi", text="Hello"))
        abort(409)

    response = app.test_client().post("/queue-then-fail")

    assert response.status_code == 409
    db.session.remove()
    assert _count() == 0
    assert deliver_due().sent == 0 and server.handler.received == []


def test_mail_a_request_commits_is_delivered_from_the_outbox(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    app = mail_app(**server.config())

    @app.post("/queue")
    def queue() -> str:
        enqueue(build_message(to="someone@example.org", subject="Welcome", text="Hello"))
        db.session.commit()
        return "queued"

    assert app.test_client().post("/queue").status_code == 200

    [delivered] = server.handler.received
    assert delivered.subject == "Welcome" and delivered.rcpt_tos == ["someone@example.org"]
    row = db.session.scalar(select(OutboxMessage))
    assert row.status == OutboxStatus.SENT and row.message_id == delivered.message_id


def test_a_signup_answers_at_once_and_alike_while_the_mail_server_hangs(
    app: Flask, silent_server: socket.socket, make_subscriber: Callable[..., Any]
) -> None:
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=silent_server.getsockname()[1], MAIL_TIMEOUT=30
    )
    make_subscriber(email="known@example.org")
    # The stock client: nothing stands in for the worker after the request.
    app.test_client_class = FlaskClient
    client = app.test_client()

    answers = []
    for email in ("known@example.org", "new@example.org"):
        started = time.monotonic()
        response = client.post("/newsletter/signup", data={**SIGNUP, "signup-email": email})
        page = response.get_data(as_text=True).replace(email, "ADDRESS")
        answers.append((time.monotonic() - started, response.status_code, page))

    assert all(seconds < 5 for seconds, _, _ in answers), answers
    # The same page for both, but for the address it repeats.
    assert answers[0][1] == answers[1][1] == 200 and answers[0][2] == answers[1][2]
    db.session.remove()
    # Each queued the same request for the worker; nothing was rendered or queued to send yet.
    requests = db.session.scalars(select(MailRequest).order_by(MailRequest.id)).all()
    assert [(r.kind, r.email) for r in requests] == [
        ("newsletter.signup", "known@example.org"), ("newsletter.signup", "new@example.org")
    ]
    assert _count() == 0
    with pytest.raises(BlockingIOError):
        silent_server.accept()  # nobody even connected to the mail server


def test_a_request_whose_server_is_down_still_succeeds_and_leaves_mail_due(
    mail_app: Callable[..., Flask], closed_port: int
) -> None:
    app = mail_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port)

    @app.post("/queue")
    def queue() -> str:
        queue_mail(1)
        return "queued"

    assert app.test_client().post("/queue").status_code == 200
    db.session.remove()
    row = db.session.scalar(select(OutboxMessage))
    assert row.status == OutboxStatus.PENDING and row.attempts == 1


def test_message_id_is_stable_under_the_sender_domain_and_bcc_is_envelope_only(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    mail_app(**server.config())
    message = build_message(to=address("ann@example.org", "Ann"), subject="Hi", text="Hello")
    message["Bcc"] = "records@example.org"
    row = enqueue(message, kind="test")
    db.session.commit()

    assert row.message_id.endswith("@placeevents.example>")
    assert row.recipient_list == ["ann@example.org", "records@example.org"]
    deliver_due()
    [delivered] = server.handler.received
    assert delivered.message_id == row.message_id
    assert delivered.rcpt_tos == ["ann@example.org", "records@example.org"]
    assert "Bcc" not in delivered.message and b"records@" not in delivered.raw
    assert b"\r\n" in delivered.raw and b"\n" not in delivered.raw.replace(b"\r\n", b"")


@pytest.mark.parametrize(
    "build",
    [
        lambda: build_message(to="a@example.org", subject="Hi\r\nBcc: evil@example.com", text="x"),
        lambda: build_message(to="a@example.org\nBcc: evil@example.com", subject="Hi", text="x"),
        lambda: build_message(to=address("a@example.org", "Ann\x00Bcc: evil@example.com"),
                              subject="Hi", text="x"),
        lambda: build_message(to="a@example.org", subject="Hi", text="x",
                              headers={"X-Tag": "a\nBcc: evil@example.com"}),
        lambda: build_message(to="a@example.org", subject="Hi", text="x",
                              headers={"Bcc: evil@example.com\nX": "a"}),
        lambda: build_message(to="not-an-address", subject="Hi", text="x"),
    ],
)
def test_header_injection_is_refused(
    mail_app: Callable[..., Flask], build: Callable[[], object]
) -> None:
    mail_app()
    with pytest.raises(MailHeaderError):
        build()
    assert _count() == 0


def test_line_breaks_in_a_name_become_spaces(mail_app: Callable[..., Flask]) -> None:
    mail_app()
    message = build_message(
        to=address("a@example.org", "Ann\r\nBcc: evil@example.com"), subject="Hi", text="x"
    )
    assert message["To"].addresses[0].display_name == "Ann Bcc: evil@example.com"
    assert message["Bcc"] is None
    assert b"\nBcc:" not in message.as_bytes()


def test_awkward_names_and_subjects_are_encoded_not_spliced(
    mail_app: Callable[..., Flask], scripted_smtp: Callable[..., ScriptedServer]
) -> None:
    server = scripted_smtp()
    mail_app(**server.config())
    name = 'Zoë "Zed" O\'Brien, Leeds City Council'
    enqueue(build_message(to=address("zoe@example.org", name), subject="Café — 5 €", text="x"))
    db.session.commit()
    deliver_due()

    [delivered] = server.handler.received
    assert delivered.message["To"].addresses[0].display_name == name
    assert delivered.subject == "Café — 5 €"
    assert delivered.rcpt_tos == ["zoe@example.org"]
