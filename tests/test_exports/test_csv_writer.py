"""The shared CSV writer: RFC 4180, BOM, CRLF and neutralised formulas."""

import csv
import io

from placeevents.exports.csv import iter_csv, safe_cell, write_csv


def test_formula_cells_are_neutralised() -> None:
    for dangerous in ["=HYPERLINK(\"x\")", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"]:
        assert safe_cell(dangerous) == "'" + dangerous
    assert safe_cell("Plain text") == "Plain text"
    assert safe_cell(None) == "" and safe_cell(True) == "yes"


def test_output_is_rfc4180_with_bom_and_crlf() -> None:
    text = "".join(iter_csv(["Name", "Note"], [["Ana, B", 'said "hi"\nthen left'], ["=1+1", ""]]))
    assert text.startswith("\ufeffName,Note\r\n")
    assert '"Ana, B","said ""hi""\nthen left"\r\n' in text
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert rows == [["Name", "Note"], ["Ana, B", 'said "hi"\nthen left'], ["'=1+1", ""]]


def test_write_csv_counts_rows() -> None:
    out = io.StringIO()
    assert write_csv(out, ["a"], [[1], [2], [3]]) == 3
    assert out.getvalue().count("\r\n") == 4
