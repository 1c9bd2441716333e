"""What changed between two versions of a ruleset document, for the side-by-side diff.

Both versions are read as decision tables (:func:`~webapp.rulesets.table.table_of`) and
their rows matched by rule id: a row is added, removed, changed (cell by cell) or moved
(same content, but out of order relative to the other rows both versions keep). The
top-level fields and the test cases (by name) are compared as well.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from webapp.rulesets.table import NEGATED, Row, outcome_text, table_of

#: Top-level fields of a document compared as text.
FIELDS = ("title", "description", "subject", "output", "hit_policy", "depends_on", "default")

RowKind = Literal["added", "removed", "changed", "moved"]
_KINDS: tuple[RowKind, ...] = ("changed", "added", "removed", "moved")

#: A row's identity: its rule id and which occurrence of that id it is (drafts may
#: repeat an id until the schema rejects it).
_Key = tuple[str, int]


@dataclass(frozen=True)
class CellChange:
    """One differing cell: a fact, ``title``, ``more`` or ``then.<key>`` (``then.value``,
    ``then.severity``...), as the table shows it; ``""`` where the row has no cell."""

    column: str
    old: str
    new: str


@dataclass(frozen=True)
class RowChange:
    """A rule that differs; positions are 1-based priorities, ``None`` where absent."""

    rule_id: str
    kind: RowKind
    old_position: int | None
    new_position: int | None
    #: The differing cells (all non-empty cells of an added or removed row; none if moved).
    cells: tuple[CellChange, ...]


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class TestChanges:
    """Names of the test cases added, removed and changed."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]


@dataclass(frozen=True)
class DocumentDiff:
    fields: tuple[FieldChange, ...]
    #: In the new document's order; a removed row follows the row that preceded it in the
    #: old document (first if nothing did).
    rows: tuple[RowChange, ...]
    tests: TestChanges
    #: The fact columns of both tables, the old table's first.
    columns: list[str]

    @property
    def empty(self) -> bool:
        return not (self.fields or self.rows or self.tests.added or self.tests.removed
                    or self.tests.changed)

    def summary(self) -> str:
        """One line, e.g. ``2 rules changed, 1 added; default changed; 1 test case added``."""
        kinds = Counter(row.kind for row in self.rows)
        fields = ", ".join(change.field for change in self.fields)
        parts = [
            _counted([(kinds[kind], kind) for kind in _KINDS], "rule"),
            f"{fields} changed" if fields else "",
            _counted([(len(self.tests.changed), "changed"), (len(self.tests.added), "added"),
                      (len(self.tests.removed), "removed")], "test case"),
        ]
        return "; ".join(part for part in parts if part) or "no change"


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> DocumentDiff:
    """The differences between two versions of a ruleset document."""
    old_table, new_table = table_of(old), table_of(new)
    columns = old_table.columns + [fact for fact in new_table.columns
                                   if fact not in old_table.columns]
    olds, news = _keyed(old_table.rows), _keyed(new_table.rows)
    in_order = _in_order([key for key in olds if key in news], [key for key in news if key in olds])

    # Runs of removed rows, by the kept row before them in the old document.
    removed_after: dict[_Key | None, list[_Key]] = {}
    anchor: _Key | None = None
    for key in olds:
        if key in news:
            anchor = key
        else:
            removed_after.setdefault(anchor, []).append(key)
    order = removed_after.get(None, []) + [
        row_key for key in news for row_key in (key, *removed_after.get(key, []))]

    rows = []
    for key in order:
        old_position, old_row = olds.get(key, (None, Row()))
        new_position, new_row = news.get(key, (None, Row()))
        cells = _cell_changes(old_row, new_row, columns)
        kind: RowKind
        if old_position is None:
            kind = "added"
        elif new_position is None:
            kind = "removed"
        elif cells:
            kind = "changed"
        elif key not in in_order:
            kind = "moved"
        else:
            continue
        rows.append(RowChange(key[0], kind, old_position, new_position, cells))

    # Top-level fields read like outcomes: lists joined with commas, {fact: x} as =x.
    fields = tuple(FieldChange(name, before, after) for name in FIELDS
                   if (before := outcome_text(old.get(name)))
                   != (after := outcome_text(new.get(name))))
    return DocumentDiff(fields, tuple(rows), _test_changes(old, new), columns)


def _keyed(rows: list[Row]) -> dict[_Key, tuple[int, Row]]:
    """Rows by key, in priority order, with their 1-based position."""
    seen: Counter[str] = Counter()
    keyed = {}
    for position, row in enumerate(rows, 1):
        keyed[(row.rule_id, seen[row.rule_id])] = (position, row)
        seen[row.rule_id] += 1
    return keyed


def _in_order(old: list[_Key], new: list[_Key]) -> set[_Key]:
    """The most rows kept in the same relative order (a longest common subsequence); the
    other rows both versions have were moved."""
    longest = [[0] * (len(new) + 1) for _ in range(len(old) + 1)]
    for i in reversed(range(len(old))):
        for j in reversed(range(len(new))):
            longest[i][j] = longest[i + 1][j + 1] + 1 if old[i] == new[j] \
                else max(longest[i + 1][j], longest[i][j + 1])
    kept, i, j = set(), 0, 0
    while i < len(old) and j < len(new):
        if old[i] == new[j]:
            kept.add(old[i])
            i, j = i + 1, j + 1
        elif longest[i + 1][j] >= longest[i][j + 1]:
            i += 1
        else:
            j += 1
    return kept


def _cell_changes(old: Row, new: Row, columns: list[str]) -> tuple[CellChange, ...]:
    cells = [("title", old.title, new.title)]
    cells += [(fact, _cell(old, fact), _cell(new, fact)) for fact in columns]
    cells.append(("more", old.more, new.more))
    keys = list(old.outcome) + [key for key in new.outcome if key not in old.outcome]
    cells += [(f"then.{key}", old.outcome.get(key, ""), new.outcome.get(key, ""))
              for key in keys]
    return tuple(CellChange(column, before, after) for column, before, after in cells
                 if before != after)


def _cell(row: Row, fact: str) -> str:
    """A fact cell as text: ``ge 90``, ``not in a, b``; ``""`` when there is none."""
    cell = row.cells.get(fact)
    if cell is None:
        return ""
    op = "not " + cell.op.removeprefix(NEGATED) if cell.op.startswith(NEGATED) else cell.op
    return f"{op} {cell.value}".strip()




def _test_changes(old: dict[str, Any], new: dict[str, Any]) -> TestChanges:
    olds, news = _test_cases(old), _test_cases(new)
    return TestChanges(added=tuple(name for name in news if name not in olds),
                       removed=tuple(name for name in olds if name not in news),
                       changed=tuple(name for name in news
                                     if name in olds and olds[name] != news[name]))


def _test_cases(document: dict[str, Any]) -> dict[str, Any]:
    return {str(case.get("name", "")): case for case in document.get("tests") or []}


def _counted(counts: list[tuple[int, str]], noun: str) -> str:
    """``2 rules changed, 1 added``: the noun goes with the first non-zero count."""
    parts = [(count, verb) for count, verb in counts if count]
    if not parts:
        return ""
    (first, verb), rest = parts[0], parts[1:]
    head = f"{first} {noun}{'' if first == 1 else 's'} {verb}"
    return ", ".join([head, *(f"{count} {verb}" for count, verb in rest)])
