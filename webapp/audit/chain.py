"""Appending to the adjustment log and verifying its hash chain.

Each row's ``chain_hash`` is SHA-256 of the previous row's hash and the row's own
content (canonical JSON: timestamps in UTC, keys sorted), in ``chain_seq`` order from
:data:`GENESIS`. Changing, removing or inserting a row breaks the chain at that row;
cutting rows off the end no longer matches :class:`AuditChainHead`. The database also
refuses UPDATE and DELETE on the table (triggers, see the migration), so the product
itself cannot alter it; the chain catches what is done around the product.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Connection, insert, select, update

from webapp.database import upsert
from webapp.models import AdjustmentLogEntry, AuditChainHead

GENESIS = "0" * 64
#: The columns a row's hash covers, in this order.
CONTENT = ("logged_at", "run_id", "staff_user_id", "customer_id", "subscriber_id",
           "attribute", "old_value", "new_value", "rule_id", "ruleset_name",
           "ruleset_version", "reason", "facts")


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:  # SQLite gives back naive UTC; PostgreSQL aware
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, Enum):
        return value.value
    return value


def row_hash(previous: str, entry: Mapping[str, Any]) -> str:
    """The chain hash of ``entry`` (column → value) after a row hashed ``previous``."""
    content = json.dumps([_canonical(entry.get(name)) for name in CONTENT],
                         ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{previous}\n{content}".encode()).hexdigest()


def append(conn: Connection, entries: Iterable[Mapping[str, Any]]) -> int:
    """Add ``entries`` (column → value) at the end of the chain, in the caller's
    transaction; returns how many. Concurrent appends wait for this transaction."""
    rows = [{**{name: entry.get(name) for name in CONTENT},
             "logged_at": entry["logged_at"].astimezone(UTC)} for entry in entries]
    if not rows:
        return 0
    seq, previous = _lock_head(conn)
    for row in rows:
        seq += 1
        previous = row_hash(previous, row)
        row["chain_seq"], row["chain_hash"] = seq, previous
    conn.execute(insert(AdjustmentLogEntry), rows)
    conn.execute(update(AuditChainHead).where(AuditChainHead.id == 1)
                 .values(last_seq=seq, last_hash=previous))
    return len(rows)


def _lock_head(conn: Connection) -> tuple[int, str]:
    """The chain's end, locked until the transaction ends (a row lock on PostgreSQL; on
    SQLite the write lock, taken by the UPDATE before anything is read)."""
    conn.execute(upsert(conn, AuditChainHead)
                 .values(id=1, last_seq=0, last_hash=GENESIS).on_conflict_do_nothing())
    return conn.execute(update(AuditChainHead).where(AuditChainHead.id == 1)
                        .values(last_seq=AuditChainHead.last_seq)
                        .returning(AuditChainHead.last_seq, AuditChainHead.last_hash)).one()


@dataclass(frozen=True)
class ChainReport:
    rows: int
    #: The first row that does not fit (its id and chain_seq), and why; None: intact.
    broken_id: int | None = None
    broken_seq: int | None = None
    reason: str | None = None
    last_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return self.reason is None


def verify(conn: Connection, batch: int = 10_000) -> ChainReport:
    """Check every row of the chain, streaming; names the first broken row."""
    columns = [getattr(AdjustmentLogEntry, name) for name in CONTENT]
    query = (select(AdjustmentLogEntry.id, AdjustmentLogEntry.chain_seq,
                    AdjustmentLogEntry.chain_hash, *columns)
             .order_by(AdjustmentLogEntry.chain_seq)
             .execution_options(yield_per=batch))
    previous, expected, rows = GENESIS, 1, 0
    for row in conn.execute(query):
        if row.chain_seq != expected:
            return ChainReport(rows, row.id, row.chain_seq,
                               f"rows {expected}..{row.chain_seq - 1} of the chain are missing",
                               previous)
        computed = row_hash(previous, row._mapping)
        if computed != row.chain_hash:
            return ChainReport(rows, row.id, row.chain_seq,
                               "content or hash altered (the hash does not match the row "
                               "and its predecessor)", previous)
        previous, expected, rows = computed, expected + 1, rows + 1
    head = conn.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)).first()
    last_seq, last_hash = head if head else (0, GENESIS)
    if (last_seq, last_hash) != (rows, previous):
        return ChainReport(rows, None, rows + 1,
                           f"the chain ends at row {rows} but was last extended to row "
                           f"{last_seq}: rows were removed from the end", previous)
    return ChainReport(rows, last_hash=previous)
