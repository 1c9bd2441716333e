"""Tables answered as CSV or XLSX: lazily read rows, bounded memory, text never a formula."""

import csv
import io
import tracemalloc
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from openpyxl import load_workbook
from werkzeug.exceptions import BadRequest

from webapp.web.exports import CSV_ROWS_PER_PIECE, table_response

HEADER = ["code", "name", "amount", "day", "moment"]


@pytest.fixture
def request_context(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


class Rows:
    """``count`` generated rows; ``made`` says how many were asked for so far."""

    def __init__(self, count: int) -> None:
        self.count, self.made = count, 0

    def __iter__(self) -> Iterator[tuple[object, ...]]:
        for number in range(self.count):
            self.made += 1
            yield (f"C{number:09d}", f"客户 {number}", Decimal(number).scaleb(-2),
                   date(2026, 11, 1), datetime(2026, 11, 1, 8, number % 60))


def test_csv_rows_are_read_as_the_answer_goes_out(request_context: None) -> None:
    """Each piece holds at most a few hundred rows, and rows are read only as pieces are
    asked for: nothing of the table is held beyond the piece being sent."""
    rows = Rows(30_000)
    response = table_response("csv", "many", HEADER, rows)
    assert response.is_streamed and response.mimetype == "text/csv"
    pieces = iter(response.response)
    assert next(pieces) == "\ufeff"
    first = next(pieces)
    largest, size, sent = len(first), len(first), first.count("\n") - 1  # less the header
    assert rows.made - sent <= CSV_ROWS_PER_PIECE
    for piece in pieces:
        largest = max(largest, len(piece))
        size += len(piece)
        sent += piece.count("\n")
        assert rows.made - sent <= CSV_ROWS_PER_PIECE  # read ahead by at most a piece
    response.close()
    assert rows.made == 30_000 and size > 1_000_000
    assert largest < 100 * CSV_ROWS_PER_PIECE


def test_xlsx_memory_does_not_grow_with_the_rows(request_context: None) -> None:
    """openpyxl's write-only sheet writes rows to a temporary file as they come."""
    peaks = {}
    for count in (50, 500):
        response = table_response("xlsx", "many", HEADER, Rows(count))
        tracemalloc.start()
        try:
            content = b"".join(response.response)
            peaks[count] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        sheet = load_workbook(io.BytesIO(content), read_only=True).active
        assert sum(1 for _row in sheet.iter_rows()) == count + 1
    # Kept in memory, 450 more rows of five cells would take more than half a megabyte.
    assert peaks[500] < peaks[50] + 150_000, peaks


def test_cells_keep_their_types_and_text_is_never_a_formula(request_context: None) -> None:
    rows = [("=HYPERLINK(\"http://x\")", "@SUM(A1)", Decimal("-5.00"), date(2026, 11, 1),
             datetime(2026, 11, 1, 8, 5)), ("C1", "bell\x07 in a name", None, None, None)]
    text = "".join(table_response("csv", "t", HEADER, rows).response)
    read = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert read[1] == ["'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "-5.00", "2026-11-01",
                       "2026-11-01 08:05"]
    content = b"".join(table_response("xlsx", "t", HEADER, rows).response)
    sheet = load_workbook(io.BytesIO(content)).active
    assert [cell.value for cell in sheet[1]] == HEADER
    first = sheet[2]
    assert first[0].value == "=HYPERLINK(\"http://x\")" and first[0].data_type == "s"
    assert first[2].value == -5 and first[2].number_format == "0.00"
    assert first[3].value == datetime(2026, 11, 1) and first[4].value == datetime(2026, 11, 1,
                                                                                  8, 5)
    assert sheet[3][1].value == "bell in a name"


def test_the_file_name_and_an_unknown_format(request_context: None) -> None:
    response = table_response("xlsx", "目标清单", HEADER, [])
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"____.xlsx\"; "
        "filename*=UTF-8''%E7%9B%AE%E6%A0%87%E6%B8%85%E5%8D%95.xlsx")
    with pytest.raises(BadRequest, match="format"):
        table_response("pdf", "x", HEADER, [])
