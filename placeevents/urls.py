"""Links built away from a request: for mail, calendars, the worker and the audit log."""

from typing import Any

from flask import current_app


def base_url() -> str:
    """The site's public address (PLACEEVENTS_BASE_URL), as mail and calendar files carry it."""
    return current_app.config["PLACEEVENTS_BASE_URL"]


def path_for(endpoint: str, **values: Any) -> str:
    """The path of a page, e.g. /manage/events/3; no request context is needed."""
    return current_app.url_map.bind("placeevents.invalid").build(endpoint, values)


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for mail and calendars, built on PLACEEVENTS_BASE_URL (never Host).

    Works in requests, CLI commands and the worker alike: no request context is needed.
    """
    return base_url() + path_for(endpoint, **values)
