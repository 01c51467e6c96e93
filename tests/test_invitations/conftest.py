"""Helpers for the invitations tests: personal links and answers from the RSVP page."""

from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from placeevents.invitations.links import RSVP_PURPOSE, rsvp_token
from placeevents.invitations.models import Invitation
from placeevents.tokens import read_token


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
