"""Small feed files for tests, and a helper to import them."""

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import Engine

from webapp.feeds import FEEDS, ImportResult, import_file

ORG_UNITS = [
    ["PRV", "示范省电信有限公司", "province", "", ""],
    ["NN", "南宁市电信分公司", "city", "PRV", ""],
    ["NN-C1", "青秀中心", "centre", "NN", ""],
    ["NN-C1-PUB", "青秀区公众客户部", "department", "NN-C1", "public"],
    ["NN-C1-PUB-A1", "城东二片", "area", "NN-C1-PUB", "public"],
    ["NN-C1-PUB-A1-S1", "城东二片1社区", "community", "NN-C1-PUB-A1", "public"],
    ["NN-C1-BIZ", "青秀区商业客户部", "department", "NN-C1", "business"],
    ["NN-C1-BIZ-A1", "商业一片", "area", "NN-C1-BIZ", "business"],
    ["NN-C1-BIZ-A1-S1", "商业一片1社区", "community", "NN-C1-BIZ-A1", "business"],
]
BILLING_AREAS = [["NN01", "南宁城区", "NN"]]
JUNCTION_BOXES = [["JB-1", "NN01", "NN-C1-PUB-A1-S1"], ["JB-2", "NN01", "NN-C1-BIZ-A1-S1"]]
NUMBER_SEGMENTS = [["77105000000", "77105009999", "NN01", "NN-C1-BIZ-A1-S1"]]
SUBSCRIBERS = [
    ["77100000001", "张三", "南宁城区民族大道1号", "active", "HT001", "NN01", "2015-03-01",
     "宽带100M", "0", "", "2027-01-31"],
    ["77100000002", "张三", "南宁城区民族大道1号", "suspended_keep_number", "HT001", "NN01",
     "2018-06-15", "固话基础套餐", "1", "8.50", ""],
    ["77105000001", "南宁青秀贸易有限公司", "南宁城区友爱路9号", "active", "HT002", "NN01",
     "2020-01-10", "商务领航-298", "0", "", ""],
]
REVENUE_HEADER_VALUES = ["12.50", "3.00", "0.00", "20.00", "1.00", "125", "10", "0", "2000", "1"]


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]],
              encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def feed_file(tmp: Path, feed: str, rows: Iterable[Sequence[object]], name: str | None = None,
              encoding: str = "utf-8") -> Path:
    """A well-formed file for ``feed`` with ``rows`` under the feed's own header."""
    return write_csv(tmp / (name or f"{feed}.csv"), FEEDS[feed].schema.columns(), rows, encoding)


def load(engine: Engine, tmp: Path, feed: str, rows: Iterable[Sequence[object]],
         **options: object) -> ImportResult:
    return import_file(engine, FEEDS[feed], feed_file(tmp, feed, rows), **options)  # type: ignore[arg-type]


def load_reference(engine: Engine, tmp: Path) -> None:
    """The small province every subscriber test starts from."""
    for feed, rows in [("org-units", ORG_UNITS), ("billing-areas", BILLING_AREAS),
                       ("junction-boxes", JUNCTION_BOXES),
                       ("number-segments", NUMBER_SEGMENTS)]:
        result = load(engine, tmp, feed, rows)
        assert result.status == "ok", (feed, result.message, result.errors)


def revenue_row(number: str, month: str,
                values: Sequence[str] = REVENUE_HEADER_VALUES) -> list[str]:
    return [number, month, *values]
