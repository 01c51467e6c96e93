"""Markdown for notes: readable formatting in, nothing executable out."""

import pytest

from placeevents.notes.rendering import markdown_to_text, render_markdown

from .conftest import XSS_PAYLOADS, markup_problems


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payloads_never_come_out_executable(payload: str) -> None:
    html = str(render_markdown(f"Before\n\n{payload}\n\nAfter {payload}"))
    assert markup_problems(html) == []
    assert "<script" not in html.lower()
    text = markdown_to_text(payload)
    assert "<script" not in text.lower() and "<img" not in text.lower()


def test_markdown_formatting_survives() -> None:
    html = str(
        render_markdown(
            "## Heard\n\n- one **bold**\n- two\n\n1. first\n2. second\n\n"
            "> quoted\n\nSee [the paper](https://example.org/paper?a=1&b=2)."
        )
    )
    # The page's own headings come first: a heading in a note comes out one level down.
    assert "<h3>Heard</h3>" in html
    assert "<li>one <strong>bold</strong></li>" in html
    assert "<ol>" in html and "<blockquote>" in html
    assert 'href="https://example.org/paper?a=1&amp;b=2"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_forbidden_links_keep_their_words_but_lose_the_link() -> None:
    html = str(render_markdown("[click here](javascript:alert(1)) and [ok](https://ok.example)"))
    assert "click here" in html and "javascript" not in html
    assert 'href="https://ok.example"' in html


def test_plain_text_keeps_structure_and_spells_out_links() -> None:
    text = markdown_to_text(
        "First paragraph\nwraps here.\n\n- one\n- two\n\n3. three\n4. four\n\n"
        "[the paper](https://example.org/p) and <b>bold</b>"
    )
    assert text.splitlines() == [
        "First paragraph wraps here.",
        "",
        "- one",
        "- two",
        "",
        "3. three",
        "4. four",
        "",
        "the paper (https://example.org/p) and bold",
    ]
    assert markdown_to_text("") == ""
