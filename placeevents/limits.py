"""Every rate limit of the app in one table: per purpose, how many, counted per what.

Views take their limits from here (`@limits.SIGNUP`), and the README's table of rate limits is
this module in words (a test keeps them in step). Counts live where RATELIMIT_STORAGE_URI says:
with `redis://…` every process shares them; with `memory://` each process keeps its own.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app, request, session
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.wrappers import Response

from placeevents.addresses import normalise_email
from placeevents.auth.known_browsers import is_known_browser
from placeevents.extensions import limiter

View = TypeVar("View", bound=Callable[..., object])


def _client() -> str:
    return "client:" + (get_remote_address() or "unknown")


def _login_account() -> str:
    return "account:" + normalise_email(request.form.get("email", ""))


def _login_account_and_client() -> str:
    return _login_account() + "|" + _client()


def _pending_account() -> str:
    # The account whose password was given and whose code is awaited (see auth.views).
    pending = session.get("two_factor")
    account = pending.get("id") if isinstance(pending, dict) else None
    return f"organiser:{account}"


def _pending_account_and_client() -> str:
    return _pending_account() + "|" + _client()


def _address(field: str) -> Callable[[], str]:
    def key() -> str:
        return "address:" + normalise_email(request.form.get(field, ""))

    return key


def _link_token() -> str:
    # A hash, so link tokens (which open personal pages) are never written to the store.
    token = (request.view_args or {}).get("token", "")
    return "token:" + hashlib.sha256(str(token).encode()).hexdigest()[:32]


def _organiser() -> str:
    # The limiter runs before the login check, so a stranger's POST is counted per client.
    if not current_user.is_authenticated:
        return _client()
    return f"organiser:{current_user.id}"


def _login_refused(response: Response) -> bool:
    return response.status_code == 422


def _link_dead(response: Response) -> bool:
    return response.status_code in (404, 410)


def _known_browser() -> bool:
    return is_known_browser(request.form.get("email", ""))


def _only_a_preview() -> bool:
    return request.form.get("action") == "preview"


READS = frozenset({"GET", "HEAD", "OPTIONS"})


@limiter.request_filter
def _read_without_limits() -> bool:
    # Most requests are reads of pages no limit counts: they skip the limiter's bookkeeping.
    if request.method not in READS:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, "limited_on_reads", False)


@dataclass(frozen=True)
class Limit:
    """One rate limit: how many requests in a window, counted per what, and which count."""

    rate: str
    per: str
    counts: str
    key: Callable[[], str]
    methods: tuple[str, ...] | None = ("POST",)
    deduct_when: Callable[[Response], bool] | None = None
    exempt_when: Callable[[], bool] | None = None


@dataclass(frozen=True)
class Purpose:
    """The limits guarding one kind of request; decorate a view with it to apply them all.

    Every view decorated with a purpose adds to the same counts: three fresh-link requests an
    hour for an address means three whichever fresh-link form they come from.
    """

    code: str
    name: str
    limits: tuple[Limit, ...]

    def __call__(self, view: View) -> View:
        for limit in self.limits:
            view = limiter.shared_limit(
                limit.rate,
                scope=f"{self.code}/{limit.per}",
                key_func=limit.key,
                methods=list(limit.methods) if limit.methods else None,
                deduct_when=limit.deduct_when,
                exempt_when=limit.exempt_when,
            )(view)
        if any(limit.methods is None or READS & set(limit.methods) for limit in self.limits):
            view.limited_on_reads = True  # type: ignore[attr-defined]
        return view


LOGIN = Purpose(
    "login",
    "Organiser login",
    (
        Limit(
            "5 per minute",
            per="account and client",
            counts="failed attempts",
            key=_login_account_and_client,
            deduct_when=_login_refused,
        ),
        Limit(
            "20 per minute",
            per="client",
            counts="failed attempts, whatever the account",
            key=_client,
            deduct_when=_login_refused,
        ),
        # The backstop against guesses spread over many clients; a browser that has signed in
        # to the account before is let past it, so strangers cannot lock the organiser out.
        Limit(
            "10 per minute;50 per hour",
            per="account",
            counts="failed attempts from browsers that have never signed in to it",
            key=_login_account,
            deduct_when=_login_refused,
            exempt_when=_known_browser,
        ),
    ),
)

TWO_FACTOR = Purpose(
    "two-factor",
    "Two-factor sign-in codes",
    (
        Limit(
            "5 per minute",
            per="account and client",
            counts="wrong codes",
            key=_pending_account_and_client,
            deduct_when=_login_refused,
        ),
        Limit(
            "20 per minute",
            per="client",
            counts="wrong codes, whatever the account",
            key=_client,
            deduct_when=_login_refused,
        ),
        Limit(
            "10 per minute;50 per hour",
            per="account",
            counts="wrong codes",
            key=_pending_account,
            deduct_when=_login_refused,
        ),
    ),
)

PASSWORD_RESET = Purpose(
    "password-reset",
    "Password-reset requests",
    (
        Limit("3 per hour", per="email address", counts="form posts", key=_address("email")),
        Limit("30 per hour", per="client", counts="form posts", key=_client),
    ),
)

# Each personal link has its own count, so fifty colleagues behind one office address can each
# answer their own invitation; links that do not work are counted per client instead.
PERSONAL_LINK = Purpose(
    "personal-link",
    "Personal links (RSVP, confirm, preferences, unsubscribe, notes, team links)",
    (
        Limit("30 per minute", per="link", counts="answers and other form posts", key=_link_token),
        Limit(
            "60 per minute",
            per="client",
            counts="requests for a link that does not work (404 or 410)",
            key=_client,
            methods=None,
            deduct_when=_link_dead,
        ),
    ),
)

SIGNUP = Purpose(
    "signup",
    "Mailing-list signup",
    (
        Limit("5 per hour", per="email address", counts="form posts", key=_address("signup-email")),
        Limit("60 per hour", per="client", counts="form posts", key=_client),
    ),
)

REQUEST_PLACE = Purpose(
    "request-place",
    "Request a place",
    (
        Limit("5 per hour", per="email address", counts="form posts", key=_address("email")),
        Limit("60 per hour", per="client", counts="form posts", key=_client),
    ),
)

FRESH_LINK = Purpose(
    "fresh-link",
    "Fresh-link requests",
    (
        Limit("3 per hour", per="email address", counts="form posts", key=_address("email")),
        Limit("30 per hour", per="client", counts="form posts", key=_client),
    ),
)

ORGANISER_SEND = Purpose(
    "organiser-send",
    "Organiser sends",
    (
        Limit(
            "30 per hour",
            per="organiser",
            counts=(
                "invitations, messages, reminders, shared notes and newsletters sent, "
                "tests included"
            ),
            key=_organiser,
            exempt_when=_only_a_preview,
        ),
    ),
)

TABLE: tuple[Purpose, ...] = (
    LOGIN,
    TWO_FACTOR,
    PASSWORD_RESET,
    PERSONAL_LINK,
    SIGNUP,
    REQUEST_PLACE,
    FRESH_LINK,
    ORGANISER_SEND,
)
