"""The audit log speaks words: every action the code records has words to show."""

import ast
from pathlib import Path
from typing import Any

from placeevents.audit.services import action_words

PACKAGE = Path(__file__).resolve().parents[2] / "placeevents"


def recorded_actions() -> set[str]:
    """Every literal action passed to record(action=…) anywhere in placeevents."""
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "record":
                for keyword in node.keywords:
                    if keyword.arg == "action" and isinstance(keyword.value, ast.Constant):
                        found.add(keyword.value.value)
    return found


def test_every_recorded_action_has_words(app: Any) -> None:
    actions = recorded_actions()
    assert len(actions) > 30
    words: dict[str, str] = app.extensions["audit.actions"]
    assert sorted(actions - words.keys()) == []
    with app.app_context():
        for action in actions:
            assert action_words(action)[0].isupper() and "." not in action_words(action)
