"""Fact values: the literal syntax of rules and the encoding sent to durable-rules.

Three forms of a value:

* *literal* — what an analyst writes in a rule or a test case (money in yuan, dates as
  ``2025-01-31`` or ``today+30d``);
* *native* — what fact records carry (money in integer cents, ``date``, ``Decimal``);
* *encoded* — what the engine compares: integers and NFC strings only. Money is cents,
  decimals are hundredths (rounded half-even), dates are day numbers, booleans 0/1.
  The engine never sees a float, a ``Decimal`` or a date, so thresholds compare exactly.
"""

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from engine.catalog import DECIMAL_PLACES, Fact, FactType

#: Longest string a record may send to the engine (its hard limit is 16 MB).
MAX_STRING_LENGTH = 10_000
INT64 = 2**63 - 1
_RELATIVE_DATE = re.compile(r"^today(?:\s*([+-])\s*(\d{1,5})\s*d?)?$")
_SCALE = Decimal(1).scaleb(-DECIMAL_PLACES)


class InvalidValueError(ValueError):
    """A value that does not fit its fact; the message is meant for analysts."""


@dataclass(frozen=True)
class RelativeDate:
    """A date relative to the evaluation date (``today+30d``)."""

    days: int

    def resolve(self, as_of: date) -> date:
        return date.fromordinal(as_of.toordinal() + self.days)

    def __str__(self) -> str:
        return "today" if not self.days else f"today{self.days:+d}d"


def describe(value: Any) -> str:
    """A value as an error message quotes it."""
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'"{shown}"'
    return repr(value) if not isinstance(value, (int, float, Decimal)) else str(value)


def _decimal(raw: Any, places: int, what: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise InvalidValueError(f"expected {what}, got {describe(raw)}")
    try:
        number = Decimal(repr(raw) if isinstance(raw, float) else str(raw).strip())
    except InvalidOperation:
        raise InvalidValueError(f"expected {what}, got {describe(raw)}") from None
    if not number.is_finite():
        raise InvalidValueError(f"expected a finite number, got {describe(raw)}")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        raise InvalidValueError(f"{describe(raw)} has more than {places} decimal places")
    if abs(number) >= Decimal(10) ** 15:
        raise InvalidValueError(f"{describe(raw)} is too large")
    return number


def parse_literal(fact: Fact, raw: Any) -> Any:
    """A rule's literal as a native value; raises :class:`InvalidValueError`."""
    kind = fact.type
    if kind is FactType.INTEGER:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise InvalidValueError(f"expected a whole number, got {describe(raw)}")
        if abs(raw) > INT64:
            raise InvalidValueError(f"{raw} is too large")
        return raw
    if kind is FactType.MONEY:
        return int(_decimal(raw, 2, "an amount in yuan") * 100)
    if kind is FactType.DECIMAL:
        return _decimal(raw, DECIMAL_PLACES, "a number")
    if kind is FactType.DATE:
        return _parse_date(raw)
    if kind is FactType.BOOLEAN:
        if not isinstance(raw, bool):
            raise InvalidValueError(f"expected true or false, got {describe(raw)}")
        return raw
    if not isinstance(raw, str):
        raise InvalidValueError(f"expected text, got {describe(raw)}")
    text = unicodedata.normalize("NFC", raw)
    if len(text) > MAX_STRING_LENGTH:
        raise InvalidValueError(f"text longer than {MAX_STRING_LENGTH} characters")
    if kind is FactType.ENUM and text not in fact.values:
        raise InvalidValueError(f"{describe(raw)} is not one of {', '.join(fact.values)}")
    return text


def _parse_date(raw: Any) -> date | RelativeDate:
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        match = _RELATIVE_DATE.match(raw.strip())
        if match:
            sign, days = match.groups()
            return RelativeDate(int(days or 0) * (-1 if sign == "-" else 1))
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise InvalidValueError(f'expected a date (YYYY-MM-DD, "today", "today+30d"), got '
                       f"{describe(raw)}")


def native_problem(fact: Fact, value: Any) -> str | None:
    """Why a record's native value does not fit its fact (None: it fits)."""
    kind = fact.type
    if value is None:
        return None
    if kind in (FactType.INTEGER, FactType.MONEY):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"expected a whole number, got {describe(value)}"
        return f"{value} is out of range" if abs(value) > INT64 else None
    if kind is FactType.DECIMAL:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            return f"expected a number, got {describe(value)}"
        if (isinstance(value, float) and not math.isfinite(value)) or (
                isinstance(value, Decimal) and not value.is_finite()):
            return f"expected a finite number, got {describe(value)}"
        return f"{value} is out of range" if abs(value) >= 10**15 else None
    if kind is FactType.DATE:
        ok = isinstance(value, date)
        return None if ok else f"expected a date, got {describe(value)}"
    if kind is FactType.BOOLEAN:
        return None if isinstance(value, bool) else f"expected true/false, got {describe(value)}"
    if not isinstance(value, str):
        return f"expected text, got {describe(value)}"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "text is not valid Unicode (lone surrogate)"
    if len(value) > MAX_STRING_LENGTH:
        return f"text longer than {MAX_STRING_LENGTH} characters"
    if kind is FactType.ENUM and value not in fact.values:
        return f"{describe(value)} is not one of {', '.join(fact.values)}"
    return None


def normalise(fact: Fact, value: Any) -> Any:
    """A valid native value in the form rules compare: NFC text, rounded decimals.

    Empty text is the same as no value.
    """
    if value is None:
        return None
    if fact.type is FactType.DECIMAL:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return number.quantize(_SCALE, rounding=ROUND_HALF_EVEN)
    if fact.type in (FactType.STRING, FactType.ENUM):
        return unicodedata.normalize("NFC", value) or None
    if fact.type is FactType.DATE and isinstance(value, datetime):
        return value.date()
    return value


def encode(fact: Fact, value: Any) -> int | str | None:
    """A normalised native (or literal) value as the engine compares it."""
    if value is None:
        return None
    kind = fact.type
    if kind is FactType.DECIMAL:
        return int(value.scaleb(DECIMAL_PLACES))
    if kind is FactType.DATE:
        return value.days if isinstance(value, RelativeDate) else value.toordinal()
    if kind is FactType.BOOLEAN:
        return int(value)
    return value


def display(fact: Fact, value: Any) -> str:
    """A native value as analysts read it (money in yuan)."""
    if value is None:
        return ""
    if fact.type is FactType.MONEY:
        sign = "-" if value < 0 else ""
        return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"
    if fact.type is FactType.BOOLEAN:
        return "true" if value else "false"
    return str(value)


def _careful(fact: Fact, values: list[Any]) -> list[int]:
    """Positions of the values that may not fit or may need normalising; the others
    certainly fit and are normalised already (the fast path of a batch)."""
    kind, numbered = fact.type, enumerate(values)
    if kind in (FactType.INTEGER, FactType.MONEY):
        return [n for n, v in numbered
                if v is not None and (type(v) is not int or not -INT64 <= v <= INT64)]
    if kind is FactType.DATE:
        return [n for n, v in numbered if v is not None and type(v) is not date]
    if kind is FactType.BOOLEAN:
        return [n for n, v in numbered if v is not None and type(v) is not bool]
    if kind is FactType.STRING:
        return [n for n, v in numbered if v is not None and (
            type(v) is not str or not v.isascii() or not 0 < len(v) <= MAX_STRING_LENGTH)]
    if kind is FactType.ENUM:
        allowed = frozenset(value for value in fact.values if value.isascii())
        return [n for n, v in numbered
                if v is not None and (type(v) is not str or v not in allowed)]
    return [n for n, v in numbered if v is not None]


def normalise_column(fact: Fact, values: list[Any]) -> tuple[list[Any], dict[int, str]]:
    """:func:`normalise` over one fact's values in a batch, and :func:`native_problem`'s
    answer by position for those that do not fit (``None`` in the list)."""
    careful = _careful(fact, values)
    if not careful:
        return values, {}
    normalised, problems = list(values), {}
    for number in careful:
        problem = native_problem(fact, values[number])
        if problem:
            problems[number] = problem
            normalised[number] = None
        else:
            normalised[number] = normalise(fact, values[number])
    return normalised, problems

def encode_column(fact: Fact, values: list[Any]) -> list[int | str | None]:
    """:func:`encode` over a normalised column."""
    if fact.type in (FactType.INTEGER, FactType.MONEY, FactType.STRING, FactType.ENUM):
        return values
    return [encode(fact, value) for value in values]


def display_function(fact: Fact) -> Callable[[Any], str]:
    """:func:`display` for one fact, chosen once."""
    if fact.type in (FactType.MONEY, FactType.BOOLEAN):
        return lambda value: display(fact, value)
    return lambda value: "" if value is None else str(value)
