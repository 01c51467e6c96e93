"""Factories for notes tests: past events and notes (invitations come from tests/conftest.py)."""

from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask

from placeevents.clock import utcnow
from placeevents.extensions import db
from placeevents.notes import services
from placeevents.notes.models import NoteKind, NoteVisibility


@pytest.fixture
def past_event(make_event: Callable[..., Any]) -> Any:
    """A published event that ended yesterday."""
    starts = utcnow().replace(microsecond=0) - timedelta(days=1, hours=3)
    return make_event(starts_at=starts, ends_at=starts + timedelta(hours=2))


@pytest.fixture
def make_note(app: Flask) -> Callable[..., Any]:
    counter = iter(range(1, 10_000))

    def factory(event: Any, **kw: Any) -> Any:
        n = next(counter)
        questions = kw.pop("questions", [])
        data = services.NoteInput(
            title=kw.pop("title", f"Note {n}"),
            body=kw.pop("body", f"What we heard in session {n}."),
            kind=kw.pop("kind", NoteKind.SUMMARY),
            author_name=kw.pop("author_name", "Nadia Author"),
            visibility=kw.pop("visibility", NoteVisibility.PUBLIC),
            attributed=kw.pop("attributed", True),
            resources=kw.pop("resources", ""),
            tags=kw.pop("tags", ""),
            question_ids=[q.id for q in questions],
        )
        assert not kw, kw
        note = services.create_note(event=event, data=data, editor=None)
        db.session.commit()
        return note

    return factory


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("script", "iframe", "object", "embed", "style", "img", "svg"):
            if tag != "script" or not dict(attrs).get("src", "").startswith("/static/"):
                self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag}[{name}]")
            if name in ("href", "src", "action", "formaction") and value:
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "data:", "vbscript:")):
                    self.problems.append(f"{tag}[{name}={value}]")


def markup_problems(html: str) -> list[str]:
    """Script, handlers and javascript:/data: links found in a page or mail (none expected)."""
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser.problems


@pytest.fixture
def problems() -> Callable[[str], list[str]]:
    return markup_problems


XSS_PAYLOADS = [
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "<javascript:alert(1)>",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pixel](data:image/png;base64,iVBORw0KGgo=)",
    '<svg onload="alert(1)"></svg>',
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    '"><script>alert(1)</script>',
    '[x](https://ok.example "title" onmouseover=alert(1))',
]
