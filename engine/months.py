"""Calendar months: the unit of revenue history and of tenure."""

from datetime import date


def add_months(day: date, months: int) -> date:
    """First day of the month ``months`` after the month of ``day``."""
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (negative if ``end`` is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months
