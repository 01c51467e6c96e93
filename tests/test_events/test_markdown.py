"""Markdown descriptions: formatting kept, every script vector removed."""

from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient

from placeevents.markdown import markdown_to_text, render_markdown

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<javascript:alert(1)>",
    '[click](https://ok.example "x\\" onmouseover=\\"alert(1)")',
    "<iframe src=https://evil.example></iframe>",
    "<style>body{display:none}</style>",
    "```html\n<script>alert(1)</script>\n```",
    "<details open ontoggle=alert(1)>",
    "[a]: javascript:alert(1)\n\n[click][a]",
]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _unsafe(html: str) -> list[str]:
    parser = _Tags()
    parser.feed(html)
    problems = []
    for tag, attrs in parser.tags:
        if tag in ("script", "iframe", "style", "img", "svg", "object", "embed", "details"):
            problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "src", "srcdoc"):
                problems.append(f"{tag}[{name}]")
            if name == "href" and not (value or "").startswith(("https://", "http://", "mailto:")):
                problems.append(f"{tag}[href={value}]")
    return problems


@pytest.mark.parametrize("payload", PAYLOADS)
def test_script_vectors_are_neutralised(payload: str) -> None:
    html = str(render_markdown(payload))
    assert _unsafe(html) == [], html


def test_formatting_survives(app: Any) -> None:
    html = str(
        render_markdown(
            "# Heading\n\nSome **bold**, *italic* and `code`.\n\n"
            "- one\n- two\n\n1. first\n2. second\n\n> quoted\n\n"
            "[A link](https://example.org/page) and mail@example.org"
        )
    )
    # The page's h1 is the event title: a heading in the description comes out one level down.
    assert "<h2>Heading</h2>" in html
    assert "<strong>bold</strong>" in html and "<em>italic</em>" in html
    assert "<code>code</code>" in html
    assert "<li>one</li>" in html and "<ol>" in html and "<blockquote>" in html
    assert (
        '<a href="https://example.org/page" rel="noopener noreferrer nofollow">A link</a>' in html
    )


def test_the_public_page_renders_descriptions_safely(client: FlaskClient, make_event: Any) -> None:
    make_event(slug="xss", description="\n\n".join(PAYLOADS) + "\n\n**Still bold**")
    page = client.get("/events/xss").get_data(as_text=True)
    assert "<strong>Still bold</strong>" in page
    parser = _Tags()
    parser.feed(page)
    scripts = [dict(attrs).get("src") for tag, attrs in parser.tags if tag == "script"]
    assert scripts == ["/static/js/site.js"]
    assert not [
        (tag, name)
        for tag, attrs in parser.tags
        for name, value in attrs
        if name.startswith("on") or (value or "").lower().startswith(("javascript:", "data:"))
    ]


def test_markdown_as_plain_text() -> None:
    text = markdown_to_text(
        "## Why we meet\n\nSome **bold** words and a [link](https://example.org/x).\n\n"
        "- one\n- two\n\n3. third\n4. fourth\n\n<script>alert(1)</script>"
    )
    assert text == (
        "Why we meet\n\n"
        "Some bold words and a link (https://example.org/x).\n\n"
        "- one\n- two\n\n"
        "3. third\n4. fourth\n\n"
        "alert(1)"
    )
    assert markdown_to_text("") == ""


def test_a_text_right_under_the_h1_starts_its_headings_at_h2() -> None:
    # A newsletter's "### Breaking" under its subject's h1 skipped a level (the HTML checker says).
    html = str(render_markdown("### Breaking\n\nNews.\n\n#### Detail", top_level=2))
    assert "<h2>Breaking</h2>" in html and "<h3>Detail</h3>" in html
    assert "<h3>Breaking</h3>" in str(render_markdown("## Breaking"))
