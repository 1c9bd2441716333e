"""Marshmallow fields for feed files.

Each field keeps its conversion in ``parse(text)``, a plain function of one non-empty,
stripped cell that raises ``ValueError`` with a message for the user. Marshmallow calls it
through ``_deserialize``; the import's fast path (``webapp.feeds.rows``) calls it directly.
Both routes therefore accept exactly the same values and produce the same result.
Each field also names the SQL type its value is staged with.
"""

import re
import unicodedata
from datetime import date
from enum import StrEnum
from typing import Any

from marshmallow import ValidationError, fields
from sqlalchemy import BigInteger, Boolean, Date, String
from sqlalchemy.types import TypeEngine

#: Characters never accepted in text cells: C0/C1 controls (they break CSV round trips,
#: logs and COPY), and invisible format characters that can disguise a value (zero-width
#: spaces, bidirectional overrides, line/paragraph separators, BOM).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")

#: Largest amount accepted, in cents (one billion yuan): far above any real bill,
#: far below the engine's int64 limit.
MAX_CENTS = 100_000_000_000
_MONEY = re.compile(r"(-?)([0-9]{1,12})(?:\.([0-9]{1,2}))?")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


class FeedField(fields.Field):
    """Base of feed fields: empty cells are missing, conversion lives in ``parse``."""

    sql_type: TypeEngine[Any]
    default_error_messages = {  # noqa: RUF012 - marshmallow's own convention
        "required": "is required",
        "invalid": "is not text",
    }

    def __init__(self, *, required: bool = False, aliases: tuple[str, ...] = (),
                 **kwargs: Any) -> None:
        if not required:
            kwargs.setdefault("load_default", None)
        super().__init__(required=required, **kwargs)
        #: Other header names the column is known by (the operator's Chinese exports).
        self.aliases = aliases

    def parse(self, text: str) -> Any:
        """Convert one non-empty, stripped cell; raise ``ValueError`` saying why not."""
        raise NotImplementedError

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return self.parse(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class Text(FeedField):
    """Free text: NFC-normalised, no control characters, bounded length."""

    def __init__(self, max_length: int, *, pattern: str | None = None,
                 pattern_hint: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_hint = pattern_hint
        self.sql_type = String(max_length)

    def parse(self, text: str) -> str:
        if not text.isascii():
            text = unicodedata.normalize("NFC", text)
        if len(text) > self.max_length:
            raise ValueError(f"is {len(text)} characters long; at most {self.max_length} allowed")
        if _CONTROL.search(text):
            raise ValueError("contains a control or invisible formatting character "
                             "(tab, newline, NUL, zero-width space, ...)")
        if self.pattern is not None and not self.pattern.fullmatch(text):
            raise ValueError(f"{_quote(text)} is not {self.pattern_hint}")
        return text


def Code(max_length: int = 32, **kwargs: Any) -> Text:  # noqa: N802 - reads as a field class
    """An identifier: letters, digits, ``-``, ``_`` and ``.``."""
    return Text(max_length, pattern=r"[A-Za-z0-9][A-Za-z0-9_.\-]*",
                pattern_hint="a code (letters, digits, '-', '_', '.')", **kwargs)


def ServiceNumber(**kwargs: Any) -> Text:  # noqa: N802 - reads as a field class
    """A service number: 5 to 20 digits."""
    return Text(20, pattern=r"[0-9]{5,20}", pattern_hint="a service number (5-20 digits)", **kwargs)


class Choice(FeedField):
    """One value of an enum, given by its code or one of its labels (e.g. Chinese)."""

    def __init__(self, enum_cls: type[StrEnum], labels: dict[str, str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accepted = {member.value: member.value for member in enum_cls}
        for label, value in (labels or {}).items():
            self.accepted[label] = enum_cls(value).value
        self.sql_type = String(max(len(member.value) for member in enum_cls))

    def parse(self, text: str) -> str:
        try:
            return self.accepted[text]
        except KeyError:
            choices = ", ".join(sorted(set(self.accepted.values())))
            raise ValueError(f"{_quote(text)} is not one of: {choices}") from None


class Flag(FeedField):
    """A yes/no cell: 1/0, Y/N, yes/no, true/false, 是/否."""

    TRUE = frozenset({"1", "y", "yes", "true", "t", "是"})
    FALSE = frozenset({"0", "n", "no", "false", "f", "否"})
    sql_type = Boolean()

    def parse(self, text: str) -> bool:
        folded = text.lower()
        if folded in self.TRUE:
            return True
        if folded in self.FALSE:
            return False
        raise ValueError(f"{_quote(text)} is not yes/no (use 1 or 0)")


class Count(FeedField):
    """A whole non-negative number (days, minutes, megabytes)."""

    sql_type = BigInteger()

    def __init__(self, maximum: int = 10**12, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.maximum = maximum

    def parse(self, text: str) -> int:
        if not (text.isascii() and text.isdigit()):
            if text.startswith("-") and text[1:].isdigit():
                raise ValueError(f"{text} is negative; must be 0 or more")
            raise ValueError(f"{_quote(text)} is not a whole number")
        value = int(text)
        if value > self.maximum:
            raise ValueError(f"{text} is larger than the maximum {self.maximum}")
        return value


class Money(FeedField):
    """An amount in yuan with at most 2 decimals, stored as integer cents."""

    sql_type = BigInteger()

    def __init__(self, *, allow_negative: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.allow_negative = allow_negative

    def parse(self, text: str) -> int:
        match = _MONEY.fullmatch(text)
        if match is None:
            raise ValueError(_money_problem(text))
        sign, whole, fraction = match.groups()
        if sign and not self.allow_negative:
            raise ValueError(f"{text} is negative; amounts must be 0 or more")
        cents = int(whole) * 100 + int((fraction or "0").ljust(2, "0"))
        if cents > MAX_CENTS:
            raise ValueError(f"{text} is larger than the maximum {MAX_CENTS // 100} yuan")
        return -cents if sign else cents


def _money_problem(text: str) -> str:
    if _DECIMAL.fullmatch(text):
        return f"{_quote(text)} has more than 2 decimals or is too large"
    return f"{_quote(text)} is not an amount (write e.g. 1234.50)"


class Day(FeedField):
    """A calendar date: ``YYYY-MM-DD`` or ``YYYYMMDD``."""

    sql_type = Date()

    def parse(self, text: str) -> date:
        return _parse_date(text, text)


class Month(FeedField):
    """A month: ``YYYY-MM`` or ``YYYYMM``, stored as its first day."""

    sql_type = Date()

    def parse(self, text: str) -> date:
        if len(text) == 6 and text.isdigit():
            return _parse_date(text + "01", text)
        if len(text) == 7 and text[4] == "-":
            return _parse_date(text + "-01", text)
        raise ValueError(f"{_quote(text)} is not a month (write YYYY-MM)")


def _parse_date(text: str, shown: str) -> date:
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if not (len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii()):
        raise ValueError(f"{_quote(shown)} is not a date (write YYYY-MM-DD)")
    try:
        value = date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{shown} is not a valid date ({exc})") from None
    if value.year < 1900:
        raise ValueError(f"{shown} is before 1900")
    return value


def _quote(text: str, limit: int = 40) -> str:
    """Quote a user's value for a message, shortened so a huge cell cannot flood output."""
    return repr(text if len(text) <= limit else text[:limit] + "…")
