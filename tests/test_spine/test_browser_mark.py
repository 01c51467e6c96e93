"""Tests that drive Chromium carry @pytest.mark.browser, so a run can choose them or leave them."""

from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import pytest_collection_modifyitems


def _item(nodeid: str, fixtures: list[str], marked: bool) -> Any:
    mark = pytest.mark.browser.mark if marked else None
    return SimpleNamespace(
        nodeid=nodeid,
        fixturenames=fixtures,
        get_closest_marker=lambda name: mark if name == "browser" else None,
    )


def test_a_browser_test_without_the_mark_stops_the_run(pytestconfig: pytest.Config) -> None:
    items = [
        _item("test_marked", ["live_server", "page", "_browser"], marked=True),
        _item("test_plain", ["client"], marked=False),
        _item("test_unmarked", ["page", "_browser"], marked=False),
    ]
    with pytest.raises(pytest.UsageError, match="test_unmarked") as refused:
        pytest_collection_modifyitems(pytestconfig, items)
    assert "test_marked" not in str(refused.value) and "test_plain" not in str(refused.value)

