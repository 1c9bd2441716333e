"""Changing line-plant mappings: check a batch of changes, then write it in one
transaction with its admin change log rows, queueing the lines whose facts change.

A batch is all or nothing: :func:`check_changes` reports every bad line and
:func:`apply_changes` is only called with a batch that had none. The caller commits.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Connection, Select, and_, func, or_, select, update

from webapp.audit.admin_changes import changed_fields, record
from webapp.feeds.fields import Code, ServiceNumber
from webapp.lineplant.search import Kind
from webapp.lineplant.targets import OrgIndex, target_problem
from webapp.models import JunctionBox, NumberSegment, OrgUnit, Subscriber
from webapp.models.changes import mark_changed
from webapp.scope import Scope

#: Changes one batch may hold: the confirmation carries them back in a form field, and
#: Werkzeug reads at most 500,000 bytes of form fields (1,500 worst-case changes: ~375 kB).
MAX_CHANGES = 1500
#: Keys looked up per query (IN lists stay small on both databases).
BATCH = 500
_CODE, _NUMBER, _COMMUNITY = Code(), ServiceNumber(), Code(40)


@dataclass(frozen=True)
class Requested:
    """One change as a person asked for it (a form, or a line of a file)."""

    line: int
    #: Box code, or the start of the segment as stored.
    key: str
    community: str
    #: A segment's new range (None: keep it).
    start: str | None = None
    end: str | None = None
    #: The mapping as the preview showed it: (community, start, end). On confirmation a
    #: mapping changed meanwhile by someone else is refused, not overwritten.
    seen: tuple[str, str | None, str | None] | None = None


@dataclass(frozen=True)
class Resolved:
    """A checked change of a stored mapping."""

    line: int
    kind: Kind
    id: int
    key: str
    old_community: str
    new_community: str
    new_community_id: int
    #: Segments: the range before and after (equal when only the community changes).
    old_range: tuple[str, str] | None = None
    new_range: tuple[str, str] | None = None

    @property
    def changes_anything(self) -> bool:
        return self.old_community != self.new_community or self.old_range != self.new_range

    def state(self) -> tuple[str, str | None, str | None]:
        """The mapping as stored now, as :attr:`Requested.seen` holds it."""
        start, end = self.old_range or (None, None)
        return self.old_community, start, end


@dataclass
class Checked:
    changes: list[Resolved] = field(default_factory=list)
    #: (line, why) of every change that cannot be made.
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def effective(self) -> list[Resolved]:
        """The changes that change something (mapping a box to its own community is
        allowed and does nothing)."""
        return [change for change in self.changes if change.changes_anything]


def _chunks(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _format_problem(requested: Requested) -> str | None:
    """Why the cells of ``requested`` are not a box code / segment start and a
    community code (None: they are)."""
    for what, text, field_ in ((_("box code or segment start"), requested.key, _CODE),
                               (_("new community code"), requested.community, _COMMUNITY)):
        if not text:
            return _("the %(what)s is empty", what=what)
        try:
            field_.parse(text)
        except ValueError as error:
            return f"{what}: {error}"
    return None


def _stored(conn: Connection, kind: Kind, keys: list[str]) -> dict[str, Any]:
    """Stored mappings by key, with their community code."""
    found: dict[str, Any] = {}
    if kind is Kind.BOX:
        columns = (JunctionBox.code.label("key"), JunctionBox.id, JunctionBox.billing_area_id,
                   OrgUnit.code.label("community"))
        table, key = JunctionBox, JunctionBox.code
    else:
        columns = (NumberSegment.range_start.label("key"), NumberSegment.id,
                   NumberSegment.billing_area_id, OrgUnit.code.label("community"),
                   NumberSegment.range_end)
        table, key = NumberSegment, NumberSegment.range_start
    for chunk in _chunks(keys):
        for row in conn.execute(select(*columns).join(OrgUnit, OrgUnit.id == table.community_id)
                                .where(key.in_(chunk))):
            found[row.key] = row
    return found


def check_changes(conn: Connection, scope: Scope, kind: Kind,
                  requested: Sequence[Requested]) -> Checked:
    """Every change checked against the stored mappings, the org tree and ``scope``."""
    checked = Checked()
    if len(requested) > MAX_CHANGES:
        checked.problems.append((requested[MAX_CHANGES].line, _(
            "more than %(max)s changes at once: split the file", max=MAX_CHANGES)))
        return checked
    index = OrgIndex(conn)
    good = []
    first_line: dict[str, int] = {}
    for change in requested:
        problem = _format_problem(change)
        if problem is None and change.key in first_line:
            problem = _("%(key)s is repeated (first on line %(line)s)", key=change.key,
                        line=first_line[change.key])
        if problem is not None:
            checked.problems.append((change.line, problem))
            continue
        first_line[change.key] = change.line
        good.append(change)
    stored = _stored(conn, kind, [change.key for change in good])
    for change in good:
        row = stored.get(change.key)
        problem = None
        if row is None:
            problem = (_("unknown junction box %(code)s", code=change.key) if kind is Kind.BOX
                       else _("no number segment starts at %(start)s", start=change.key))
        else:
            problem = target_problem(index, scope, row.billing_area_id, row.community,
                                     change.community)
        if problem is not None:
            checked.problems.append((change.line, problem))
            continue
        resolved = Resolved(
            change.line, kind, row.id, change.key, row.community, change.community,
            index.by_code[change.community].id,
            *((None, None) if kind is Kind.BOX else
              ((row.key, row.range_end), (change.start or row.key, change.end or row.range_end))))
        if change.seen is not None and change.seen != resolved.state():
            checked.problems.append((change.line, _(
                "%(key)s was changed by someone else since the preview: preview again",
                key=change.key)))
            continue
        checked.changes.append(resolved)
    if kind is Kind.SEGMENT:
        bad = list(_range_problems(conn, checked.changes))
        refused = {line for line, _why in bad}
        checked.changes = [change for change in checked.changes if change.line not in refused]
        checked.problems = sorted(checked.problems + bad)
    return checked


def _range_problems(conn: Connection, changes: list[Resolved]) -> Iterator[tuple[int, str]]:
    """Why a segment's new range cannot be: not digits, lengths differ, start after end,
    overlapping another segment (stored, or changed in the same batch)."""
    moved = [change for change in changes if change.new_range != change.old_range]
    ids = {change.id for change in moved}
    for change in moved:
        start, end = change.new_range or ("", "")
        try:
            _NUMBER.parse(start)
            _NUMBER.parse(end)
        except ValueError as error:
            yield change.line, _("range: %(why)s", why=str(error))
            continue
        if len(start) != len(end):
            yield change.line, _("the range's start and end must have as many digits")
        elif start > end:
            yield change.line, _("the range's start %(start)s is after its end %(end)s",
                                 start=start, end=end)
        else:
            other = conn.execute(select(NumberSegment.range_start, NumberSegment.range_end)
                                 .where(NumberSegment.id.not_in(ids),
                                        *_overlapping(NumberSegment.range_start,
                                                      NumberSegment.range_end, start, end))
                                 .order_by(NumberSegment.range_start).limit(1)).first()
            if other is None:
                other = next((c.new_range for c in moved if c is not change and c.new_range
                              and _ranges_overlap(c.new_range, (start, end))), None)
            if other is not None:
                yield change.line, _("the range %(start)s–%(end)s overlaps the segment "
                                     "%(other_start)s–%(other_end)s", start=start, end=end,
                                     other_start=other[0], other_end=other[1])


def _ranges_overlap(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return len(a[0]) == len(b[0]) and a[0] <= b[1] and b[0] <= a[1]


def _overlapping(start_column: Any, end_column: Any, start: str, end: str) -> list[Any]:
    return [func.length(start_column) == len(start), start_column <= end, end_column >= start]


def affected_lines(changes: Iterable[Resolved]) -> Iterator[Select]:
    """Queries of the ids of the lines whose facts a batch changes: every line on a
    remapped box; every line numbered in a changed segment's old or new range."""
    changes = list(changes)
    for chunk in _chunks(changes, 200):
        conditions = []
        for change in chunk:
            if change.kind is Kind.BOX:
                conditions.append(Subscriber.junction_box_code == change.key)
                continue
            for start, end in {change.old_range, change.new_range} - {None}:
                conditions.append(_within(start, end))
        if conditions:
            yield select(Subscriber.id).where(or_(*conditions))


def _within(start: str, end: str) -> Any:
    number = Subscriber.service_number
    return and_(func.length(number) == len(start), number.between(start, end))


def write_mappings(conn: Connection, changes: Iterable[Resolved]) -> None:
    """Store the new mappings (nothing else: no log, no queue)."""
    for change in changes:
        if change.kind is Kind.BOX:
            conn.execute(update(JunctionBox).where(JunctionBox.id == change.id)
                         .values(community_id=change.new_community_id))
        else:
            start, end = change.new_range or ("", "")
            conn.execute(update(NumberSegment).where(NumberSegment.id == change.id)
                         .values(community_id=change.new_community_id, range_start=start,
                                 range_end=end))


def apply_changes(conn: Connection, staff_id: int | None, changes: Sequence[Resolved],
                  now: datetime) -> int:
    """Write the changes, their log rows, and queue the lines they affect; returns how
    many mappings changed. Runs inside the caller's transaction."""
    effective = [change for change in changes if change.changes_anything]
    write_mappings(conn, effective)
    for change in effective:
        before: dict[str, Any] = {"community": change.old_community}
        after: dict[str, Any] = {"community": change.new_community}
        if change.old_range is not None and change.new_range is not None:
            before.update(range_start=change.old_range[0], range_end=change.old_range[1])
            after.update(range_start=change.new_range[0], range_end=change.new_range[1])
        old, new = changed_fields(before, after)
        record(conn, staff_id=staff_id,
               subject="junction_box" if change.kind is Kind.BOX else "number_segment",
               key=change.key, action="updated", now=now, old=old, new=new)
    for lines in affected_lines(effective):
        mark_changed(conn, "subscriber", lines, now)
    return len(effective)
