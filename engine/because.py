"""Plain-language reasons: a rule's condition with the values the rule read.

Works on a condition as a ruleset document writes it (``{fact, op, value}``, ``all``,
``any``, ``not``), so the reason of a decision made by an old ruleset version is told
from that version's stored document: e.g. ``revenue_avg_3m 312.50 ≥ 300 and
tenure_months 30 ≥ 24``.
"""

from collections.abc import Mapping
from typing import Any

from engine.language import OP_ALIASES, Op

SYMBOLS = {Op.EQ: "=", Op.NE: "≠", Op.LT: "<", Op.LE: "≤", Op.GT: ">", Op.GE: "≥"}
WORDS = {Op.IN: "in", Op.NOT_IN: "not in", Op.STARTS_WITH: "starts with",
         Op.MATCHES: "matches", Op.BETWEEN: "between"}
#: How a fact the rule read but that had no value is shown.
EMPTY = "(empty)"


def because(condition: Any, facts: Mapping[str, str]) -> str:
    """``condition`` in words, each fact followed by the value the rule read."""
    if not isinstance(condition, Mapping):
        return ""
    if "all" in condition or "any" in condition:
        key = "all" if "all" in condition else "any"
        items = condition[key] if isinstance(condition[key], list) else []
        parts = [_grouped(item, facts) for item in items]
        return (" and " if key == "all" else " or ").join(part for part in parts if part)
    if "not" in condition:
        inner = condition["not"]
        if isinstance(inner, Mapping) and str(inner.get("op", "")).strip() == Op.IS_EMPTY:
            name = str(inner.get("fact", "?"))
            return f"{name} {facts.get(name) or EMPTY} is not empty"
        return f"not ({because(inner, facts)})"
    return _test(condition, facts)


def _grouped(condition: Any, facts: Mapping[str, str]) -> str:
    text = because(condition, facts)
    nested = isinstance(condition, Mapping) and ("all" in condition or "any" in condition)
    return f"({text})" if nested else text


def _test(test: Mapping[str, Any], facts: Mapping[str, str]) -> str:
    name = str(test.get("fact", "?"))
    raw_op = str(test.get("op", "")).strip()
    op = OP_ALIASES.get(raw_op) or next((item for item in Op if item.value == raw_op), None)
    seen = facts.get(name) or EMPTY
    value = test.get("value")
    if op is Op.IS_EMPTY:
        return f"{name} is empty" if seen == EMPTY else f"{name} {seen} is empty"
    if op is Op.BETWEEN and isinstance(value, list) and len(value) == 2:
        return f"{name} {seen} between {_literal(value[0])} and {_literal(value[1])}"
    if op in (Op.IN, Op.NOT_IN) and isinstance(value, list):
        return f"{name} {seen} {WORDS[op]} ({', '.join(_literal(item) for item in value)})"
    word = SYMBOLS.get(op) or WORDS.get(op) or raw_op  # type: ignore[arg-type]
    return f"{name} {seen} {word} {_literal(value)}"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and (not value or value != value.strip() or " " in value):
        return f'"{value}"'
    return str(value)
