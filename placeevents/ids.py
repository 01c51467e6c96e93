"""Row ids as paths, query strings and forms carry them: 1 to 2**31-1.

Our ids are INTEGER columns: 64 bits on SQLite but 32 on PostgreSQL, so this is the range both
can hold. Anything else names no row: it is "not found" (or a form error), never an overflow in
the database driver (SQLite raises OverflowError, PostgreSQL a DataError).
"""

from typing import Any

from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1


def row_id(value: Any) -> int:
    """A row id read from a query string or a form; ValueError when it cannot be one."""
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError(f"{number} is not a row id")
    return number


def _numbers_up_to(limit: int) -> str:
    """A regex for the numbers from 1 to `limit`, written without leading zeros."""
    digits = str(limit)
    shorter = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    # As many digits as the limit: its first i digits, one lower digit, then any digits.
    as_long = [digits] + [
        f"{digits[:i]}[{'1' if i == 0 else '0'}-{int(digit) - 1}][0-9]{{{len(digits) - i - 1}}}"
        for i, digit in enumerate(digits)
        if int(digit) > (1 if i == 0 else 0)
    ]
    return "(?:" + "|".join([*shorter, *as_long]) + ")"


class IdConverter(IntegerConverter):
    """`<id:event_id>` in a route: 1 to 2**31-1; any other number does not match (404)."""

    # The pattern itself excludes out-of-range values: Werkzeug checks a rule's methods before
    # converting, so a value refused only while converting answers 405 beside a sibling rule.
    regex = _numbers_up_to(MAX_ID)

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=MAX_ID)
