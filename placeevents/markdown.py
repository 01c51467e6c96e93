"""Markdown written by organisers: rendered to safe HTML for pages, or to plain text for mail.

Markdown-it's "js-default" preset never passes raw HTML through; nh3 then keeps only the tags,
attributes and link schemes listed here, so no script, event handler or javascript:/data: link
survives whatever the source.
"""

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "s", "del", "code", "pre", "blockquote", "a",
    "ul", "ol", "li", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def _parser() -> MarkdownIt:
    # Images would load from other sites (and the CSP refuses them): written as links instead.
    return MarkdownIt("js-default").enable("table").enable("strikethrough").disable("image")


_md = _parser()


def _tokens(text: str) -> list[Token]:
    tokens = _md.parse(text or "")
    for token in tokens:
        # The page already has its h1: a "# heading" in a description becomes an h2.
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1]) + 1, 6)
            token.tag = f"h{level}"
    return tokens


def render_markdown(text: str) -> Markup:
    """Organiser-written Markdown as sanitised HTML, safe to put in any page or mail."""
    html = _md.renderer.render(_tokens(text), _md.options, {})
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    # nh3 has just removed everything not on the lists above.
    return Markup(cleaned)


def markdown_to_text(text: str) -> str:
    """Organiser-written Markdown as readable plain text (links spelled out), for text mail."""
    lines: list[str] = []
    prefix_stack: list[str] = []
    counters: list[int] = []
    for token in _md.parse(text or ""):
        if token.type == "bullet_list_open":
            counters.append(0)
            prefix_stack.append("-")
        elif token.type == "ordered_list_open":
            counters.append(int(token.attrGet("start") or 1) - 1)
            prefix_stack.append("1.")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            counters.pop()
            prefix_stack.pop()
            if not prefix_stack:
                lines.append("")
        elif token.type == "list_item_open":
            counters[-1] += 1
        elif token.type == "inline":
            content = _inline_text(token)
            if prefix_stack:
                marker = "-" if prefix_stack[-1] == "-" else f"{counters[-1]}."
                indent = "  " * (len(prefix_stack) - 1)
                lines.append(f"{indent}{marker} {content}")
            else:
                lines.append(content)
                lines.append("")
        elif token.type in ("fence", "code_block"):
            code = token.content.rstrip("\n").split("\n")
            lines.extend(("    " + line).rstrip() for line in code)
            lines.append("")
        elif token.type == "hr":
            lines.extend(["----", ""])
    return "\n".join(lines).strip() + ("\n" if lines else "")


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    href_stack: list[tuple[str, int]] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "link_open":
            href_stack.append((str(child.attrGet("href") or ""), len(parts)))
        elif child.type == "link_close" and href_stack:
            href, start = href_stack.pop()
            label = "".join(parts[start:])
            if href and href != label and href != f"mailto:{label}":
                parts.append(f" ({href})")
    return "".join(parts)
