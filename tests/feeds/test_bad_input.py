"""Malformed, hostile and oversized input: a clear error, and nothing stored is damaged."""

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.feeds.helpers import (
    ORG_UNITS,
    SUBSCRIBERS,
    feed_file,
    load,
    load_reference,
    revenue_row,
    write_csv,
)
from webapp.database import db
from webapp.feeds import FEEDS, ImportResult, import_file
from webapp.feeds.csvfile import SNIFF_BYTES


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table except the import log."""
    with engine.connect() as conn:
        return {
            table.name: sorted(map(tuple, conn.execute(select(table))), key=repr)
            for table in db.metadata.sorted_tables if table.name != "import_run"
        }


@pytest.fixture
def stocked(engine: Engine, tmp_path: Path) -> Engine:
    """A database with the small province and its subscribers already stored."""
    load_reference(engine, tmp_path)
    assert load(engine, tmp_path, "subscribers", SUBSCRIBERS).status == "ok"
    return engine


def _import(engine: Engine, path: Path, feed: str = "subscribers", **options: object
            ) -> ImportResult:
    return import_file(engine, FEEDS[feed], path, **options)  # type: ignore[arg-type]


def _good(number: str, contract: str = "HT100") -> list[str]:
    return [number, "李四", "", "active", contract, "NN01", "2021-05-01", "", "0", "", ""]


BAD_ROWS = [
    # (row, column named in the error, words of the reason)
    (["77100000009", "李四", "", "active", "HT100", "NN01", "2021-05-01", "", "0", ""],
     None, "has 10 columns; the header has 11"),
    (["7710000000x", "李四", "", "active", "HT100", "NN01", "2021-05-01", "", "0", "", ""],
     "service_number", "not a service number"),
    (["77100000009", "李四", "", "sleeping", "HT100", "NN01", "2021-05-01", "", "0", "", ""],
     "status", "not one of"),
    (["77100000009", "李四", "", "active", "HT100", "NN01", "2025-02-30", "", "0", "", ""],
     "install_date", "not a valid date"),
    (["77100000009", "李四", "", "active", "HT100", "NN01", "2021-05-01", "", "maybe", "", ""],
     "prepaid", "not yes/no"),
    (["77100000009", "李四", "", "active", "HT100", "NN01", "2021-05-01", "", "1", "1.234", ""],
     "balance", "more than 2 decimals"),
    (["77100000009", "", "", "active", "HT100", "NN01", "2021-05-01", "", "0", "", ""],
     "name", "is required"),
    (["77100000009", "李四\x07", "", "active", "HT100", "NN01", "2021-05-01", "", "0", "", ""],
     "name", "control or invisible"),
    (["77100000009", "李四\u202e", "", "active", "HT100", "NN01", "2021-05-01", "", "0", "", ""],
     "name", "control or invisible"),
    (["77100000009", "李" * 201, "", "active", "HT100", "NN01", "2021-05-01", "", "0", "", ""],
     "name", "at most 200"),
    (["77100000009", "李四", "", "active", "HT100", "XX99", "2021-05-01", "", "0", "", ""],
     "billing_area_code", "unknown billing area 'XX99'"),
    (["77100000009", "李四", "", "active", "HT 100", "NN01", "2021-05-01", "", "0", "", ""],
     "contract_number", "not a code"),
]


@pytest.mark.parametrize(("row", "column", "reason"), BAD_ROWS,
                         ids=[reason for _row, _column, reason in BAD_ROWS])
def test_strict_mode_stores_nothing_and_names_line_column_reason(
    stocked: Engine, tmp_path: Path, row: list[str], column: str | None, reason: str
) -> None:
    before = _snapshot(stocked)
    path = feed_file(tmp_path, "subscribers", [_good("77100000008"), row, _good("77100000010")])
    result = _import(stocked, path)
    assert result.status == "failed"
    assert result.rejected == 1
    assert "nothing was stored" in (result.message or "")
    [error] = result.errors
    assert (error.line, error.column) == (3, column)
    assert reason in error.message
    assert _snapshot(stocked) == before
    with result.reject_file.open(encoding="utf-8-sig") as handle:  # type: ignore[union-attr]
        rejected = list(csv.reader(handle))
    assert rejected[0][-2:] == ["reject_line", "reject_reason"]
    assert rejected[1][-2] == "3" and reason in rejected[1][-1]


def test_skip_mode_stores_good_rows_and_writes_every_bad_one(
    stocked: Engine, tmp_path: Path
) -> None:
    rows = [_good("77100000008"), *(row for row, _c, _r in BAD_ROWS), _good("77100000010")]
    path = feed_file(tmp_path, "subscribers", rows)
    result = _import(stocked, path, mode="skip")
    assert result.status == "partial"
    assert (result.inserted, result.rejected) == (2, len(BAD_ROWS))
    assert result.reject_file == tmp_path / "subscribers.rejects.csv"
    with result.reject_file.open(encoding="utf-8-sig") as handle:
        rejected = list(csv.reader(handle))[1:]
    assert [int(row[-2]) for row in rejected] == list(range(3, 3 + len(BAD_ROWS)))
    for row, (_bad, _column, reason) in zip(rejected, BAD_ROWS, strict=True):
        assert reason in row[-1]
    with stocked.connect() as conn:
        from webapp.models import Subscriber

        numbers = set(conn.scalars(select(Subscriber.service_number)))
    assert {"77100000008", "77100000010"} <= numbers


def test_duplicate_keys_in_one_file_reject_every_occurrence(
    stocked: Engine, tmp_path: Path
) -> None:
    path = feed_file(tmp_path, "subscribers",
                     [_good("77100000008"), _good("77100000009"), _good("77100000008")])
    result = _import(stocked, path, mode="skip")
    assert (result.inserted, result.rejected) == (1, 2)
    messages = {error.line: error.message for error in result.errors}
    assert "appears more than once in the file (also on line 4)" in messages[2]
    assert "also on line 2" in messages[4]


@pytest.mark.parametrize(("feed", "rows", "column", "reason"), [
    ("arrears", [["77100000001", "-5.00", "3"]], "arrears_amount", "negative"),
    ("arrears", [["77199999999", "5.00", "3"]], "service_number", "unknown service number"),
    ("arrears", [["77100000001", "5.00", "-3"]], "arrears_days", "negative"),
    ("line-plant", [["77100000001", "JB-404"]], "junction_box_code", "unknown junction box"),
    ("revenue", [revenue_row("77100000001", "2026-13")], "month", "not a valid date"),
    ("revenue", [["77100000001", "2026-10", "-1.00", *["0"] * 9]], "local_revenue", "negative"),
    ("vip-cards", [["HT001", "platinum"]], "vip_card", "not one of"),
    ("vip-cards", [["HT404", "gold"]], "contract_number", "unknown contract number"),
    ("key-accounts", [["HT404", "KA1", ""]], "contract_number", "unknown contract number"),
    ("billing-areas", [["NN09", "新区", "NN-C1"]], "city_code", "unknown city branch 'NN-C1'"),
    ("junction-boxes", [["JB-9", "NN01", "NN-C1-PUB-A1"]], "community_code",
     "unknown community 'NN-C1-PUB-A1'"),
    ("number-segments", [["77105005000", "77105019999", "NN01", "NN-C1-BIZ-A1-S1"]],
     "range_start", "overlaps the stored segment 77105000000"),
    ("number-segments", [["77106000000", "7710600999", "NN01", "NN-C1-BIZ-A1-S1"]],
     "range_end", "as many digits"),
    ("org-units", [["NN-C1-PUB-A2", "新片", "area", "NN-XX", "public"]], "parent_code",
     "unknown org unit 'NN-XX'"),
    ("org-units", [["NN-C1-PUB-A2", "新片", "area", "NN-C1", "public"]], "parent_code",
     "must sit under a department"),
    ("org-units", [["NN-C1-PUB-A2", "新片", "area", "NN-C1-PUB", "business"]], "channel",
     "belongs to public"),
    ("org-units", [["NN-C1-PUB-A2", "新片", "area", "NN-C1-PUB", ""]], "channel", "is required"),
    ("org-units", [["NN-C1-PUB", "改", "centre", "NN", ""]], "parent_code",
     "would break its child unit 'NN-C1-PUB-A1'"),
    ("org-units", [["UA-NN01-public", "改名", "community", "NN-C1-PUB-A1", "public"]], "code",
     "unassigned community"),
    ("org-units", [["UA-NN09-public", "新社区", "community", "NN-C1-PUB-A1", "public"]], "code",
     "reserved for the unassigned communities"),
    ("billing-areas", [["NN0123456789012345678", "新区", "NN"]], "code", "at most 20"),
])
def test_every_feed_reports_bad_values_and_unknown_references(
    stocked: Engine, tmp_path: Path, feed: str, rows: list[list[str]], column: str, reason: str
) -> None:
    before = _snapshot(stocked)
    result = load(stocked, tmp_path, feed, rows)
    assert result.status == "failed"
    assert [(error.column, reason in error.message) for error in result.errors] == \
        [(column, True)], result.errors
    assert _snapshot(stocked) == before


def test_overlapping_segments_within_one_file(stocked: Engine, tmp_path: Path) -> None:
    rows = [["77107000000", "77107009999", "NN01", "NN-C1-BIZ-A1-S1"],
            ["77107005000", "77107005999", "NN01", "NN-C1-BIZ-A1-S1"]]
    result = load(stocked, tmp_path, "number-segments", rows)
    assert [error.message for error in result.errors] == [
        "overlaps the segment on line 3", "overlaps the segment on line 2"]


def test_gbk_file_read_as_utf8_is_refused_with_a_hint(stocked: Engine, tmp_path: Path) -> None:
    before = _snapshot(stocked)
    path = feed_file(tmp_path, "subscribers", [_good("77100000008")], encoding="gbk")
    result = _import(stocked, path)
    assert result.status == "failed"
    assert "line 2: the file is not valid UTF-8" in (result.message or "")
    assert "--encoding gb18030" in (result.message or "")
    assert _snapshot(stocked) == before


def test_utf8_file_read_as_gbk_is_refused_instead_of_garbled(
    stocked: Engine, tmp_path: Path
) -> None:
    path = feed_file(tmp_path, "subscribers", [_good("77100000008")])
    result = _import(stocked, path, encoding="gbk")
    assert result.status == "failed"
    assert "the file is UTF-8, not GBK" in (result.message or "")


def test_encoding_damage_after_the_first_megabyte_stops_the_import(
    stocked: Engine, tmp_path: Path
) -> None:
    before = _snapshot(stocked)
    rows = [_good(f"7710{n:07d}", f"HT{n}") for n in range(10, 25_000)]
    assert len(rows) * 50 > SNIFF_BYTES
    path = feed_file(tmp_path, "subscribers", rows)
    with path.open("ab") as handle:
        handle.write("77100099999,王五,,active,HT9,NN01,2021-05-01,,0,,\n".encode("gbk"))
    result = _import(stocked, path, mode="skip")
    assert result.status == "failed"
    assert (result.message or "").startswith(f"line {len(rows) + 2}: bytes that are not valid")
    assert _snapshot(stocked) == before


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "the file is empty"),
    (b"\n\n  \n", "the file is empty"),
    (b"77100000001,Li,,active,HT1,NN01,2021-05-01,,0,,\n", "looks like data, not a header"),
    (b"service_number,name,status\n", "header lacks column(s): install_address, contract_number"),
    (b"service_number,name,status,contract_number,billing_area_code,install_date,prepaid\n",
     "header lacks column(s): install_address, product, balance, agreement_end_date"),
    (b"service_number,name,install_adress,status,contract_number,billing_area_code,"
     b"install_date,product,prepaid,balance,agreement_end_date\n", "unknown column(s)"),
    (b"service_number,name,install_address,status,contract_number,billing_area_code,"
     b"install_date,product,prepaid,balance,agreement_end_date,service_number\n",
     "names column(s) twice"),
    (b"\x00\x01\x02binary", "NUL bytes"),
])
def test_unusable_files_are_refused_as_a_whole(
    stocked: Engine, tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "subscribers.csv"
    path.write_bytes(content)
    result = _import(stocked, path, mode="skip")
    assert result.status == "failed"
    assert reason in (result.message or ""), result.message


def test_header_only_file_imports_nothing(stocked: Engine, tmp_path: Path) -> None:
    result = _import(stocked, feed_file(tmp_path, "subscribers", []))
    assert (result.status, result.rows_read) == ("ok", 0)


def test_missing_file_is_reported(engine: Engine, tmp_path: Path) -> None:
    result = _import(engine, tmp_path / "nope.csv")
    assert result.status == "failed"
    assert "nope.csv" in (result.message or "")


@pytest.mark.parametrize(("bad_record", "reason"), [
    (f'77100000009,"{"x" * 200_000}",,active,HT100,NN01,2021-05-01,,0,,',
     "field larger than field limit"),
    ('77100000011,"unterminated,,active,HT100,NN01,2021-05-01,,0,,', "check the quoting"),
    ('77100000011,"a"b,,active,HT100,NN01,2021-05-01,,0,,', "check the quoting"),
])
def test_unreadable_csv_stops_the_file_at_its_line(
    stocked: Engine, tmp_path: Path, bad_record: str, reason: str
) -> None:
    """Past broken quoting the parser cannot tell where records start: nothing is trusted."""
    before = _snapshot(stocked)
    header = ",".join(FEEDS["subscribers"].schema.columns())
    good = "77100000008,李四,,active,HT100,NN01,2021-05-01,,0,,"
    after = "77100000010,王五,,active,HT100,NN01,2021-05-01,,0,,"
    path = tmp_path / "subscribers.csv"
    path.write_text("\n".join([header, good, good.replace("08,", "07,"), bad_record, after,
                               "99999,5.00,5"]) + "\n", encoding="utf-8")
    result = _import(stocked, path, mode="skip")
    assert result.status == "failed"
    assert (result.message or "").startswith("line 4: unreadable CSV")
    assert reason in (result.message or "")
    assert _snapshot(stocked) == before


def test_org_tree_rows_written_in_chinese_labels(engine: Engine, tmp_path: Path) -> None:
    rows = [list(row) for row in ORG_UNITS]
    rows[3][4] = "公众"
    for row in rows[4:6]:
        row[4] = "公众"
    result = load(engine, tmp_path, "org-units", rows)
    assert result.status == "ok", result.errors


def test_reject_file_keeps_the_input_encoding(stocked: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gbk.csv", FEEDS["subscribers"].schema.columns(),
                     [_good("77100000008"), ["77100000009", "王五", "", "睡眠", "HT1", "NN01",
                                             "2021-05-01", "", "0", "", ""]], encoding="gbk")
    result = _import(stocked, path, mode="skip", encoding="gbk")
    assert result.status == "partial"
    text = result.reject_file.read_bytes().decode("gb18030")  # type: ignore[union-attr]
    assert "王五" in text and "睡眠" in text


def test_chinese_headers_of_the_operators_exports_are_understood(
    stocked: Engine, tmp_path: Path
) -> None:
    header = ["业务接入号", "用户名称", "装机地址", "用户状态", "合同号", "计费区域", "装机日期",
              "套餐", "预付费", "余额", "协议到期日"]
    rows = [["77100000008", "李四", "", "在用", "HT100", "NN01", "20210501", "", "否", "", ""]]
    path = write_csv(tmp_path / "用户资料.csv", header, rows, encoding="gbk")
    result = _import(stocked, path, encoding="gbk")
    assert (result.status, result.inserted) == ("ok", 1), result.message

    twice = write_csv(tmp_path / "twice.csv", ["service_number", *header], [])
    refused = _import(stocked, twice)
    assert "names column(s) twice: service_number" in (refused.message or "")


def test_rejected_org_units_do_not_vouch_for_other_lines(stocked: Engine, tmp_path: Path) -> None:
    rows = [
        ["NN-C1-KA", "大客户部", "department", "NN-C1", "key_account"],
        ["NN-C1-KA", "大客户部", "department", "NN-C1", "key_account"],  # repeated: both out
        ["NN-C1-KA-A1", "大客户一片", "area", "NN-C1-KA", "key_account"],
        ["NN-C1-PUB", "青秀区公众客户部", "department", "NN-C1", "business"],  # breaks a child
        ["NN-C1-PUB-A9", "新片", "area", "NN-C1-PUB", "business"],
        ["NN-C1-BIZ-A2", "商业二片", "area", "NN-C1-BIZ", "business"],
    ]
    before = _snapshot(stocked)
    result = load(stocked, tmp_path, "org-units", rows, mode="skip")
    assert (result.inserted, result.rejected) == (1, 5), result.errors
    reasons = {error.line: error.message for error in result.errors}
    assert "unknown org unit 'NN-C1-KA'" in reasons[4]
    assert "would break its child unit 'NN-C1-PUB-A1'" in reasons[5]
    assert "belongs to public" in reasons[6]
    after = _snapshot(stocked)
    assert len(after["org_unit"]) == len(before["org_unit"]) + 1


def test_units_in_use_keep_their_kind(stocked: Engine, tmp_path: Path) -> None:
    rows = [["NN-C1-BIZ-A1-S1", "改为片区", "area", "NN-C1-BIZ", "business"]]
    result = load(stocked, tmp_path, "org-units", rows)
    assert result.status == "failed"
    assert "used by billing areas, junction boxes or number segments as a community" in \
        result.errors[0].message


def test_a_rejected_segment_does_not_replace_the_stored_one(
    stocked: Engine, tmp_path: Path
) -> None:
    before = _snapshot(stocked)
    rows = [["77105000000", "77105000999", "XX99", "NN-C1-BIZ-A1-S1"],
            ["77105005000", "77105005999", "NN01", "NN-C1-BIZ-A1-S1"]]
    result = load(stocked, tmp_path, "number-segments", rows, mode="skip")
    assert result.rejected == 2
    assert "overlaps the stored segment 77105000000" in result.errors[1].message
    assert _snapshot(stocked) == before
