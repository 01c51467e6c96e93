"""Markdown written by organisers: rendered to safe HTML for pages, or to plain text for mail.

Markdown-it's "js-default" preset never passes raw HTML through; nh3 then keeps only the tags,
attributes and link schemes listed here, so no script, event handler or javascript:/data: link
survives whatever the source.
"""

import re
from functools import lru_cache
from html.parser import HTMLParser

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
    md = MarkdownIt("js-default").enable("table").enable("strikethrough").disable("image")
    # Every link target becomes an <a> and nh3 drops any href outside URL_SCHEMES, so a
    # javascript: or data: link shows as its label rather than as its raw source text.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


_md = _parser()


def _tokens(text: str, top_level: int | None) -> list[Token]:
    tokens = _md.parse(text or "")
    headings = [t for t in tokens if t.type in ("heading_open", "heading_close")]
    # The page already has its h1: a "# heading" in a description becomes an h2. Where the text
    # sits right under the h1, its shallowest heading becomes `top_level`, so none is skipped.
    shift = 1 if top_level is None or not headings else (
        top_level - min(int(t.tag[1]) for t in headings)
    )
    for token in headings:
        token.tag = f"h{min(max(int(token.tag[1]) + shift, 2), 6)}"
    return tokens


# Pages show the same few descriptions and notes over and over: each text is rendered once per
# process while it stays among the most recently shown (the functions are pure).
RENDERED_KEPT = 256


def render_markdown(text: str, *, top_level: int | None = None) -> Markup:
    """Organiser-written Markdown as sanitised HTML, safe to put in any page or mail; with
    `top_level`, its shallowest heading takes that level (the others follow it)."""
    return _render_markdown(text or "", top_level)


@lru_cache(maxsize=RENDERED_KEPT)
def _render_markdown(text: str, top_level: int | None) -> Markup:
    html = _md.renderer.render(_tokens(text, top_level), _md.options, {})
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    # nh3 has just removed everything not on the lists above.
    return Markup(cleaned)


_TAG_LIKE = re.compile(r"</?[A-Za-z][^<>]*>")
_BLANK_LINES = re.compile(r"\n{3,}")
_BLOCKS = {"p", "blockquote", "pre", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}


class _TextWriter(HTMLParser):
    # Turns the cleaned HTML back into readable plain text: bullets, numbers, "text (link)".
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int]] = []
        self.links: list[tuple[str, int]] = []
        self.in_pre = False

    def _newline(self, count: int = 1) -> None:
        text = "".join(self.out)
        trailing = len(text) - len(text.rstrip("\n"))
        if text and trailing < count:
            self.out.append("\n" * (count - trailing))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("ul", "ol"):
            self._newline(1 if self.lists else 2)
            start = int(values.get("start") or 1) if tag == "ol" else 0
            self.lists.append([start])
        elif tag == "li":
            self._newline()
            indent = "  " * (len(self.lists) - 1)
            counter = self.lists[-1] if self.lists else [0]
            if counter[0]:
                self.out.append(f"{indent}{counter[0]}. ")
                counter[0] += 1
            else:
                self.out.append(f"{indent}- ")
        elif tag == "a":
            self.links.append((values.get("href") or "", len(self.out)))
        elif tag == "br":
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append(" | " if self.out and not self.out[-1].endswith("\n") else "")
        elif tag in _BLOCKS:
            self._newline(2)
            if tag == "pre":
                self.in_pre = True
            elif tag == "hr":
                self.out.append("----")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self._newline(1 if self.lists else 2)
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.out[start:]).strip()
            if href and href != label and not href.startswith("mailto:"):
                self.out.append(f" ({href})")
        elif tag in _BLOCKS:
            self.in_pre = False if tag == "pre" else self.in_pre
            self._newline(2)

    def handle_data(self, data: str) -> None:
        if self.in_pre:
            self.out.append(data)
        elif data.strip():
            self.out.append(" ".join(data.split("\n")))
        elif self.out and not self.out[-1][-1:].isspace():
            # Whitespace between inline elements is a space; between blocks it is dropped.
            self.out.append(" ")


def markdown_to_text(text: str | None) -> str:
    """Organiser-written Markdown as readable plain text (links spelled out), for text mail."""
    return _markdown_to_text(text or "")


@lru_cache(maxsize=RENDERED_KEPT)
def _markdown_to_text(text: str) -> str:
    writer = _TextWriter()
    writer.feed(str(render_markdown(text)))
    writer.close()
    text = "\n".join(line.rstrip() for line in "".join(writer.out).strip().splitlines())
    # Markup typed into the source means nothing to a reader of plain text: leave it out.
    text = _TAG_LIKE.sub("", text)
    return _BLANK_LINES.sub("\n\n", text)
