"""Tables answered as files: a streamed CSV or an XLSX workbook, for any page's export.

A table is a header and an iterator of rows. A cell is text, a number (``int``,
``Decimal``), a date, a naive datetime (already in the operator's time zone: see
:func:`local_time`) or None. Neither format holds the rows in memory: the CSV goes out
in pieces as the rows are read; the XLSX rows go through openpyxl's write-only workbook,
which writes them to a temporary file, sent in pieces once the workbook is complete.

Text is never taken for a formula: XLSX cells are typed as text, and a CSV cell of text
starting with ``=``, ``+``, ``-``, ``@`` or a tab gets a leading apostrophe (Excel would
otherwise run it — a customer name from a feed is not trusted). Numbers are left alone.
"""

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from werkzeug.exceptions import BadRequest

#: The formats :func:`table_response` answers.
FORMATS = ("csv", "xlsx")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
Cell = str | int | Decimal | date | datetime | None
#: Rows between two pieces of a CSV answer; bytes per piece of an XLSX answer.
CSV_ROWS_PER_PIECE = 500
XLSX_BYTES_PER_PIECE = 64 * 1024
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_TITLE_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


def local_time(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A time (aware; naive ones are UTC, as SQLite returns stored times) as a naive
    datetime in ``zone``, the form a table's cells take."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).replace(tzinfo=None)


def cell_text(value: Cell) -> str:
    """A cell as pages and CSV files show it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def table_response(fmt: str, filename: str, header: Sequence[Any],
                   rows: Iterable[Sequence[Cell]]) -> Response:
    """An attachment ``filename.<fmt>`` holding ``header`` (texts, lazy ones included)
    and ``rows``, read lazily while the answer is sent. An unknown ``fmt`` is a 400."""
    if fmt not in FORMATS:
        raise BadRequest(f"format: must be one of {', '.join(FORMATS)}")
    titles = [str(title) for title in header]
    body = _csv_pieces(titles, rows) if fmt == "csv" else _xlsx_pieces(titles, rows, filename)
    return Response(stream_with_context(body), mimetype=MIMETYPES[fmt], headers={
        "Content-Disposition": _attachment(f"{filename}.{fmt}")})


def _attachment(filename: str) -> str:
    """Content-Disposition for ``filename`` (RFC 6266: an ASCII fallback and UTF-8)."""
    fallback = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def _csv_text(value: Cell) -> str:
    text = cell_text(value)
    if isinstance(value, str) and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def _csv_pieces(header: list[str], rows: Iterable[Sequence[Cell]]) -> Iterator[str]:
    yield "\ufeff"  # Excel reads UTF-8 (Chinese names) only with a byte-order mark
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow([_csv_text(value) for value in row])
        if count % CSV_ROWS_PER_PIECE == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx_pieces(header: list[str], rows: Iterable[Sequence[Cell]], title: str
                 ) -> Iterator[bytes]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title.translate(_SHEET_TITLE_FORBIDDEN)[:31] or "Sheet")
    bold = Font(bold=True)
    titles = []
    for text in header:
        cell = _xlsx_cell(sheet, text)
        cell.font = bold
        titles.append(cell)
    sheet.append(titles)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    with tempfile.TemporaryFile() as out:
        workbook.save(out)
        out.seek(0)
        while piece := out.read(XLSX_BYTES_PER_PIECE):
            yield piece


def _xlsx_cell(sheet: Any, value: Cell) -> Any:
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # text, even when it starts with "="
        return cell
    cell = WriteOnlyCell(sheet, value)
    if isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(value, Decimal):
        cell.number_format = "0.00"
    return cell
