"""Refused mail: a domain may ask to hear when the mail server refuses one of its messages.

Most mail that cannot be delivered only needs its reason shown on the organisers' mail page and
the address put on the bounce list. A few messages stand for something that should not outlive
them (a place held for someone whose confirmation cannot reach them): their domain registers a
handler for the message's kind, and delivery calls it in the transaction that marks the
message failed.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from placeevents.extensions import db


@dataclass(frozen=True)
class RefusedMessage:
    """What a handler is given: the message's kind and batch key, its recipients and why."""

    kind: str
    batch_key: str | None
    recipients: tuple[str, ...]
    reason: str


Handler = Callable[[RefusedMessage], None]

# Filled by the domains as their modules are imported (create_app imports every domain).
HANDLERS: dict[str, Handler] = {}


def on_refused(kind: str) -> Callable[[Handler], Handler]:
    """Register the function delivery calls when a message of this kind is refused for good."""

    def register(handler: Handler) -> Handler:
        HANDLERS[kind] = handler
        return handler

    return register


def tell_refused(message: RefusedMessage) -> str:
    """Call the handler registered for the message's kind, if any, in a savepoint of the
    current transaction; "" if it did its work (or there is none), else what went wrong."""
    handler = HANDLERS.get(message.kind)
    if handler is None:
        return ""
    try:
        with db.session.begin_nested():
            handler(message)
    except Exception as exc:
        # The message is failed either way; what depended on it is logged and shown with it.
        current_app.logger.exception("could not act on the refusal of a %s message", message.kind)
        return str(exc) or type(exc).__name__
    return ""
