"""One queued message per (newsletter, subscriber): a double press, two workers at once, a
worker that dies mid-send, each leave exactly one."""

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.mail.delivery import deliver_due
from placeevents.mail.models import OutboxMessage
from placeevents.news import services
from placeevents.news.jobs import run_sends
from placeevents.news.models import Newsletter, NewsletterRecipient, NewsletterStatus

READERS = 60


@pytest.fixture
def readers(reader: Any) -> list[int]:
    """The ids of READERS subscribers who chose news."""
    return [reader(email=f"reader{n:03}@example.org").id for n in range(READERS)]


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "BATCH_SIZE", 7)


def _queued_per_address() -> Counter[str]:
    db.session.remove()
    return Counter(
        r for (recipients,) in db.session.execute(
            select(OutboxMessage.recipients).where(OutboxMessage.kind == "news_news")
        ) for r in recipients.split("\n")
    )


def _assert_once_each(readers: list[int], smtp: Any) -> None:
    counts = _queued_per_address()
    assert len(counts) == len(readers) and set(counts.values()) == {1}
    assert db.session.scalar(select(func.count()).select_from(NewsletterRecipient)) == READERS
    deliver_due()
    delivered = Counter(r for m in smtp.messages for r in m.rcpt_tos)
    assert len(delivered) == READERS and set(delivered.values()) == {1}
    assert len({m.message_id for m in smtp.messages}) == READERS


def test_send_pressed_twice_queues_once(
    logged_in: Any, smtp: Any, readers: list[int], make_newsletter: Any, small_batches: None
) -> None:
    newsletter = make_newsletter()
    form = {"subject": "Spring news", "body": "Hello all.", "interests": ["news"], "action": "send"}
    first = logged_in.post(f"/manage/news/{newsletter.id}/send", data=form)
    second = logged_in.post(f"/manage/news/{newsletter.id}/send", data=form)
    assert (first.status_code, second.status_code) == (303, 303)
    run_sends()
    # Pressed again once it has started: refused, and nothing more is queued.
    third = logged_in.post(f"/manage/news/{newsletter.id}/send", data=form)
    assert third.status_code == 422
    assert "started sending" in third.get_data(as_text=True)
    run_sends()
    _assert_once_each(readers, smtp)


def _worker(app: Flask, barrier: threading.Barrier, outcomes: list[str]) -> None:
    with app.app_context():
        barrier.wait()
        outcomes.append(run_sends())
        db.session.remove()


def test_two_workers_at_once_queue_each_subscriber_once(
    app: Flask, smtp: Any, readers: list[int], make_newsletter: Any, small_batches: None
) -> None:
    newsletter = make_newsletter()
    newsletter_id = newsletter.id
    services.send_now(newsletter=newsletter, organiser=None)
    db.session.commit()
    db.session.close()  # ours holds no lock while the workers run
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    threads = [threading.Thread(target=_worker, args=(app, barrier, outcomes)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2
    assert db.session.get(Newsletter, newsletter_id).status == NewsletterStatus.SENT
    _assert_once_each(readers, smtp)


def test_a_worker_that_dies_mid_send_is_taken_over_from_where_it_stopped(
    app: Flask, smtp: Any, readers: list[int], make_newsletter: Any, small_batches: None
) -> None:
    newsletter = make_newsletter()
    services.send_now(newsletter=newsletter, organiser=None)
    db.session.commit()
    services.start_due()
    db.session.commit()

    dead = services.claim_send(token="dead-worker")
    assert dead is not None
    db.session.commit()
    assert services.queue_batch(newsletter=dead, token="dead-worker")
    db.session.commit()
    # Its next batch was written but never committed: the process died.
    assert services.queue_batch(newsletter=dead, token="dead-worker")
    db.session.rollback()
    assert len(_queued_per_address()) == 7

    # While its lease runs, nobody else takes the send.
    assert run_sends().endswith("0 sends finished")
    with time_machine.travel(utcnow() + services.SEND_LEASE + timedelta(seconds=1), tick=False):
        assert run_sends().endswith("1 sends finished")
        _assert_once_each(readers, smtp)


def test_the_recipients_table_refuses_a_second_queueing(
    app: Flask, readers: list[int], make_newsletter: Any
) -> None:
    newsletter = make_newsletter()
    ids = readers[:3]
    assert services._claim_recipients(newsletter, ids) == set(ids)
    assert services._claim_recipients(newsletter, [*ids, readers[3]]) == {readers[3]}


def test_a_lost_reply_repeats_only_that_message_with_its_message_id(
    reader: Any, make_newsletter: Any, scripted_smtp: Any, mail_app: Any
) -> None:
    # mail_app after the factories, so its app context is pushed last and popped first.
    server = scripted_smtp()
    server.handler.data_script = ["250", "drop", "250"]
    mail_app(**server.config())
    for n in range(3):
        reader(email=f"reader{n}@example.org")
    newsletter = make_newsletter()
    services.send_now(newsletter=newsletter, organiser=None)
    db.session.commit()
    run_sends()

    report = deliver_due()
    assert (report.sent, report.retried) == (2, 1)
    with time_machine.travel(utcnow() + timedelta(hours=1), tick=False):
        assert deliver_due().sent == 1
    counts = server.handler.message_ids()
    assert len(counts) == 3 and sorted(counts.values()) == [1, 1, 2]
