"""The reject file: every bad row as it was read, with its line number and the reasons."""

import csv
from collections.abc import Iterator
from itertools import groupby
from pathlib import Path

from sqlalchemy import select

from webapp.feeds.csvfile import read_records
from webapp.feeds.staging import Staging


def reject_path(path: Path) -> Path:
    """``subscribers.csv`` → ``subscribers.rejects.csv`` in the same folder."""
    return path.with_name(f"{path.stem}.rejects.csv")


def write_rejects(path: Path, codec: str, header: list[str], staging: Staging) -> Path:
    """Write the rejected records of ``path`` next to it, in the file's own encoding.

    A second pass over the input walks in step with the errors ordered by line, so
    neither the file nor the errors are held in memory.
    """
    target = reject_path(path)
    reasons = _reasons_by_line(staging)
    pending = next(reasons, None)
    with path.open("rb") as source, target.open("w", encoding=codec, newline="") as out:
        writer = csv.writer(out)
        writer.writerow([*header, "reject_line", "reject_reason"])
        records = read_records(source, codec)
        next(records, None)  # the header
        for record in records:
            while pending is not None and pending[0] < record.line:
                pending = next(reasons, None)
            if pending is None:
                break
            if pending[0] == record.line:
                writer.writerow([*record.cells, record.line, pending[1]])
    return target


def _reasons_by_line(staging: Staging) -> Iterator[tuple[int, str]]:
    errors = staging.errors
    rows = staging.conn.execute(
        select(errors.c.line_no, errors.c.column_name, errors.c.message)
        .order_by(errors.c.line_no, errors.c.column_name)
        .execution_options(yield_per=10_000)
    )
    for line, group in groupby(rows, key=lambda row: row.line_no):
        yield line, "; ".join(
            f"{row.column_name}: {row.message}" if row.column_name else row.message
            for row in group
        )
