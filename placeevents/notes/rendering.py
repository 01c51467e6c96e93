"""Markdown for notes: markdown-it-py's js-default preset (no raw HTML), then cleaned by nh3.

Whatever a note holds, no <script>, no event-handler attribute and no javascript: or data:
link comes out of render_markdown; markdown_to_text gives the plain-text part of mails.
"""

import re
from html.parser import HTMLParser

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = MarkdownIt("js-default")
# Every link target becomes an <a>, and nh3 then drops any href outside URL_SCHEMES, so a
# javascript: or data: link shows as its plain label rather than as its raw source text.
_markdown.validateLink = lambda url: True  # type: ignore[method-assign]

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def clean_html(fragment: str) -> str:
    """Keep only harmless tags and attributes, and only http(s)/mailto links."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(text: str | None) -> Markup:
    """Markdown to safe HTML."""
    return Markup(clean_html(_markdown.render(text or "")))


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


def plain_text(value: str | None) -> str:
    """A one-line value (title, name) for plain-text mail, without any markup typed into it."""
    return " ".join(_TAG_LIKE.sub("", value or "").split())


def markdown_to_text(text: str | None) -> str:
    """Markdown to plain text for the text part of mails, from the same cleaned rendering."""
    writer = _TextWriter()
    writer.feed(str(render_markdown(text)))
    writer.close()
    text = "\n".join(line.rstrip() for line in "".join(writer.out).strip().splitlines())
    # Markup typed into a note means nothing to a reader of plain text: leave it out.
    text = _TAG_LIKE.sub("", text)
    return _BLANK_LINES.sub("\n\n", text)
