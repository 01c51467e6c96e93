"""Text helpers for notes; Markdown itself is rendered by placeevents.markdown, as everywhere."""

import re

from placeevents.markdown import markdown_to_text, render_markdown

__all__ = ["markdown_to_text", "plain_text", "render_markdown"]

_TAG_LIKE = re.compile(r"</?[A-Za-z][^<>]*>")


def plain_text(value: str | None) -> str:
    """A one-line value (title, name) for plain-text mail, without any markup typed into it."""
    return " ".join(_TAG_LIKE.sub("", value or "").split())
