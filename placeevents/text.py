"""Text as people type or paste it: C0 and C1 control characters cleaned at the boundary.

A single-line value (a name, a title) may hold none: a mail header refuses them. A multi-line
value keeps its line breaks (as \\n) and tabs and loses every other control character.
"""

import re

from placeevents.addresses import has_control_characters

CONTROL_CHARACTERS_MESSAGE = "Remove line breaks and other control characters."

# Characters Python's str.split() treats as whitespace among the C0 and C1 controls.
_SPACING = re.compile("[\t\n\x0b\x0c\r\x1c-\x1f\x85]+")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_MULTILINE_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    """Text as a single line: line breaks and tabs become a space, other controls go."""
    if not has_control_characters(text):
        return text
    return _CONTROLS.sub("", _SPACING.sub(" ", text))


def multiline(text: str) -> str:
    """Text that may span lines: \\r\\n and \\r become \\n, tabs stay, other controls go."""
    if not has_control_characters(text):
        return text
    return _MULTILINE_CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
