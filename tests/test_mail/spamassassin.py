"""SpamAssassin's verdict on messages, with its local rules only (no network, no DNS).

`spamassassin -L -t --mbox` scores many messages in one run (a second or two, where one run per
message takes one or two seconds each); tests/test_mail and benchmarks/mail_scores.py use it.
"""

import re
import shutil
import subprocess
from dataclasses import dataclass

# Rules that fire only because this run has no real mail path: no Received header or
# authentication results (a real relay adds them), and the demo's example.org people.
ENVIRONMENT_RULES = {
    "MISSING_HEADERS",
    "NO_RECEIVED",
    "NO_RELAYS",
    "TO_NO_BRKTS_PCNT",
    "URIBL_BLOCKED",
    "DKIM_ADSP_NXDOMAIN",
}

_RULE_LINE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+(\S+)\s+(.*)$")


def available() -> bool:
    """Whether the spamassassin command is installed."""
    return shutil.which("spamassassin") is not None


@dataclass(frozen=True)
class Score:
    """What SpamAssassin made of one message."""

    kind: str
    score: float
    rules: list[tuple[str, float, str]]


def _mbox(messages: dict[str, bytes]) -> bytes:
    """The messages as one mbox (LF line ends, body lines starting "From " quoted)."""
    parts = []
    for raw in messages.values():
        text = raw.replace(b"\r\n", b"\n")
        text = re.sub(rb"^(>*From )", rb">\1", text, flags=re.MULTILINE)
        parts.append(b"From placeevents Thu Jan  1 00:00:00 2026\n" + text.rstrip(b"\n") + b"\n\n")
    return b"".join(parts)


def score_all(messages: dict[str, bytes]) -> list[Score]:
    """Run `spamassassin -L -t` once over all the messages; each one's score and report."""
    done = subprocess.run(
        ["spamassassin", "-L", "-t", "--mbox"],
        input=_mbox(messages), capture_output=True, check=True, timeout=300,
    )  # fmt: skip
    out = done.stdout.decode("utf-8", "replace")
    # SpamAssassin does not keep the mbox's order: each message is known by its Message-ID.
    by_id = {_message_id(raw.decode("utf-8", "replace")): kind for kind, raw in messages.items()}
    found: dict[str, Score] = {}
    for chunk in re.split(r"^From placeevents .*\n", out, flags=re.MULTILINE)[1:]:
        kind = by_id[_message_id(chunk)]
        status = re.search(r"^X-Spam-Status: \w+, score=(-?\d+(?:\.\d+)?)", chunk, re.MULTILINE)
        assert status, chunk[:2000]
        rules: list[tuple[str, float, str]] = []
        # The report is a table of points and rule names, ending at a blank line.
        report = chunk.split("Content analysis details:", 1)[1]
        for line in report.split("\n\n", 2)[1].splitlines():
            match = _RULE_LINE.match(line)
            if match and match.group(2).isupper():
                rules.append((match.group(2), float(match.group(1)), match.group(3).strip()))
        found[kind] = Score(kind=kind, score=float(status.group(1)), rules=rules)
    assert set(found) == set(messages), set(messages) - set(found)
    return [found[kind] for kind in messages]


def _message_id(text: str) -> str:
    found = re.search(r"^Message-ID: (<[^>]+>)", text, re.MULTILINE | re.IGNORECASE)
    assert found, text[:2000]
    return found.group(1)
