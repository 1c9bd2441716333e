"""Lists of customer codes uploaded by staff: a CSV or XLSX whose first column is the
customer code, as the operator's staff already keep them in spreadsheets.

Every line that cannot be used is reported with its number and why; a header line
(``客户编码``, ``customer_code`` ...) is recognised and skipped. Only the first sheet of a
workbook is read (the others are named in a note), and a file is refused whole when it
is not CSV/XLSX, not readable, empty, or longer than :data:`MAX_LINES`.
"""

import csv
import io
import zipfile
from dataclasses import dataclass, field

from openpyxl import load_workbook

MAX_LINES = 50_000
MAX_CODE = 40
HEADERS = frozenset({"customer_code", "customer code", "code", "customer", "客户编码",
                     "客户编号", "客户代码", "客户"})
#: Encodings tried for CSV, in order: Excel on a Chinese Windows saves GBK.
ENCODINGS = ("utf-8-sig", "gbk")


class CodeListError(ValueError):
    """The file as a whole cannot be read; the message says why."""


@dataclass
class CodeList:
    #: (line number, code), in file order, first occurrence of each code.
    codes: list[tuple[int, str]] = field(default_factory=list)
    #: (line number, why) of every line left out.
    problems: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_code_list(filename: str, data: bytes) -> CodeList:
    """The customer codes of an uploaded file; raises :class:`CodeListError`."""
    table, notes = read_table(filename, data, 1)
    found = CodeList(notes=notes)
    seen: dict[str, int] = {}
    for number, cells in table:
        first = cells[0] if cells is not None else None
        if number > MAX_LINES + 1:
            raise CodeListError(f"more than {MAX_LINES:,} lines: split the file")
        code = first.strip() if first is not None else None
        if code is None:
            continue  # a blank line
        if not found.codes and not found.problems and code.lower() in HEADERS:
            continue
        if not code:
            found.problems.append((number, "the first column is empty"))
        elif len(code) > MAX_CODE:
            found.problems.append((number, f"longer than {MAX_CODE} characters: not a "
                                   "customer code"))
        elif code in seen:
            found.problems.append((number, f"{code} is repeated (first on line "
                                   f"{seen[code]})"))
        else:
            seen[code] = number
            found.codes.append((number, code))
    if not found.codes and not found.problems:
        raise CodeListError("the file holds no customer code")
    return found


#: (line number, the first cells; None for a blank line).
Rows = list[tuple[int, tuple[str, ...] | None]]


def read_table(filename: str, data: bytes, columns: int) -> tuple[Rows, list[str]]:
    """The first ``columns`` cells of every line of an uploaded CSV or XLSX (missing
    cells as ``""``), and notes on how it was read; raises :class:`CodeListError`."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _xlsx_rows(data, columns)
    if name.endswith((".csv", ".txt")):
        return _csv_rows(data, columns)
    raise CodeListError(f"{filename or 'the file'}: expected a .csv or .xlsx file")


def _padded(cells: list[str], columns: int) -> tuple[str, ...] | None:
    """The first ``columns`` cells, or None when the whole line is blank."""
    if not any(cell.strip() for cell in cells):
        return None
    return tuple(cells[:columns]) + ("",) * (columns - len(cells[:columns]))


def _csv_rows(data: bytes, columns: int) -> tuple[Rows, list[str]]:
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CodeListError("the file is neither UTF-8 nor GBK text: save it as "
                            "\"CSV UTF-8\" and upload it again")
    if "\x00" in text:
        raise CodeListError("the file is not text (it holds NUL bytes): upload a CSV or "
                            "XLSX file")
    notes = [] if encoding == "utf-8-sig" else [f"read as {encoding.upper()} text"]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        return [(reader.line_num, _padded(row, columns)) for row in reader], notes
    except csv.Error as error:
        raise CodeListError(f"line {reader.line_num}: {error}") from None


def _xlsx_rows(data: bytes, columns: int) -> tuple[Rows, list[str]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise CodeListError(f"not a readable XLSX workbook ({error})") from None
    try:
        sheets = book.sheetnames
        if not sheets:
            raise CodeListError("the workbook has no sheet")
        notes = [f"only the first sheet ({sheets[0]}) was read; ignored: "
                 f"{', '.join(sheets[1:])}"] if len(sheets) > 1 else []
        rows = []
        for number, row in enumerate(book[sheets[0]].iter_rows(max_col=columns,
                                                                values_only=True), start=1):
            if number > MAX_LINES + 1:
                raise CodeListError(f"more than {MAX_LINES:,} lines: split the file")
            rows.append((number, _padded([_cell_text(value) for value in row or ()],
                                         columns)))
        return rows, notes
    finally:
        book.close()


def _cell_text(value: object) -> str:
    """A cell as text; a code typed as a number stays without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
