"""The journeys' fixtures: a browser page whose served HTML is kept, an organiser signed in,
and one Nu HTML checker run per test module over every page its journeys reached."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ORGANISER_PASSWORD
from tests.test_journeys.checks import HTML_BATCH, nu_errors, require_checkers, watch_documents


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


def sign_in(page: Any, url: str, email: str = "organiser@example.org",
            password: str = ORGANISER_PASSWORD) -> None:
    """Sign an organiser in through the login form."""
    page.goto(url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda address: "/login" not in address)
