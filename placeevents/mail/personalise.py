"""Many alike messages from one: built and serialised once with placeholder tokens, then
personalised per recipient in its bytes, so a bulk send pays the email package's cost once.

Each text part holding a placeholder is re-encoded per recipient after substitution, by the
rule the email package applies (7bit or 8bit when every line fits, else quoted-printable or
base64), so the encoding always fits the substituted text. A value goes into an HTML part
escaped, as an autoescaping template would have put it there.
"""

import base64
import binascii
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid

from markupsafe import escape

from placeevents.mail.outbox import WIRE_POLICY, PreparedMessage, complete_headers, wire_bytes

# The email package's line limit for bodies it writes as they are (EmailMessage's policy).
_BODY_LINE_LIMIT = 78
# RFC 5322's limit for any line, which a header substitution must not pass.
_LINE_LIMIT = 998
# A placeholder value that can go into a header as it is: one printable ASCII word.
_HEADER_WORD = re.compile(r"[\x21-\x7e]*")
# A display name the email package writes as it is (nothing to quote or encode).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")


def placeholder_tokens(*names: str) -> dict[str, str]:
    """Placeholder tokens for a template, by name: ASCII letters and digits only (nothing
    escapes or encodes them), with a random part no organiser's text will contain."""
    stem = secrets.token_hex(8)
    return {name: f"pe{stem}{name.lower()}x" for name in names}


@dataclass(frozen=True)
class _BodySlot:
    content: str
    html: bool


def _encode_body(text: str) -> tuple[bytes, bytes]:
    """(transfer encoding, body with CRLF line ends) as email.contentmanager would choose them."""
    lines = text.encode("utf-8").splitlines()
    if max((len(line) for line in lines), default=0) <= _BODY_LINE_LIMIT:
        body = b"\r\n".join(lines) + b"\r\n"
        return (b"7bit" if body.isascii() else b"8bit"), body
    body = b"\r\n".join(lines) + b"\r\n"
    sniff = b"\r\n".join(lines[:10]) + b"\r\n"
    if len(binascii.b2a_qp(sniff, istext=True)) > len(binascii.b2a_base64(sniff)):
        # Inside base64 the line ends stay the email package's own (LF), as it encodes them.
        encoded = base64.encodebytes(b"\n".join(lines) + b"\n")
        return b"base64", encoded.replace(b"\n", b"\r\n")
    return b"quoted-printable", binascii.b2a_qp(body, istext=True)


class MessageTemplate:
    """One message with placeholder tokens, serialised once, personalised per recipient.

    `message` is built as usual, addressed to `to_placeholder` and carrying the tokens of
    `placeholders` in its text parts and in header values (which then take one ASCII word,
    such as a link). `usable` is False when the message is not one this can personalise (a
    placeholder got lost in a template, or the sender needs UTF-8 headers); build each
    message the usual way then.
    """

    def __init__(
        self,
        message: EmailMessage,
        *,
        to_placeholder: str,
        placeholders: Mapping[str, str],
        bulk: bool,
    ) -> None:
        complete_headers(message, bulk=bulk)
        self.sender = message["From"].addresses[0].addr_spec
        self.subject = str(message["Subject"] or "")[:300]
        self._domain = self.sender.rpartition("@")[2]
        message_id = f"<{secrets.token_hex(8)}msgid@{self._domain}>"
        message.replace_header("Message-ID", message_id)
        tokens = set(placeholders.values())
        pattern = re.compile("|".join(re.escape(t) for t in sorted(tokens, reverse=True)))
        self._pattern = pattern
        found: set[str] = set()
        # (body token, transfer-encoding token, content) for each part holding a placeholder.
        self._bodies: list[tuple[bytes, bytes, _BodySlot]] = []
        for number, part in enumerate(message.walk()):
            if part.is_multipart() or part.get_content_maintype() != "text":
                continue
            content = part.get_content()
            in_part = set(pattern.findall(content))
            if not in_part:
                continue
            found |= in_part
            body_token = f"pe{secrets.token_hex(8)}body{number}x"
            cte_token = f"pe{secrets.token_hex(8)}cte{number}x"
            slot = _BodySlot(content, part.get_content_subtype() == "html")
            self._bodies.append((body_token.encode() + b"\r\n", cte_token.encode(), slot))
            part.set_payload(body_token + "\n")
            part.replace_header("Content-Transfer-Encoding", cte_token)
        raw = wire_bytes(message)
        headers = raw.partition(b"\r\n\r\n")[0]
        self._header_tokens = set(pattern.findall(headers.decode("ascii", "replace")))
        found |= self._header_tokens
        to_line = b"To: " + to_placeholder.encode() + b"\r\n"
        self.usable = found == tokens and headers.isascii() and raw.count(b"\r\n" + to_line) == 1
        self._boundaries = [
            b"--" + p.get_boundary().encode() for p in message.walk() if p.is_multipart()
        ]
        # The bytes between the tokens; odd items are the tokens themselves.
        slots = [to_line, message_id.encode(), *(t for b in self._bodies for t in b[:2])]
        slots += [t.encode() for t in tokens]
        self._pieces = re.split(b"(" + b"|".join(re.escape(s) for s in slots) + b")", raw)
        self._to_line = to_line
        self._message_id = message_id.encode()

    def personalise(self, *, to: Address, values: Mapping[str, str]) -> PreparedMessage | None:
        """The message for one recipient, `values` by token; None if it must be built the
        usual way (an address needing UTF-8 headers, a value unfit for its header)."""
        if not to.addr_spec.isascii():
            return None
        filled = {token.encode(): value.encode() for token, value in values.items()}
        # Placeholders in headers take one word; only the parts may take any text.
        if any(not _HEADER_WORD.fullmatch(values[t]) for t in self._header_tokens):
            return None
        message_id = make_msgid(domain=self._domain)
        filled[self._to_line] = _to_line(to)
        filled[self._message_id] = message_id.encode()
        html_values = {t: str(escape(v)) for t, v in values.items()}
        for body_token, cte_token, slot in self._bodies:
            chosen = html_values if slot.html else values
            text = self._pattern.sub(lambda m, c=chosen: c[m.group()], slot.content)
            encoding, body = _encode_body(text)
            if any(b in body for b in self._boundaries):
                return None
            filled[body_token] = body
            filled[cte_token] = encoding
        pieces = self._pieces
        raw = b"".join(filled[p] if i % 2 else p for i, p in enumerate(pieces))
        if any(len(line) > _LINE_LIMIT for line in raw.partition(b"\r\n\r\n")[0].split(b"\r\n")):
            return None
        return PreparedMessage(
            message_id=message_id,
            sender=self.sender,
            recipients=[to.addr_spec],
            subject=self.subject,
            raw=raw,
        )


def _to_line(to: Address) -> bytes:
    """The To header line as the email package writes it (RFC 2047 for a name needing it)."""
    if not to.display_name:
        line = f"To: {to.addr_spec}\r\n"
    elif _PLAIN_NAME.fullmatch(to.display_name):
        line = f"To: {to.display_name} <{to.addr_spec}>\r\n"
    else:
        header = WIRE_POLICY.header_factory("To", to)
        return WIRE_POLICY.fold_binary("To", header)
    return line.encode("ascii")
