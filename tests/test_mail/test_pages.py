"""The organisers' outgoing-mail page and the development mailbox."""

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import func, select
from werkzeug.serving import make_server

from placeevents.audit.models import AuditEntry
from placeevents.extensions import db
from placeevents.mail.bounces import record_bounce
from placeevents.mail.delivery import deliver_due
from placeevents.mail.models import Bounce, OutboxMessage, OutboxStatus
from placeevents.mail.outbox import build_message, enqueue
from placeevents.urls import external_url
from tests.conftest import DeliveringClient, count_queries
from tests.test_mail.conftest import queue_mail


def _fail_all(reason: str) -> None:
    for row in db.session.scalars(select(OutboxMessage)):
        row.status = OutboxStatus.FAILED
        row.last_error = reason
    db.session.commit()


def test_the_outbox_page_lists_failed_pending_and_bounces_and_retries(
    logged_in: DeliveringClient, smtp: Any
) -> None:
    logged_in.delivering = False  # the mail waits, as it does while no worker runs
    queue_mail(2)
    _fail_all("554 5.6.0 Content refused")
    queue_mail(1, recipients=["waiting@example.org"])
    record_bounce(email="gone@example.org", reason="550 5.1.1 No such mailbox")
    db.session.commit()

    page = logged_in.get("/manage/mail/").get_data(as_text=True)

    assert "554 5.6.0 Content refused" in page and "person1@example.org" in page
    assert "waiting@example.org" in page
    assert "gone@example.org" in page and "550 5.1.1 No such mailbox" in page
    failed = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipients == "person1@example.org")
    )
    response = logged_in.post(f"/manage/mail/messages/{failed.id}/retry")
    assert response.status_code == 302
    db.session.expire_all()
    assert failed.status == OutboxStatus.PENDING and failed.attempts == 0
    assert db.session.scalar(select(AuditEntry.action)) == "mail.retry"
    deliver_due()
    assert sorted(d.rcpt_tos[0] for d in smtp.messages) == [
        "person1@example.org",
        "waiting@example.org",
    ]


def test_retrying_a_message_that_has_not_failed_says_so(logged_in: FlaskClient) -> None:
    [row] = queue_mail(1)
    response = logged_in.post(f"/manage/mail/messages/{row.id}/retry", follow_redirects=True)
    assert "has not failed; it is pending" in response.get_data(as_text=True)


def test_removing_an_address_from_the_bounce_list(logged_in: FlaskClient) -> None:
    bounce = record_bounce(email="fixed@example.org", reason="550 no")
    db.session.commit()
    response = logged_in.post(f"/manage/mail/bounces/{bounce.id}/remove", follow_redirects=True)
    assert "fixed@example.org is off the bounce list" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Bounce)) == 0
    assert logged_in.post(f"/manage/mail/bounces/{bounce.id}/remove").status_code == 404


def test_the_outbox_page_needs_a_login(client: FlaskClient) -> None:
    assert client.get("/manage/mail/").status_code == 302
    assert client.post("/manage/mail/messages/1/retry").status_code == 302


def test_the_outbox_page_runs_a_fixed_number_of_queries(logged_in: DeliveringClient) -> None:
    logged_in.delivering = False  # the mail waits, as it does while no worker runs

    def queries() -> int:
        with count_queries() as statements:
            assert logged_in.get("/manage/mail/").status_code == 200
        return len(statements)

    queue_mail(1, prefix="a")
    record_bounce(email="b1@example.org", reason="550")
    db.session.commit()
    few = queries()
    queue_mail(25, prefix="c")
    _fail_all("554 no")
    queue_mail(25, prefix="d")
    for n in range(25):
        record_bounce(email=f"b{n}x@example.org", reason="550")
    db.session.commit()
    assert queries() == few


# --- the development mailbox


@pytest.fixture
def dev_app(make_app: Callable[..., Flask], tmp_path: Path) -> Flask:
    return make_app(
        PLACEEVENTS_ENV="development",
        MAIL_SERVER="",
        PLACEEVENTS_MAILBOX_DIR=str(tmp_path / "mailbox"),
    )


def test_the_mailbox_is_development_only(make_app: Callable[..., Flask]) -> None:
    for env in ("testing", "production"):
        app = make_app(PLACEEVENTS_ENV=env, SECRET_KEY="a-real-secret")
        assert app.test_client().get("/dev/mailbox").status_code == 404


def test_development_without_a_server_writes_eml_files(dev_app: Flask, tmp_path: Path) -> None:
    with dev_app.app_context():
        enqueue(build_message(to="ann@example.org", subject="Hello Ann", text="Hi"))
        db.session.commit()
        assert deliver_due().sent == 1
    [eml] = (tmp_path / "mailbox").glob("*.eml")
    assert b"Subject: Hello Ann" in eml.read_bytes()
    client = dev_app.test_client()
    assert "Hello Ann" in client.get("/dev/mailbox").get_data(as_text=True)
    assert client.get("/dev/mailbox/..%2Ftest.db").status_code == 404
    assert client.get("/dev/mailbox/missing.eml").status_code == 404


@pytest.mark.browser
def test_the_mailbox_shows_a_delivered_message_in_chromium(dev_app: Flask, page: Any) -> None:
    dev_app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, dev_app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    dev_app.config["PLACEEVENTS_BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with dev_app.test_request_context():
            link = external_url("site.privacy")
            enqueue(
                build_message(
                    to="ann@example.org",
                    subject="Your place at Total Place 2.0",
                    text=f"Dear Ann,\n\nRead how we use your details: {link}\n",
                    html=f'<p>Dear Ann, <a href="{link}">our privacy notice</a>.</p>',
                    calendar=b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
                    calendar_method="REQUEST",
                    attachments=[("agenda.txt", "text/plain", b"10:00 Welcome\n")],
                )
            )
            db.session.commit()
            assert deliver_due().sent == 1
            db.session.remove()

        page.goto(f"{url}/dev/mailbox")
        page.get_by_role("link", name="Your place at Total Place 2.0").click()
        # The click starts a navigation: wait for the message's page to show its heading.
        expect(page.get_by_role("heading", name="Your place at Total Place 2.0")).to_be_visible()
        assert page.frame_locator("iframe.mailbox-html").get_by_text("our privacy notice")
        with page.expect_download() as download_info:
            page.get_by_role("link", name="agenda.txt").click()
        assert Path(download_info.value.path()).read_bytes() == b"10:00 Welcome\n"
        calendar = page.get_by_role("link", name=re.compile(r"\.ics$"))
        assert calendar.count() == 1
        page.get_by_role("link", name=link).click()
        page.wait_for_url(link)
        expect(page.get_by_role("heading", name=re.compile("Privacy"))).to_be_visible()
    finally:
        server.shutdown()
        thread.join(timeout=10)
