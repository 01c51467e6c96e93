"""XLSX through openpyxl's write-only mode: text is always text, times are local and naive."""

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MAX_CELL_TEXT = 32767
CHUNK_SIZE = 64 * 1024


def cell(sheet: WriteOnlyWorksheet, value: Any, *, bold: bool = False) -> WriteOnlyCell:
    """A write-only cell; every text value is forced to the string type, never a formula."""
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("convert times to the enquiry's local time before writing them")
        result = WriteOnlyCell(sheet, value=value)
        result.number_format = DATETIME_FORMAT
    elif value is None or isinstance(value, int | float):
        result = WriteOnlyCell(sheet, value=value)
    else:
        # Control characters are refused by the file format; longer text is cut by Excel anyway.
        text = ILLEGAL_CHARACTERS_RE.sub("", str(value))[:MAX_CELL_TEXT]
        result = WriteOnlyCell(sheet, value=text)
        # openpyxl reads a leading "=" as a formula, even here; the type says otherwise.
        result.data_type = "s"
    if bold:
        result.font = Font(bold=True)
    return result


def add_sheet(
    workbook: Workbook,
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    widths: Sequence[int] = (),
) -> int:
    """Append a sheet with a bold header row; returns the number of data rows written."""
    sheet = workbook.create_sheet(title=title[:31])
    for index, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([cell(sheet, h, bold=True) for h in header])
    count = 0
    for row in rows:
        sheet.append([cell(sheet, v) for v in row])
        count += 1
    return count


def new_workbook() -> Workbook:
    """An empty write-only workbook (rows go to temporary files, not memory)."""
    return Workbook(write_only=True)


def save_chunks(workbook: Workbook) -> Iterator[bytes]:
    """Save the workbook to a temporary file and yield it in chunks, then delete the file."""
    with tempfile.TemporaryFile() as spool:
        workbook.save(spool)
        spool.seek(0)
        yield from _read_chunks(spool)


def _read_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_SIZE):
        yield chunk
