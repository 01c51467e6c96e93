"""Links and headers for mail to subscribers: confirmation, preferences and one-click unsubscribe.

Other domains call preferences_url, unsubscribe_url and subscriber_mail_headers for every mail
they send to a subscriber.
"""

from sqlalchemy import select

from placeevents.extensions import db
from placeevents.newsletter.models import Subscriber, SubscriberStatus
from placeevents.tokens import make_token
from placeevents.web import external_url

CONFIRM = "newsletter-confirm"
PREFERENCES = "newsletter-preferences"
UNSUBSCRIBE = "newsletter-unsubscribe"

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


def subscriber_mail_headers(subscriber: Subscriber) -> dict[str, str]:
    """The List-Unsubscribe pair that every mail to a subscriber carries (RFC 2369, 8058)."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(subscriber)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def list_mail_extras(email: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """List headers and footer links for mail to this address, if it is a confirmed subscriber."""
    subscriber = db.session.scalar(
        select(Subscriber).where(
            Subscriber.email == email.strip().lower(),
            Subscriber.status == SubscriberStatus.CONFIRMED,
        )
    )
    if subscriber is None:
        return {}, []
    return (
        subscriber_mail_headers(subscriber),
        [("Your mailing list preferences", preferences_url(subscriber))],
    )
