"""CSV cells that a spreadsheet will not run as formulas, and CSV text from rows."""

import csv
import io

# A cell starting with one of these is a formula (or starts one) in Excel, LibreOffice and
# Google Sheets; a leading apostrophe makes it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value, or a string cell with a leading `'` if a spreadsheet would read a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows, header: tuple | None = None) -> str:
    """Rows (and an optional header) as CSV text, every cell neutralised."""
    buffer = io.StringIO()
    # RFC 4180 line ends, so a cell holding a CR or LF is quoted and cannot start a new row.
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header is not None:
        writer.writerow([safe_cell(c) for c in header])
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    return buffer.getvalue()
