"""What browsers and proxies may keep of a response."""

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, make_response, request
from flask_login import current_user
from werkzeug.wrappers import Response

# A public page may be kept this long by a shared cache (a proxy or CDN) before it asks again:
# short, so a change (a place taken, a new event) shows within a minute. A browser asks every
# time (max-age=0), and the ETag makes asking cheap: someone who has just taken the last place
# and goes back to the event's page sees it full.
PUBLIC_MAX_AGE = 60
# Written once: setting werkzeug's cache-control attributes one by one rebuilds the header each.
PUBLIC_CACHE_CONTROL = f"public, max-age=0, s-maxage={PUBLIC_MAX_AGE}"


def no_store(response: Response) -> Response:
    """Mark a personal page (reached by token, or an organiser's) never to be kept anywhere."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _anonymous_without_session() -> bool:
    """A visitor with no session cookie and not signed in sees what everyone sees."""
    if current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
        return False
    return not current_user.is_authenticated


def public_page(view: Callable[..., Any]) -> Callable[..., Response]:
    """A page every anonymous visitor sees alike (home, enquiry, event, learning, archive):
    `Cache-Control: public` with a short shared max-age and an ETag hashed from the body, so a proxy
    or CDN in front can serve it and a browser revalidates cheaply; a body that changes with
    the clock (an event that has started) changes its ETag with it.

    Anyone carrying a session (an organiser, or a visitor with a message waiting) gets a
    `private` answer: what they see may be theirs alone.
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        response = make_response(view(*args, **kwargs))
        headers = response.headers
        if "Vary" in headers:  # the view's own Vary is kept
            response.vary.add("Cookie")
        else:
            headers["Vary"] = "Cookie"
        if response.status_code != 200 or "Set-Cookie" in headers:
            return response
        if not _anonymous_without_session():
            response.cache_control.private = True
            response.cache_control.no_cache = True
            return response
        headers["Cache-Control"] = PUBLIC_CACHE_CONTROL
        response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
        return response.make_conditional(request)

    return wrapped
