"""When time alone can change an outcome: the date a record is next due for evaluation.

Some facts move with the evaluation date even when no data changes (their catalog
``clock``): a countdown (days to the agreement end) loses a day every day, an anniversary
count (tenure in months) gains a month on each monthly anniversary of its anchor date,
the monthly facts are recomputed when the month turns, and a date fact compared with a
relative date (``today+30d``) is in effect a countdown to that date.

A comparison on a moving integer can only change its truth when the value crosses one of
the comparison's *boundaries*: the values ``p`` where ``truth(p)`` may differ from
``truth(p - 1)``. The record is due on the first date any of its rulesets' comparisons
may change (re-evaluating then may still change nothing: the date is never late, only
sometimes early). A pure function of the rulesets and the record, like evaluation.
"""

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from engine.catalog import DEFAULT_CATALOG, Catalog, Clock, FactType, Subject
from engine.language import Op, Ruleset, Test, walk
from engine.months import add_months, months_between
from engine.values import RelativeDate


def boundaries(op: Op, values: Iterable[int]) -> set[int]:
    """The values where a comparison ``x op values`` on an integer ``x`` may flip."""
    numbers = list(values)
    if op in (Op.LT, Op.GE):
        return {numbers[0]}
    if op in (Op.LE, Op.GT):
        return {numbers[0] + 1}
    if op is Op.BETWEEN:
        low, high = numbers
        return {low, high + 1}
    if op in (Op.EQ, Op.NE, Op.IN, Op.NOT_IN):
        return {point for number in numbers for point in (number, number + 1)}
    return set()  # is_empty: being empty does not depend on the date


def anniversary(start: date, months: int) -> date:
    """The first date on which ``months_between(start, date) == months``."""
    target = add_months(start, months)
    try:
        return target.replace(day=start.day)
    except ValueError:  # no such day that month: the count moves on the 1st of the next
        return add_months(start, months + 1)


@dataclass(frozen=True)
class Watch:
    """A moving integer (derived from the ``anchor`` date fact) and its boundaries."""

    anchor: str
    clock: Clock
    points: tuple[int, ...]

    def next_flip(self, anchor: date, as_of: date) -> date | None:
        try:
            if self.clock is Clock.COUNTDOWN:
                value = (anchor - as_of).days
                index = bisect_right(self.points, value) - 1
                return as_of + timedelta(days=value - self.points[index] + 1) \
                    if index >= 0 else None
            value = max(months_between(anchor, as_of), 0)
            index = bisect_right(self.points, value)
            return anniversary(anchor, self.points[index]) \
                if index < len(self.points) else None
        except (OverflowError, ValueError):  # beyond the calendar: never
            return None


@dataclass(frozen=True)
class DueDates:
    """The time-sensitive comparisons of the rulesets of one subject."""

    watches: tuple[Watch, ...]
    #: Some rule reads a fact recomputed when the month turns.
    monthly: bool

    @classmethod
    def of(cls, rulesets: Sequence[Ruleset], subject: Subject,
           catalog: Catalog = DEFAULT_CATALOG) -> "DueDates":
        facts = catalog.facts[subject]
        points: dict[tuple[str, Clock], set[int]] = {}
        monthly = False
        for test in (test for ruleset in rulesets if ruleset.subject is subject
                     for rule in ruleset.rules for test in walk(rule.when)):
            fact = facts.get(test.fact)
            if fact is None:
                continue  # an output of another ruleset: its own comparisons are watched
            monthly = monthly or fact.clock is Clock.MONTH
            watched = _watched(test, fact.type, fact.clock, fact.anchor)
            if watched:
                anchor, clock, values = watched
                points.setdefault((anchor, clock), set()).update(boundaries(test.op, values))
        watches = tuple(Watch(anchor, clock, tuple(sorted(found)))
                        for (anchor, clock), found in sorted(points.items()) if found)
        return cls(watches, monthly)

    def next_due(self, record: Mapping[str, Any], as_of: date) -> date | None:
        """The first date after ``as_of`` on which an outcome for ``record`` may change."""
        due = add_months(as_of, 1) if self.monthly else None
        for watch in self.watches:
            anchor = record.get(watch.anchor)
            if anchor is None:
                continue
            flip = watch.next_flip(anchor, as_of)
            if flip is not None and (due is None or flip < due):
                due = flip
        return due


def _watched(test: Test, kind: FactType, clock: Clock | None, anchor: str
             ) -> tuple[str, Clock, list[int]] | None:
    """(anchor, clock, literal values) of a comparison that moves with the date."""
    values = test.value if isinstance(test.value, (tuple, frozenset, list)) else (test.value,)
    if clock in (Clock.COUNTDOWN, Clock.ANNIVERSARY):
        return anchor, clock, [value for value in values if isinstance(value, int)]
    if kind is FactType.DATE:
        relative = [value.days for value in values if isinstance(value, RelativeDate)]
        if relative and (test.op is not Op.BETWEEN or len(relative) == 2):
            return test.fact, Clock.COUNTDOWN, relative
    return None
