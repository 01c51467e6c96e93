"""Who a newsletter reaches: by interest, by attendance, never the bounced, unsubscribed,
unconfirmed or erased; the count shown before sending is the number sent."""

from typing import Any

import pytest
from sqlalchemy import func, select

from placeevents.erasure import erase_person
from placeevents.extensions import db
from placeevents.mail.bounces import record_bounce
from placeevents.news import services
from placeevents.news.models import NewsletterRecipient
from placeevents.newsletter.models import SubscriberStatus
from tests.test_news.conftest import outbox_count, send_all


def _delivered(smtp: Any) -> set[str]:
    return {r for m in smtp.messages for r in m.rcpt_tos}


def test_news_by_default_and_any_chosen_interest(
    smtp: Any, make_subscriber: Any, make_newsletter: Any
) -> None:
    make_subscriber(email="news@example.org", wants_news=True, wants_in_person=False,
                    wants_online=False)
    make_subscriber(email="online@example.org", wants_in_person=False, wants_online=True)
    make_subscriber(email="room@example.org", wants_in_person=True, wants_online=False)

    news = make_newsletter()
    assert services.count_recipients(newsletter=news).recipients == 1
    send_all(news)
    assert _delivered(smtp) == {"news@example.org"}

    smtp.clear()
    both = make_newsletter(interests=("news", "online"))
    assert services.count_recipients(newsletter=both).recipients == 2
    send_all(both)
    assert _delivered(smtp) == {"news@example.org", "online@example.org"}


def test_narrowed_to_people_who_came_to_chosen_events(
    smtp: Any, reader: Any, make_newsletter: Any, make_invitation: Any, past_event: Any,
    make_event: Any,
) -> None:
    came = reader(email="came@example.org")
    reader(email="stayed-away@example.org")
    said_yes = reader(email="said-yes@example.org")
    elsewhere = reader(email="elsewhere@example.org")
    make_invitation(past_event, email=came.email, answer="yes", attended=True)
    make_invitation(past_event, email=said_yes.email, answer="yes")
    make_invitation(past_event, email="not-subscribed@example.org", answer="yes", attended=True)
    other = make_event(starts_at=past_event.starts_at, ends_at=past_event.ends_at)
    make_invitation(other, email=elsewhere.email, answer="yes", attended=True)

    newsletter = make_newsletter(event_ids=(past_event.id,))
    assert services.count_recipients(newsletter=newsletter).recipients == 1
    send_all(newsletter)
    assert _delivered(smtp) == {"came@example.org"}

    smtp.clear()
    both = make_newsletter(event_ids=(past_event.id, other.id))
    send_all(both)
    assert _delivered(smtp) == {"came@example.org", "elsewhere@example.org"}


def test_bounced_unsubscribed_unconfirmed_and_erased_are_left_out(
    smtp: Any, reader: Any, make_newsletter: Any
) -> None:
    reader(email="fine@example.org")
    reader(email="bounced@example.org")
    reader(email="gone@example.org", status=SubscriberStatus.UNSUBSCRIBED)
    reader(email="pending@example.org", status=SubscriberStatus.PENDING)
    reader(email="erased@example.org")
    record_bounce(email="bounced@example.org", reason="550 no such user")
    erase_person(email="erased@example.org")
    db.session.commit()

    newsletter = make_newsletter()
    count = services.count_recipients(newsletter=newsletter)
    assert (count.recipients, count.bounced, count.unsubscribed) == (1, 1, 1)
    send_all(newsletter)
    assert _delivered(smtp) == {"fine@example.org"}
    db.session.refresh(newsletter)
    assert (newsletter.recipients, newsletter.queued) == (1, 1)
    assert outbox_count() == 1


def test_the_edit_page_shows_the_count_before_sending(
    logged_in: Any, reader: Any, make_newsletter: Any
) -> None:
    for n in range(3):
        reader(email=f"reader{n}@example.org")
    newsletter = make_newsletter()
    page = logged_in.get(f"/manage/news/{newsletter.id}").get_data(as_text=True)
    assert "it would go to <strong>3</strong> subscribers" in page


def test_erasing_someone_removes_the_record_of_what_they_were_sent(
    smtp: Any, reader: Any, make_newsletter: Any
) -> None:
    reader(email="ada@example.org")
    reader(email="bob@example.org")
    send_all(make_newsletter())
    erase_person(email="ada@example.org")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(NewsletterRecipient)) == 1


def test_an_audience_names_real_events_and_at_least_one_interest(make_newsletter: Any) -> None:
    with pytest.raises(services.NewsError, match="Choose events from the list"):
        make_newsletter(event_ids=(999,))
    db.session.rollback()
    with pytest.raises(services.NewsError, match="at least one interest"):
        make_newsletter(interests=())
    db.session.rollback()
    with pytest.raises(services.NewsError, match="control characters"):
        make_newsletter(subject="Bell \x07 news")
