"""Uploaded lists of customer codes: CSV in UTF-8 or GBK, XLSX, and every bad line."""

import io

import pytest
from openpyxl import Workbook

from webapp.feeds.code_list import MAX_LINES, CodeListError, read_code_list


def _xlsx(*sheets: list[list[object]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for number, rows in enumerate(sheets):
        sheet = book.create_sheet(f"Sheet{number + 1}")
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_csv_with_a_header_blank_lines_and_bad_lines() -> None:
    text = ("客户编码,备注\nC001,first\n\n C002 ,padded\n,no code\nC001,again\n"
            f"{'X' * 41},too long\nC003\n")
    found = read_code_list("moves.csv", text.encode("utf-8-sig"))
    assert found.codes == [(2, "C001"), (4, "C002"), (8, "C003")]
    assert found.problems == [(5, "the first column is empty"),
                              (6, "C001 is repeated (first on line 2)"),
                              (7, "longer than 40 characters: not a customer code")]
    assert found.notes == []


def test_excel_csv_in_gbk_is_read_and_said_so() -> None:
    found = read_code_list("MOVES.CSV", "客户编码\nC001\n".encode("gbk"))
    assert found.codes == [(2, "C001")] and found.notes == ["read as GBK text"]


@pytest.mark.parametrize(("name", "data", "message"), [
    ("a.csv", b"", "holds no customer code"),
    ("a.csv", b"\n\n \n", "holds no customer code"),
    ("a.csv", "客户编码\n".encode(), "holds no customer code"),
    ("a.csv", b"\xff\xfe\x00C\x00\x00\x00", "neither UTF-8 nor GBK"),
    ("a.csv", b"C001\x00\nC002\n", "holds NUL bytes"),
    ("a.csv", b'"C001\n', "unexpected end of data"),
    ("a.xlsx", b"PK\x03\x04 not really a zip", "not a readable XLSX workbook"),
    ("a.xlsx", b"C001\n", "not a readable XLSX workbook"),
    ("a.pdf", b"C001\n", "expected a .csv or .xlsx file"),
    ("", b"C001\n", "the file: expected a .csv or .xlsx file"),
    ("a.csv", "\n".join(f"C{n}" for n in range(MAX_LINES + 2)).encode(), "more than 50,000"),
])
def test_files_that_cannot_be_read_are_refused_whole(name: str, data: bytes,
                                                     message: str) -> None:
    with pytest.raises(CodeListError, match=message):
        read_code_list(name, data)


def test_an_xlsx_is_read_from_its_first_sheet_with_numbers_as_codes() -> None:
    data = _xlsx([["customer_code", "note"], [1001, "typed as a number"], [None, "x"],
                  ["C002"], [1001.0]],
                 [["C999"]])
    found = read_code_list("moves.xlsx", data)
    assert found.codes == [(2, "1001"), (4, "C002")]
    assert found.problems == [(5, "1001 is repeated (first on line 2)")]
    assert found.notes == ["only the first sheet (Sheet1) was read; ignored: Sheet2"]


def test_an_xlsx_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(CodeListError, match="more than 50,000"):
        read_code_list("big.xlsx", _xlsx([[f"C{n}"] for n in range(MAX_LINES + 2)]))
