"""Rate limits by purpose: how many requests, counted per what, and which of them count."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import request
from flask_limiter.util import get_remote_address
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


def _login_refused(response: Response) -> bool:
    return response.status_code == 422


def _known_browser() -> bool:
    return is_known_browser(request.form.get("email", ""))


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

    Every view decorated with a purpose adds to the same counts.
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
