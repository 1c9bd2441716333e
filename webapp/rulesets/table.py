"""A ruleset document as a decision table, and back.

One row per rule (in priority order), one column per fact: a cell holds the condition on
that fact (an operator, possibly negated, and the value as the analyst types it). The
parts of a rule's condition that are not one test per fact (``any``, nested groups, a
second test on the same fact) stay in the row's *more conditions* cell, written in the
same YAML as the rule files. All cells of a row are joined with ``all``.

Converting back records where each cell went in the document (:class:`CellPaths`), so a
problem the engine's schema reports at ``rules[3].when.all[1].value`` is shown next to
the cell it concerns.
"""

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.catalog import Fact, FactType
from webapp.rulesets.files import RuleFileError, load_yaml

#: Prefix of a negated operator in a cell (``not`` around the test).
NEGATED = "!"
#: Outcome cells starting with this copy a fact instead of naming a value.
COPY_FACT = "="
LIST_OPS = frozenset({"in", "not_in"})


@dataclass
class Cell:
    op: str = ""
    value: str = ""

    @property
    def empty(self) -> bool:
        return not self.op


@dataclass
class Row:
    rule_id: str = ""
    title: str = ""
    cells: dict[str, Cell] = field(default_factory=dict)
    #: Conditions that are not one test per fact, as YAML (a list joined with ``all``).
    more: str = ""
    #: Attribute rulesets: the value, or ``=fact``. Alerts: ``type``, ``severity``,
    #: ``message``.
    outcome: dict[str, str] = field(default_factory=dict)


@dataclass
class Table:
    columns: list[str]
    rows: list[Row]


class CellPaths:
    """Document path prefix → (row index, column name or a field of the row)."""

    def __init__(self) -> None:
        self._paths: list[tuple[str, tuple[int, str]]] = []

    def add(self, path: str, row: int, where: str) -> None:
        self._paths.append((path, (row, where)))

    def locate(self, path: str) -> tuple[int, str] | None:
        """The cell a problem's path falls in (the longest matching prefix)."""
        best: tuple[str, tuple[int, str]] | None = None
        for prefix, place in self._paths:
            if (path == prefix or path.startswith((prefix + ".", prefix + "["))) \
                    and (best is None or len(prefix) > len(best[0])):
                best = (prefix, place)
        return best[1] if best else None


def table_of(document: dict[str, Any]) -> Table:
    """The decision table of a ruleset document (as stored or as in ``rules/``)."""
    rows: list[Row] = []
    columns: list[str] = []
    for rule in document.get("rules") or []:
        row = Row(rule_id=str(rule.get("id", "")), title=str(rule.get("title", "")),
                  outcome=_outcome_cells(rule.get("then")))
        rest = []
        for condition in _conjuncts(rule.get("when")):
            test = _simple_test(condition)
            if test is None or test[0] in row.cells:
                rest.append(condition)
                continue
            fact, cell = test
            row.cells[fact] = cell
            if fact not in columns:
                columns.append(fact)
        row.more = _yaml(rest) if rest else ""
        rows.append(row)
    return Table(columns, rows)


def document_of(base: dict[str, Any], table: Table, facts: Mapping[str, Fact]
                ) -> tuple[dict[str, Any], CellPaths, list[tuple[int, str, str]]]:
    """``base`` with its rules replaced by the table's; where each cell went; and the
    problems found before the schema sees it (row, cell, message: unreadable YAML)."""
    document = copy.deepcopy(base)
    paths, problems = CellPaths(), []
    rules = []
    for index, row in enumerate(table.rows):
        conditions: list[tuple[Any, str]] = []
        for fact in table.columns:
            cell = row.cells.get(fact)
            if cell is not None and not cell.empty:
                conditions.append((_condition(fact, cell, facts), fact))
        if row.more.strip():
            try:
                more = load_yaml(row.more, "more conditions")
            except RuleFileError as error:
                problems.append((index, "more", str(error)))
                more = []
            for item in more if isinstance(more, list) else [more]:
                conditions.append((item, "more"))
        prefix = f"rules[{index}]"
        if len(conditions) == 1:
            when: Any = conditions[0][0]
            paths.add(f"{prefix}.when", index, conditions[0][1])
        else:
            when = {"all": [condition for condition, _ in conditions]}
            for position, (_, where) in enumerate(conditions):
                paths.add(f"{prefix}.when.all[{position}]", index, where)
            paths.add(f"{prefix}.when", index, "more")
        paths.add(f"{prefix}.id", index, "rule_id")
        paths.add(f"{prefix}.title", index, "title")
        paths.add(f"{prefix}.then", index, "outcome")
        rules.append({"id": row.rule_id.strip(), "title": row.title.strip(), "when": when,
                      "then": _outcome(row.outcome)})
    document["rules"] = rules
    return document, paths, problems


def cell_text(value: Any) -> str:
    """A literal as a cell shows it: lists joined with commas, a range with ``..``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(cell_text(item) for item in value)
    return "" if value is None else str(value)


def _conjuncts(when: Any) -> list[Any]:
    if isinstance(when, dict) and set(when) == {"all"} and isinstance(when["all"], list):
        return list(when["all"])
    return [] if when is None else [when]


def _simple_test(condition: Any) -> tuple[str, Cell] | None:
    negated = False
    if isinstance(condition, dict) and set(condition) == {"not"}:
        condition, negated = condition["not"], True
    if not (isinstance(condition, dict) and isinstance(condition.get("fact"), str)
            and isinstance(condition.get("op"), str)
            and set(condition) <= {"fact", "op", "value"}):
        return None
    value, op = condition.get("value"), condition["op"]
    if op == "between":
        if not (isinstance(value, list) and len(value) == 2 and all(map(_scalar, value))):
            return None
        text = f"{cell_text(value[0])} .. {cell_text(value[1])}"
    elif op in LIST_OPS:
        if not (isinstance(value, list) and all(_scalar(item) and "," not in cell_text(item)
                                                for item in value)):
            return None
        text = cell_text(value)
    elif _scalar(value):
        text = cell_text(value)
    else:
        return None
    return condition["fact"], Cell((NEGATED if negated else "") + condition["op"], text)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _condition(fact: str, cell: Cell, facts: Mapping[str, Fact]) -> dict[str, Any]:
    negated = cell.op.startswith(NEGATED)
    op = cell.op.removeprefix(NEGATED)
    fact_type = facts[fact].type if fact in facts else None
    text = cell.value.strip()
    value: Any
    if op == "is_empty":
        value = None
    elif op == "between":
        low, separator, high = text.partition("..")
        value = [_typed(low.strip(), fact_type), _typed(high.strip(), fact_type)] \
            if separator else _typed(text, fact_type)
    elif op in LIST_OPS:
        value = [_typed(item.strip(), fact_type) for item in text.split(",") if item.strip()]
    else:
        value = _typed(text, fact_type)
    test: dict[str, Any] = {"fact": fact, "op": op}
    if op != "is_empty":
        test["value"] = value
    return {"not": test} if negated else test


def _typed(text: str, fact_type: FactType | None) -> Any:
    """The literal of a cell's text: whole numbers and booleans are typed, the rest is
    text that the schema checks (money, decimals and dates are written as text too)."""
    if fact_type is FactType.INTEGER and text.lstrip("-").isdigit() and len(text) < 20:
        return int(text)
    if fact_type is FactType.BOOLEAN and text.lower() in {"true", "false"}:
        return text.lower() == "true"
    return text


def _outcome_cells(then: Any) -> dict[str, str]:
    if isinstance(then, dict) and "type" in then:
        return {key: cell_text(then.get(key)) for key in ("type", "severity", "message")}
    return {"value": outcome_text(then)}


def outcome_text(value: Any) -> str:
    """An outcome (or the default) as its cell shows it: ``=fact`` for a copied fact; the
    inverse of :func:`outcome_value`."""
    if isinstance(value, dict) and isinstance(value.get("fact"), str):
        return COPY_FACT + value["fact"]
    return cell_text(value)


def _outcome(cells: dict[str, str]) -> Any:
    if "type" in cells:
        return {key: cells.get(key, "").strip() for key in ("type", "severity", "message")}
    return outcome_value(cells.get("value", ""))


def outcome_value(text: str) -> Any:
    """An outcome cell (or the default) as the document writes it."""
    text = text.strip()
    if text.startswith(COPY_FACT):
        return {"fact": text.removeprefix(COPY_FACT).strip()}
    return text


def _yaml(conditions: list[Any]) -> str:
    return yaml.safe_dump(conditions, allow_unicode=True, default_flow_style=None,
                          sort_keys=False, width=100).strip()

