"""Reading the development mailbox: the .eml files delivery writes when no server is set."""

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from markupsafe import Markup, escape
from werkzeug.utils import secure_filename

from placeevents.mail.delivery import mailbox_dir

NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]*\.eml$")
LINK = re.compile(r"https?://[^\s<>\"')\]]+")
EXTENSIONS = {"text/calendar": "ics", "text/plain": "txt", "text/html": "html", "text/csv": "csv"}


@dataclass(frozen=True)
class MailboxPart:
    """A part of a message offered for download (attachments, calendar parts)."""

    index: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class MailboxMessage:
    """One message in the development mailbox."""

    name: str
    subject: str
    sender: str
    to: str
    date: datetime | None
    message: EmailMessage

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def html(self) -> str | None:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else None

    def parts(self) -> list[MailboxPart]:
        """Every leaf part other than the text and HTML bodies, numbered for download."""
        bodies = {id(p) for p in (self.message.get_body(("plain",)),
                                  self.message.get_body(("html",))) if p is not None}
        found = []
        for index, part in enumerate(_leaves(self.message)):
            if id(part) in bodies:
                continue
            content_type = part.get_content_type()
            fallback = f"part-{index}.{EXTENSIONS.get(content_type, 'bin')}"
            filename = secure_filename(part.get_filename() or "") or fallback
            payload = part.get_payload(decode=True) or b""
            found.append(MailboxPart(index, filename, content_type, len(payload)))
        return found

    def part(self, index: int) -> tuple[MailboxPart, bytes] | None:
        """A downloadable part and its bytes, or None."""
        for offered in self.parts():
            if offered.index == index:
                payload = _leaves(self.message)[index].get_payload(decode=True) or b""
                return offered, payload
        return None


def _leaves(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.walk() if not part.is_multipart()]  # type: ignore[misc]


def _read(path: Path) -> MailboxMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    try:
        date = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    return MailboxMessage(
        name=path.name,
        subject=str(message["Subject"] or "(no subject)"),
        sender=str(message["From"] or ""),
        to=str(message["To"] or ""),
        date=date,
        message=message,  # type: ignore[arg-type]
    )


def list_messages() -> list[MailboxMessage]:
    """Every message in the mailbox, newest first."""
    folder = mailbox_dir()
    if not folder.is_dir():
        return []
    paths = sorted((p for p in folder.iterdir() if NAME.match(p.name)), reverse=True)
    return [_read(path) for path in paths]


def read_message(name: str) -> MailboxMessage | None:
    """One message by file name, or None (names outside the mailbox are never read)."""
    if not NAME.match(name):
        return None
    path = mailbox_dir() / name
    return _read(path) if path.is_file() else None


def linkify(text: str) -> Markup:
    """Plain text, escaped, with its http(s) links made clickable."""
    pieces: list[str] = []
    last = 0
    for match in LINK.finditer(text):
        pieces.append(str(escape(text[last : match.start()])))
        url = escape(match.group(0))
        pieces.append(f'<a href="{url}">{url}</a>')
        last = match.end()
    pieces.append(str(escape(text[last:])))
    return Markup("".join(pieces))


def framed_html(html: str) -> str:
    """An HTML body made to open its links in the whole window when shown in a frame."""
    base = '<base target="_top">'
    head = re.search(r"<head[^>]*>", html, flags=re.IGNORECASE)
    if head:
        return html[: head.end()] + base + html[head.end() :]
    return base + html
