"""Links and headers for mail to subscribers: confirmation, preferences and one-click unsubscribe.

Other domains call list_mail_extras for every mail they send to a person, so a confirmed
subscriber always gets the list headers and the preferences link.
"""

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select

from placeevents.addresses import ascii_domain, normalise_email
from placeevents.extensions import db
from placeevents.mail.outbox import default_sender
from placeevents.newsletter.models import Subscriber, SubscriberStatus
from placeevents.tokens import make_token
from placeevents.urls import external_url

CONFIRM = "newsletter-confirm"
PREFERENCES = "newsletter-preferences"
UNSUBSCRIBE = "newsletter-unsubscribe"
STANDING = "newsletter-standing"


def token_for(purpose: str, subscriber: Subscriber) -> str:
    """A link token naming this subscriber for one purpose."""
    return make_token(purpose, subscriber.id, subscriber.token_nonce)


def confirm_url(subscriber: Subscriber) -> str:
    """The absolute link to the page with the "Confirm my subscription" button."""
    return external_url("newsletter.confirm", token=token_for(CONFIRM, subscriber))


def preferences_url(subscriber: Subscriber) -> str:
    """The absolute link to the subscriber's preferences page (it never expires)."""
    return external_url("newsletter.preferences", token=token_for(PREFERENCES, subscriber))


def unsubscribe_url(subscriber: Subscriber) -> str:
    """The absolute one-click unsubscribe link (RFC 8058); POST unsubscribes, GET asks."""
    return external_url("newsletter.unsubscribe", token=token_for(UNSUBSCRIBE, subscriber))


def standing_url(subscriber: Subscriber) -> str:
    """The absolute link to the page where a subscriber asks to be invited to every exploration
    of an enquiry (GET shows it, its button asks)."""
    return external_url("newsletter.standing_invitation", token=token_for(STANDING, subscriber))


def list_id() -> str:
    """The mailing list's List-Id (RFC 2919): the organisation's name and a label under the
    sender's domain, so mail filters can sort the list's mail into one folder."""
    sender = default_sender()
    name = " ".join(current_app.config["PLACEEVENTS_ORGANISATION"].replace('"', "").split())
    return f'"{name}" <mailing-list.{ascii_domain(sender.domain)}>'


def subscriber_mail_headers(subscriber: Subscriber) -> dict[str, str]:
    """The list headers every mail to a subscriber carries: List-Id (RFC 2919) and one-click
    List-Unsubscribe (RFC 2369, 8058)."""
    return {
        "List-Id": list_id(),
        "List-Unsubscribe": f"<{unsubscribe_url(subscriber)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


MailExtras = tuple[dict[str, str], list[tuple[str, str]]]
# What everyone who is not a confirmed subscriber gets: no list headers, no footer links.
NO_EXTRAS: MailExtras = ({}, [])


def list_mail_extras(email: str) -> MailExtras:
    """Headers and footer links for mail to an address: the list's if it is a confirmed subscriber.

    Anyone else gets neither, so a pasted address is never told it is on a list.
    """
    return extras_of(list_mail_extras_for([email]), email)


def list_mail_extras_for(emails: Iterable[str]) -> dict[str, MailExtras]:
    """list_mail_extras for many addresses in one query, keyed by normalised address."""
    wanted = {normalise_email(e) for e in emails}
    if not wanted:
        return {}
    subscribers = db.session.scalars(
        select(Subscriber).where(
            Subscriber.email.in_(wanted), Subscriber.status == SubscriberStatus.CONFIRMED
        )
    )
    return {
        s.email: (
            subscriber_mail_headers(s),
            [
                ("Your mailing list preferences", preferences_url(s)),
                ("Unsubscribe", unsubscribe_url(s)),
            ],
        )
        for s in subscribers
    }


def extras_of(found: dict[str, MailExtras], email: str) -> MailExtras:
    """One address's entry in a list_mail_extras_for result (nothing for non-subscribers)."""
    return found.get(normalise_email(email), NO_EXTRAS)
