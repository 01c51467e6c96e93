"""The personal links of an invitation: its RSVP page and its "don't invite me" page."""

from placeevents.invitations.models import Invitation
from placeevents.tokens import kept_token, make_token
from placeevents.urls import external_url

RSVP_PURPOSE = "rsvp"
STOP_PURPOSE = "do-not-invite"


def rsvp_token(invitation: Invitation) -> str:
    """The token of an invitation's personal RSVP page."""
    return make_token(RSVP_PURPOSE, invitation.id, invitation.token_nonce)


def rsvp_url(invitation: Invitation) -> str:
    """The absolute link to an invitation's personal RSVP page."""
    return external_url("invitations.rsvp", token=rsvp_token(invitation))


def stop_token(invitation: Invitation) -> str:
    """The token of an invitation's "don't send me invitations" page: signed once per process
    for each invitation and nonce (every view of the RSVP page shows it; read without a
    max_age)."""
    return kept_token(STOP_PURPOSE, invitation.id, invitation.token_nonce)


def stop_url(invitation: Invitation) -> str:
    """The absolute link to the "don't send me invitations" page."""
    return external_url("invitations.stop", token=stop_token(invitation))
