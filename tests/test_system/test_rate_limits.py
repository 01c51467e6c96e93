"""Rate limits under gunicorn: with Redis the three workers keep one count, not one each."""

import threading
from collections import Counter

import pytest
from limits import parse_many

from placeevents.limits import SIGNUP
from tests.test_system.browser import Browser, Form, Page, StatusLog
from tests.test_system.conftest import Processes, wait_until

pytestmark = pytest.mark.system

# The signup form's smallest allowance: what one address may send in a burst.
ALLOWED = min(
    item.amount
    for limit in SIGNUP.limits
    if limit.per == "email address"
    for item in parse_many(limit.rate)
)
# Enough for each worker to let its own allowance through, were each counting alone.
BURST = 3 * ALLOWED + 3


def _signup_burst(url: str, log: StatusLog) -> list[Page]:
    """BURST people on one address press "Sign up" at the same moment, each on a connection
    of their own (so the workers share them out)."""
    people: list[tuple[Browser, Form]] = []
    for _ in range(BURST):
        browser = Browser(url, log)
        page = browser.get("/newsletter/signup")
        people.append((browser, page.form(action="/newsletter/signup")))
    start = threading.Barrier(BURST)
    pages: list[Page] = []
    lock = threading.Lock()

    def press(n: int, browser: Browser, form: Form) -> None:
        start.wait(timeout=60)
        page = browser.submit(
            form,
            **{"signup-name": f"Burst {n}", "signup-email": "burst@example.org",
               "signup-wants_news": "y"},
        )
        with lock:
            pages.append(page)

    threads = [
        threading.Thread(target=press, args=(n, *person)) for n, person in enumerate(people)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(pages) == BURST
    return pages


def test_three_gunicorn_workers_share_one_signup_limit_through_redis(
    migrated: str, redis_url: str, processes: Processes, status_log: StatusLog
) -> None:
    web = processes.gunicorn(migrated, workers=3, RATELIMIT_STORAGE_URI=redis_url)

    pages = _signup_burst(web.url, status_log)

    assert Counter(p.status for p in pages) == {200: ALLOWED, 429: BURST - ALLOWED}
    refused = next(p for p in pages if p.status == 429)
    assert "Too many attempts" in refused.body and refused.headers["Retry-After"]
    # The burst reached several workers, each of which would have let ALLOWED through alone.
    def logged() -> list[tuple[str, int]] | None:
        # A worker writes its access log line just after the response has gone.
        served = web.served("POST", "/newsletter/signup")
        return served if len(served) == BURST else None

    served = wait_until(logged, 10, "every signup in the access log")
    assert len({pid for pid, _ in served}) >= 2, served
    assert processes.tracebacks() == []
