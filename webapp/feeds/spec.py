"""What a feed is: its row schema, the table it lands in, and how rows are matched."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, FromClause, Table

from webapp.feeds.rows import FeedSchema
from webapp.feeds.staging import Staging


@dataclass(frozen=True)
class Lookup:
    """A staged code resolved against a reference table.

    With ``check`` an unknown code rejects the line ("unknown billing area 'X'"); with
    ``target`` the referenced row's id is written to that column of the feed's table.
    """

    code: str
    table: FromClause
    noun: str
    target: str | None = None
    match: str = "code"
    where: Callable[[FromClause], ColumnElement[bool]] | None = None
    hint: str = ""
    check: bool = True
    outer: bool = False


@dataclass(frozen=True)
class MergeContext:
    """What a feed's hooks may use: the open transaction, the staged rows, the clock."""

    conn: Connection
    staging: Staging
    now: datetime
    had_rejects: bool
    notes: list[str] = field(default_factory=list)


Hook = Callable[[MergeContext], None]
Check = Callable[[Staging], None]


@dataclass(frozen=True)
class Feed:
    """One kind of feed file and how it is merged into the database."""

    name: str
    #: One line for ``custclass import --help``.
    title: str
    schema: type[FeedSchema]
    table: Table
    #: Staged columns that identify a row; a file may not repeat a key.
    key: tuple[str, ...]
    #: Columns of ``table`` that identify the row a staged row updates (same-named source).
    match: tuple[str, ...]
    #: Columns of ``table`` the feed writes.
    values: tuple[str, ...]
    lookups: tuple[Lookup, ...] = ()
    #: False: rows must update an existing row (an unknown key rejects the line).
    inserts: bool = True
    #: What a changed row queues for re-evaluation: ``subscriber`` or ``customer``.
    subject: str | None = None
    #: Source column holding the subject's id; None when ``table`` is the subject's own.
    subject_column: str | None = None
    #: Reference data that facts of any customer may derive from: a new row, or a change
    #: of one of these columns, queues every customer (e.g. the org tree's shape).
    queues_everyone_on: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    before_merge: Hook | None = None
    after_merge: Hook | None = None
