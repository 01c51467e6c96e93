"""The journeys' fixtures: a browser page whose served HTML is kept, an organiser signed in,
and one Nu HTML checker run per test module over every page its journeys reached."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ORGANISER_PASSWORD
from tests.test_journeys.checks import (
    HTML_BATCH,
    Hands,
    nu_errors,
    require_checkers,
    watch_documents,
)


@pytest.fixture(scope="module", autouse=True)
def valid_html() -> Iterator[None]:
    """After the module's journeys: every page they reached is valid HTML."""
    HTML_BATCH.take()
    yield
    errors = nu_errors(HTML_BATCH.take())
    assert not errors, "the Nu HTML checker found:\n" + "\n".join(errors)


@pytest.fixture
def journey_page(page: Any) -> Any:
    """The suite's Chromium page, keeping each document's served HTML for the checker."""
    require_checkers()
    watch_documents(page)
    return page


def sign_in(
    page: Any,
    url: str,
    email: str = "organiser@example.org",
    password: str = ORGANISER_PASSWORD,
    hands: Hands | None = None,
) -> None:
    """Sign an organiser in through the login form, by pointer unless other `hands` are given
    (`Hands(page, keyboard=True)`: with the keyboard alone)."""
    hands = hands or Hands(page, keyboard=False)
    page.goto(url + "/login")
    hands.fill(page.get_by_label("Email"), email)
    hands.fill(page.get_by_label("Password"), password)
    hands.press(page.get_by_role("button", name="Log in"))
    page.wait_for_url(lambda address: "/login" not in address)
