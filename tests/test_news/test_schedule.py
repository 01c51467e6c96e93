"""Scheduling: the send job starts a newsletter at its time; until then it can be changed or
cancelled, and once started it can be neither."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.mail.delivery import deliver_due
from placeevents.news import services
from placeevents.news.jobs import run_sends
from placeevents.news.models import NewsletterStatus


def test_scheduled_newsletters_wait_for_their_time_and_can_change_until_then(
    smtp: Any, reader: Any, make_newsletter: Any
) -> None:
    reader(email="ada@example.org")
    newsletter = make_newsletter(subject="First subject")
    when = utcnow().replace(microsecond=0) + timedelta(hours=2)
    services.schedule(newsletter=newsletter, when=when, organiser=None)
    db.session.commit()
    assert run_sends().startswith("0 started")

    services.update_newsletter(
        newsletter=newsletter,
        data=services.NewsInput(subject="Better subject", body=newsletter.body),
        organiser=None,
    )
    services.cancel_schedule(newsletter=newsletter, organiser=None)
    db.session.commit()
    assert newsletter.status == NewsletterStatus.DRAFT
    services.schedule(newsletter=newsletter, when=when, organiser=None)
    db.session.commit()

    with time_machine.travel(when + timedelta(seconds=5), tick=False):
        assert run_sends().startswith("1 started")
        deliver_due()
    assert smtp.last_to("ada@example.org").subject == "Better subject"
    db.session.refresh(newsletter)
    assert newsletter.status == NewsletterStatus.SENT
    with pytest.raises(services.NewsError, match="started sending"):
        services.cancel_schedule(newsletter=newsletter, organiser=None)
    db.session.rollback()
    with pytest.raises(services.NewsError, match="started sending"):
        services.update_newsletter(
            newsletter=newsletter, data=services.NewsInput(subject="Too late"), organiser=None
        )


def test_schedule_and_cancel_from_the_page(
    logged_in: Any, make_newsletter: Any, make_enquiry: Any
) -> None:
    make_enquiry(timezone="Europe/London")
    newsletter = make_newsletter()
    past = logged_in.post(
        f"/manage/news/{newsletter.id}/schedule", data={"send_at": "2001-01-01T10:00"},
        follow_redirects=True,
    )
    assert "Choose a time in the future" in past.get_data(as_text=True)
    assert newsletter.status == NewsletterStatus.DRAFT

    # Next year's 1 July, 09:30 in London (summer time), is 08:30 UTC.
    response = logged_in.post(
        f"/manage/news/{newsletter.id}/schedule",
        data={"send_at": f"{utcnow().year + 1}-07-01T09:30"}, follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "09:30 BST" in page and "can change it or cancel" in page
    db.session.refresh(newsletter)
    assert newsletter.status == NewsletterStatus.SCHEDULED
    assert (newsletter.scheduled_for.hour, newsletter.scheduled_for.minute) == (8, 30)

    logged_in.post(f"/manage/news/{newsletter.id}/cancel")
    db.session.refresh(newsletter)
    assert newsletter.status == NewsletterStatus.DRAFT and newsletter.scheduled_for is None
