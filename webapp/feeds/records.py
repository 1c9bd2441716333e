"""Feed records sent one by one or a few at a time (the JSON API) instead of in a file.

The same rules as a file import (:mod:`webapp.feeds.importer`): each record is converted
by the feed's row schema (:func:`cells` turns JSON values into the cells a CSV would
hold), then staged, checked against the database (unknown references, the feed's own
checks) and merged set-based in one transaction, which queues what really changed.
All or nothing: any bad record and nothing is stored. Every submission is kept in
``import_run`` as files are.
"""

import hashlib
import json
import operator
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import SQLAlchemyError

from webapp.feeds.merge import drop_rejected, merge, reject_unknown_references
from webapp.feeds.rows import FeedSchema, RowLoader
from webapp.feeds.spec import Feed, MergeContext
from webapp.feeds.staging import Staging
from webapp.models import ImportRun

#: Record number → JSON key → messages.
RecordErrors = dict[int, dict[str, list[str]]]


@dataclass
class RecordsResult:
    """What a submission did; ``errors`` empty when it was stored."""

    rows: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: RecordErrors = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Why the database refused the whole batch (nothing stored), if it did.
    refused: str | None = None


def cells(record: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """A JSON record as the non-empty, stripped cells of a CSV row — numbers and booleans
    as their text (``12.5``, ``true``), ``null`` and blank text as missing — and the
    values that cannot be cells (objects, lists, text that is not valid Unicode)."""
    found, problems = {}, {}
    for key, value in record.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            text = repr(value)
        elif isinstance(value, str):
            text = value.strip()
        else:
            problems[key] = ["must be text, a number or true/false"]
            continue
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                problems[key] = ["is not valid Unicode (a lone surrogate)"]
                continue
        if text:
            found[key] = text
    return found, problems


def load_record(loader: RowLoader, record: Any) -> dict[str, Any]:
    """One record converted by the feed's row schema; ``ValidationError`` with every
    problem, by JSON key."""
    if not isinstance(record, Mapping):
        raise ValidationError(["must be an object of column → value"])
    raw, problems = cells(record)
    try:
        row = loader.load(raw)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) \
            else {"_schema": error.messages}
        raise ValidationError({**messages, **problems}) from None
    if problems:
        raise ValidationError(problems)
    return row


def duplicates(feed: Feed, rows: Sequence[Mapping[str, Any]]) -> RecordErrors:
    """Records repeating another's key: which one is right cannot be known, so each is
    refused (as every line of a file repeating a key is)."""
    keys = operator.itemgetter(*feed.key)
    seen: dict[Any, list[int]] = defaultdict(list)
    for number, row in enumerate(rows):
        seen[keys(row)].append(number)
    data_keys = _data_keys(feed.schema)
    errors: RecordErrors = {}
    for numbers in seen.values():
        for number in numbers if len(numbers) > 1 else ():
            others = ", ".join(str(other) for other in numbers if other != number)
            errors[number] = {data_keys[feed.key[0]]: [
                f"{' / '.join(data_keys[name] for name in feed.key)} repeats record {others}"]}
    return errors


def import_records(engine: Engine, feed: Feed, rows: Sequence[Mapping[str, Any]], *,
                   source: str) -> RecordsResult:
    """Store ``rows`` (converted by the feed's schema, numbered from 0) all or nothing;
    ``source`` says who sent them (kept as the import's file name)."""
    started = datetime.now(UTC)
    result = RecordsResult(len(rows))
    try:
        _stage_and_merge(engine, feed, rows, result, started, source)
    except SQLAlchemyError as exc:
        # A constraint the checks did not foresee (a concurrent import creating the same
        # customer): the transaction is rolled back, as a file import's would be.
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        result.refused = f"the database refused the records, nothing was stored: " \
                         f"{reason[:300]}"
    if result.errors or result.refused:
        with engine.begin() as conn:
            _record(conn, feed, rows, result, started, source)
    return result


def _stage_and_merge(engine: Engine, feed: Feed, rows: Sequence[Mapping[str, Any]],
                     result: RecordsResult, started: datetime, source: str) -> None:
    with engine.connect() as conn, conn.begin() as transaction:
        staging = Staging(conn, feed.name, feed.schema.feed_fields(), feed.key)
        values = operator.itemgetter(*feed.schema.feed_fields())
        staging.append_rows([(number, *values(row)) for number, row in enumerate(rows)])
        staging.finish_loading()
        reject_unknown_references(feed, staging)
        for check in feed.checks:
            check(staging)
        if drop_rejected(staging):
            result.errors = _staged_errors(staging, _data_keys(feed.schema))
        for number, problems in duplicates(feed, rows).items():
            for key, messages in problems.items():
                result.errors.setdefault(number, {}).setdefault(key, []).extend(messages)
        if not result.errors:
            _merge(feed, staging, result, started)
            _record(conn, feed, rows, result, started, source)
            transaction.commit()


def _merge(feed: Feed, staging: Staging, result: RecordsResult, now: datetime) -> None:
    ctx = MergeContext(conn=staging.conn, staging=staging, now=now, had_rejects=False,
                       notes=result.notes)
    if feed.before_merge:
        feed.before_merge(ctx)
    result.inserted, result.updated = merge(feed, ctx)
    if feed.after_merge:
        feed.after_merge(ctx)
    result.unchanged = result.rows - result.inserted - result.updated


def _data_keys(schema: type[FeedSchema]) -> dict[str, str]:
    """Staged column → the key records use for it (``balance_cents`` → ``balance``)."""
    return {name: field.data_key or name for name, field in schema.feed_fields().items()}


def _staged_errors(staging: Staging, data_keys: Mapping[str, str]) -> RecordErrors:
    errors: RecordErrors = {}
    table = staging.errors
    for number, column, message in staging.conn.execute(
            select(table.c.line_no, table.c.column_name, table.c.message)
            .order_by(table.c.line_no)):
        key = data_keys.get(column, column) if column else "_schema"
        errors.setdefault(number, {}).setdefault(key, []).append(message)
    return errors


def _record(conn: Connection, feed: Feed, rows: Sequence[Mapping[str, Any]],
            result: RecordsResult, started: datetime, source: str) -> None:
    """Keep the submission in ``import_run``, as a file import is kept."""
    content = json.dumps([{key: str(value) for key, value in row.items()} for row in rows],
                         sort_keys=True, ensure_ascii=False)
    conn.execute(ImportRun.__table__.insert().values(
        feed=feed.name, file_name=source[:500],
        file_sha256=hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest(),
        mode="strict", started_at=started, finished_at=datetime.now(UTC),
        status="failed" if result.errors or result.refused else "ok", rows_read=len(rows),
        inserted=result.inserted, updated=result.updated, unchanged=result.unchanged,
        rejected=len(result.errors),
        message=result.refused or (f"{len(result.errors)} bad record(s); nothing was stored"
                                   if result.errors else None)))
