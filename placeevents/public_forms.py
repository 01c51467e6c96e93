"""Public forms that work without a session, so no anonymous page needs to set a cookie.

Forms on personal-link pages are protected by their link token. The open forms (signup,
request a place, fresh links) refuse a POST that a browser marks as sent from another site:
`Sec-Fetch-Site: cross-site`, or an `Origin` other than ours. A request with neither header
does not come from a browser, so it cannot be a forgery riding on someone's browser.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, request

from placeevents.extensions import csrf
from placeevents.forms import Form

View = TypeVar("View", bound=Callable[..., Any])

CROSS_SITE_MESSAGE = (
    "This form can only be sent from our own pages. Please open the page on our site and send "
    "the form from there."
)


class SessionlessForm(Form):
    """A public form: no CSRF token, hence no session cookie, is needed to render or send it."""

    class Meta:
        csrf = False


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def from_another_site() -> bool:
    """Whether the browser says this request was sent by a page of another site."""
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    ours = {_origin(current_app.config["PLACEEVENTS_BASE_URL"]), _origin(request.host_url)}
    # "null" (a sandboxed or privacy-sensitive context) is another origin too.
    return origin.lower() not in ours


def same_origin_only(view: View) -> View:
    """Serve an open form without session CSRF, refusing a POST sent from another site."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if request.method == "POST" and from_another_site():
            abort(403, description=CROSS_SITE_MESSAGE)
        return view(*args, **kwargs)

    return csrf.exempt(guarded)  # type: ignore[return-value]
