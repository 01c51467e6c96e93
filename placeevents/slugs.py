"""Readable, unique URL slugs made from titles."""

import re
import unicodedata

import sqlalchemy as sa

from placeevents.extensions import db


def slugify(text: str, *, max_length: int = 80, fallback: str = "item") -> str:
    """'Learning that travels: Bristol' -> 'learning-that-travels-bristol'; '2024' -> 'event-2024'.

    A slug is never a bare number: keys like the audit log's read a number as a row id.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if slug.isdigit():
        slug = f"{fallback}-{slug}"
    slug = slug[:max_length].rstrip("-")
    return slug or fallback


def unique_slug(
    column: sa.orm.InstrumentedAttribute[str], text: str, *, max_length: int, fallback: str
) -> str:
    """A slug for `text` not yet used in `column`, numbered -2, -3… when the plain one is taken."""
    base = slugify(text, max_length=max_length - 6, fallback=fallback)
    taken = set(
        db.session.scalars(
            sa.select(column).where(sa.or_(column == base, column.like(f"{base}-%")))
        )
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
