"""The decision-table form: reading it into a document, and what each cell offers.

The form posts one ``row`` field per rule in priority order (its key), one ``column``
field per fact, and per row ``rule_id-K``, ``title-K``, ``op-K-FACT``, ``value-K-FACT``,
``more-K`` and the outcome (``then-K``, or ``type-K``/``severity-K``/``message-K`` for
alerts). Keys are opaque: rows can be reordered, added and removed in the browser.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from engine.catalog import DEFAULT_CATALOG, Fact, FactType, Subject
from engine.language import OPERATORS
from engine.schema import Problem
from webapp.rulesets.table import (
    NEGATED,
    Cell,
    CellPaths,
    Row,
    Table,
    document_of,
    outcome_value,
)

ALERT_FIELDS = ("type", "severity", "message")
MAX_ROWS = 1000
MAX_COLUMNS = 80
MAX_FIELD = 10_000
_KEY = re.compile(r"^[A-Za-z0-9_]{1,20}$")
#: Operators in the order the cell's drop-down lists them.
OP_ORDER = ("eq", "ne", "lt", "le", "gt", "ge", "between", "in", "not_in", "starts_with",
            "matches", "is_empty")
OP_LABELS = {"eq": "=", "ne": "≠", "lt": "<", "le": "≤", "gt": ">", "ge": "≥",
             "between": "between", "in": "in", "not_in": "not in",
             "starts_with": "starts with", "matches": "matches", "is_empty": "is empty"}
#: How a value is typed for each fact type: a hint shown in the empty input.
HINTS = {FactType.INTEGER: "12", FactType.MONEY: "300.00", FactType.DECIMAL: "90.00",
         FactType.DATE: "2026-01-31 / today+30d", FactType.STRING: "text",
         FactType.ENUM: "", FactType.BOOLEAN: ""}


class FormError(ValueError):
    """The posted form is not a table this editor produced (tampered or truncated)."""


def visible_facts(document: Mapping[str, Any], outputs: Mapping[str, str]) -> dict[str, Fact]:
    """Facts the ruleset may read: its subject's and its dependencies' outputs."""
    try:
        subject = Subject(document.get("subject"))
    except ValueError:
        return {}
    depends = document.get("depends_on") or []
    return DEFAULT_CATALOG.visible_facts(
        subject, [outputs[name] for name in depends if isinstance(name, str) and name in outputs])


def operators(fact: Fact | None) -> list[tuple[str, str]]:
    """(value, label) of the operators a cell on ``fact`` offers, negations included."""
    allowed = OPERATORS[fact.type] if fact else frozenset(OP_ORDER)
    plain = [(op, OP_LABELS[op]) for op in OP_ORDER if op in allowed]
    negated = [(NEGATED + op, f"not {label}") for op, label in plain
               if op not in {"ne", "not_in", "eq"}]
    return plain + negated


def hint(fact: Fact | None) -> str:
    return HINTS[fact.type] if fact else ""


def read_table(form: MultiDict, alerts: bool) -> tuple[Table, dict[str, Any]]:
    """The table and the ruleset's own fields (title, description, default) of a post."""
    keys = form.getlist("row")
    columns = list(dict.fromkeys(form.getlist("column")))
    if len(keys) > MAX_ROWS or len(columns) > MAX_COLUMNS:
        raise FormError(f"at most {MAX_ROWS} rules and {MAX_COLUMNS} fact columns")
    if len(set(keys)) != len(keys) or not all(_KEY.match(key) for key in keys):
        raise FormError("the rows of the form are not valid: reload the editor")
    rows = []
    for key in keys:
        cells = {}
        for fact in columns:
            op = field_text(form, f"op-{key}-{fact}")
            if op:
                cells[fact] = Cell(op, field_text(form, f"value-{key}-{fact}"))
        outcome = {name: field_text(form, f"{name}-{key}") for name in ALERT_FIELDS} if alerts \
            else {"value": field_text(form, f"then-{key}")}
        rows.append(Row(rule_id=field_text(form, f"rule_id-{key}"),
                        title=field_text(form, f"title-{key}"), cells=cells,
                        more=field_text(form, f"more-{key}"), outcome=outcome))
    fields = {"title": field_text(form, "title"), "description": field_text(form, "description")}
    if not alerts:
        fields["default"] = field_text(form, "default")
    return Table(columns, rows), fields


def field_text(form: MultiDict, name: str) -> str:
    value = form.get(name, "")
    if len(value) > MAX_FIELD:
        raise FormError(f"{name}: longer than {MAX_FIELD:,} characters")
    return value.replace("\r\n", "\n")


def apply(base: dict[str, Any], table: Table, fields: dict[str, str],
          facts: Mapping[str, Fact]
          ) -> tuple[dict[str, Any], CellPaths, list[tuple[int, str, str]]]:
    """``base`` with the posted table and fields; the cells that could not be read."""
    document, paths, unreadable = document_of(base, table, facts)
    document["title"] = fields["title"].strip()
    description = fields["description"].strip()
    if description:
        document["description"] = description
    else:
        document.pop("description", None)
    if "default" in fields:
        if fields["default"].strip():
            document["default"] = outcome_value(fields["default"])
        else:
            document.pop("default", None)
    return document, paths, unreadable


@dataclass
class Placed:
    """Problems by where they are shown: a cell (row index, column), or the page."""

    cells: dict[tuple[int, str], list[str]]
    page: list[str]


def place(problems: list[Problem], paths: CellPaths,
          unreadable: tuple[tuple[int, str, str], ...] = ()) -> Placed:
    placed = Placed({}, [])
    for row, where, message in unreadable:
        placed.cells.setdefault((row, where), []).append(message)
    for problem in problems:
        spot = paths.locate(problem.path)
        if spot is None:
            placed.page.append(str(problem))
        else:
            placed.cells.setdefault(spot, []).append(problem.message)
    return placed
