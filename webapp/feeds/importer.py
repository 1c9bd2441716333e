"""Importing one feed file: read, validate, stage, check, merge, report.

One import is one database transaction: in ``strict`` mode any bad row stores nothing;
in ``skip`` mode the good rows are stored and the bad ones go to a reject file. A file
that cannot be read as a whole (wrong encoding, no header) stores nothing in either mode.
"""

import hashlib
import operator
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from marshmallow import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from webapp.feeds.csvfile import FeedFileError, Record, check_encoding, read_header, read_records
from webapp.feeds.merge import drop_rejected, merge, reject_duplicates, reject_unknown_references
from webapp.feeds.rejects import write_rejects
from webapp.feeds.rows import RowLoader
from webapp.feeds.spec import Feed, MergeContext
from webapp.feeds.staging import Staging
from webapp.models import ImportRun

Mode = Literal["strict", "skip"]
#: How many row errors a result keeps for display; the reject file has them all.
SHOWN_ERRORS = 20


@dataclass(frozen=True)
class RowError:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportResult:
    """What an import did; ``status`` is ``ok``, ``partial`` or ``failed``."""

    feed: str
    path: Path
    mode: Mode
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    seconds: float = 0.0
    status: str = "failed"
    message: str | None = None
    errors: list[RowError] = field(default_factory=list)
    reject_file: Path | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        rate = self.rows_read / self.seconds if self.seconds else 0.0
        return (
            f"{self.feed}: {self.status} · read {self.rows_read:,} · inserted {self.inserted:,}"
            f" · updated {self.updated:,} · unchanged {self.unchanged:,}"
            f" · rejected {self.rejected:,} · {rate:,.0f} rows/s ({self.seconds:.1f} s)"
        )


class _RejectedError(Exception):
    """Strict mode found bad rows: roll back."""


def import_file(engine: Engine, feed: Feed, path: Path, *, mode: Mode = "strict",
                encoding: str = "utf-8", chunk_rows: int = 5000,
                progress: bool = False) -> ImportResult:
    """Import ``path`` as ``feed``; never raises for bad input, the result says what happened."""
    result = ImportResult(feed=feed.name, path=path, mode=mode)
    started, clock = datetime.now(UTC), time.perf_counter()
    try:
        codec = check_encoding(path, encoding)
        with (engine.connect() as conn, conn.begin() as transaction,
              tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=feed.name,
                   disable=not progress, leave=False) as bar):
            staging = Staging(conn, feed.name, feed.schema.feed_fields(), feed.key)
            with path.open("rb") as handle:
                header = _stage_file(feed, handle, codec, staging, result, chunk_rows, bar)
            bar.set_description(f"{feed.name}: checking {result.rows_read:,} rows")
            staging.finish_loading()
            reject_duplicates(feed, staging)
            reject_unknown_references(feed, staging)
            for check in feed.checks:
                check(staging)
            result.rejected = drop_rejected(staging)
            if result.rejected:
                result.errors = _first_errors(staging)
                result.reject_file = write_rejects(path, codec, header, staging)
                if mode == "strict":
                    raise _RejectedError
            bar.set_description(f"{feed.name}: storing")
            _merge(feed, staging, result, started)
            transaction.commit()
        result.status = "partial" if result.rejected else "ok"
    except FeedFileError as exc:
        result.message = str(exc)
    except _RejectedError:
        result.message = (
            f"{result.rejected:,} bad row(s); nothing was stored (strict mode). "
            f"Every reason is in {result.reject_file}"
        )
    except OSError as exc:
        result.message = f"{exc.filename or path}: {exc.strerror or exc}"
    except SQLAlchemyError as exc:
        # A constraint the checks above did not foresee: the transaction is rolled back.
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        result.message = f"the database refused the import, nothing was stored: {reason[:300]}"
    result.seconds = time.perf_counter() - clock
    if result.status == "failed":
        result.inserted = result.updated = result.unchanged = 0
    _record(engine, result, started)
    return result


def _stage_file(feed: Feed, handle: BinaryIO, codec: str, staging: Staging,
                result: ImportResult, chunk_rows: int, bar: tqdm) -> list[str]:
    """Pass 1: validate every record and bulk-load the good ones; return the header."""
    records = read_records(handle, codec)
    header = read_header(records, feed.schema.columns(), feed.schema.header_aliases())
    loader = RowLoader(feed.schema)
    values = operator.itemgetter(*feed.schema.feed_fields())
    width = len(header)
    rows: list[tuple[Any, ...]] = []
    errors: list[tuple[int, str | None, str]] = []
    for record in records:
        result.rows_read += 1
        row = _load_record(record, header, width, loader, errors)
        if row is not None:
            rows.append((record.line, *values(row)))
        if len(rows) >= chunk_rows or len(errors) >= chunk_rows:
            _flush(staging, rows, errors)
            bar.update(handle.tell() - bar.n)
    _flush(staging, rows, errors)
    bar.update(bar.total - bar.n)
    return header


def _load_record(record: Record, header: list[str], width: int, loader: RowLoader,
                 errors: list[tuple[int, str | None, str]]) -> dict[str, Any] | None:
    if len(record.cells) != width:
        errors.append((record.line, None,
                       f"has {len(record.cells)} columns; the header has {width}"))
        return None
    raw = {column: text for column, cell in zip(header, record.cells, strict=True)
           if (text := cell.strip())}
    try:
        return loader.load(raw)
    except ValidationError as exc:
        errors.extend(_flatten(record.line, exc.messages))
        return None


def _flatten(line: int, messages: Any) -> Iterator[tuple[int, str | None, str]]:
    """Marshmallow's ``{column: [message, ...]}`` as one error per message."""
    if not isinstance(messages, dict):
        messages = {"_schema": messages}
    for column, texts in messages.items():
        for text in texts if isinstance(texts, list) else [texts]:
            yield line, None if column == "_schema" else column, str(text)


def _flush(staging: Staging, rows: list[tuple[Any, ...]],
           errors: list[tuple[int, str | None, str]]) -> None:
    staging.append_rows(rows)
    staging.append_errors(errors)
    rows.clear()
    errors.clear()


def _first_errors(staging: Staging) -> list[RowError]:
    errors = staging.errors
    query = select(errors.c.line_no, errors.c.column_name, errors.c.message).order_by(
        errors.c.line_no
    ).limit(SHOWN_ERRORS)
    return [RowError(*row) for row in staging.conn.execute(query)]


def _merge(feed: Feed, staging: Staging, result: ImportResult, now: datetime) -> None:
    ctx = MergeContext(conn=staging.conn, staging=staging, now=now,
                       had_rejects=result.rejected > 0, notes=result.notes)
    if feed.before_merge:
        feed.before_merge(ctx)
    result.inserted, result.updated = merge(feed, ctx)
    if feed.after_merge:
        feed.after_merge(ctx)
    result.unchanged = result.rows_read - result.rejected - result.inserted - result.updated


def _record(engine: Engine, result: ImportResult, started: datetime) -> None:
    """Keep a row per import, in its own transaction (a failed import is recorded too)."""
    with engine.begin() as conn:
        conn.execute(
            ImportRun.__table__.insert().values(
                feed=result.feed,
                file_name=str(result.path)[-500:],
                file_sha256=_sha256(result.path),
                mode=result.mode,
                started_at=started,
                finished_at=datetime.now(UTC),
                status=result.status,
                rows_read=result.rows_read,
                inserted=result.inserted,
                updated=result.updated,
                unchanged=result.unchanged,
                rejected=result.rejected,
                message=result.message,
            )
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()
