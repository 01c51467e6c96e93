"""Factories for the invitations tests: invitations, their personal links, answers."""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from placeevents.extensions import db
from placeevents.invitations.links import RSVP_PURPOSE, rsvp_token
from placeevents.invitations.models import Invitation, InvitationSource
from placeevents.tokens import read_token


@pytest.fixture
def make_invitation(app: Flask, make_event: Callable[..., Any]) -> Callable[..., Invitation]:
    """An invitation (to a new event unless one is given)."""
    counter = iter(range(1, 100_000))

    def factory(**kw: Any) -> Invitation:
        n = next(counter)
        if "event" not in kw:
            kw["event"] = make_event()
        invitation = Invitation(
            email=kw.pop("email", f"guest{n}@example.org"),
            name=kw.pop("name", f"Guest {n}"),
            source=kw.pop("source", InvitationSource.PASTED),
            **kw,
        )
        db.session.add(invitation)
        db.session.commit()
        return invitation

    return factory


def rsvp_path(invitation: Invitation) -> str:
    """The path of an invitation's RSVP page."""
    return f"/rsvp/{rsvp_token(invitation)}"


def path_of(url: str) -> str:
    """The path (and query) of an absolute link read from a mail."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def answer(client: FlaskClient, invitation: Invitation, value: str, **form: str) -> Any:
    """POST an answer from the invitee's RSVP page."""
    return client.post(rsvp_path(invitation), data={"answer": value, **form})


def links_to(url: str, invitation: Invitation) -> bool:
    """Whether a mailed link opens this invitation's RSVP page (tokens carry their signing time)."""
    path = path_of(url)
    if not path.startswith("/rsvp/"):
        return False
    data = read_token(RSVP_PURPOSE, path.removeprefix("/rsvp/"))
    return data.row_id == invitation.id and data.nonce == invitation.token_nonce
