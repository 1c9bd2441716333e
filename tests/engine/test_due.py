"""Due dates: no comparison on a moving fact changes its truth before the record is due."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.catalog import SUBSCRIBER_FACTS, Subject
from engine.due import DueDates, anniversary, boundaries
from engine.language import HitPolicy, Op, Outcome, Rule, Ruleset
from engine.language import Test as Comparison
from engine.months import add_months, months_between
from engine.values import RelativeDate
from tests.engine.interpreter import compares, operand

HORIZON = 400
ORDERED = [Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE, Op.BETWEEN, Op.IN, Op.NOT_IN]
DAYS = st.dates(date(2020, 1, 1), date(2030, 12, 31))


def _ruleset(*tests: Comparison, subject: Subject = Subject.SUBSCRIBER) -> Ruleset:
    rules = tuple(Rule(f"r{number}", "", test, Outcome("x"))
                  for number, test in enumerate(tests))
    return Ruleset("t", "", subject, "service_tier", HitPolicy.FIRST, rules,
                   default=Outcome("y"))


def _value(fact: str, record: dict, day: date) -> object:
    """The fact's value on ``day``, derived as the fact builder derives it."""
    if fact == "tenure_months":
        return max(months_between(record["install_date"], day), 0)
    if fact == "days_to_agreement_end":
        return (record["agreement_end_date"] - day).days
    return record[fact].toordinal()


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    fact = draw(st.sampled_from(["tenure_months", "days_to_agreement_end",
                                 "agreement_end_date"]))
    op = draw(st.sampled_from(ORDERED))
    numbers = st.integers(-40, 60) if fact != "tenure_months" else st.integers(0, 30)
    literal = numbers.map(RelativeDate) if fact == "agreement_end_date" else numbers
    if op is Op.BETWEEN:
        low, high = sorted(draw(st.lists(numbers, min_size=2, max_size=2)))
        wrap = RelativeDate if fact == "agreement_end_date" else int
        return Comparison(fact, op, (wrap(low), wrap(high)))
    if op in (Op.IN, Op.NOT_IN):
        return Comparison(fact, op, tuple(draw(st.lists(literal, min_size=1, max_size=4,
                                                  unique=True))))
    return Comparison(fact, op, draw(literal))


@settings(max_examples=300, deadline=None)
@given(comparisons(), DAYS, DAYS, DAYS)
def test_nothing_flips_before_the_due_date_and_a_plain_comparison_flips_on_it(
        test: Comparison, as_of: date, install: date, agreement_end: date) -> None:
    record = {"install_date": install, "agreement_end_date": agreement_end}
    due = DueDates.of([_ruleset(test)], Subject.SUBSCRIBER).next_due(record, as_of)
    fact = SUBSCRIBER_FACTS[test.fact]

    def truth(day: date) -> bool:
        return compares(test, fact, _value(test.fact, record, day), day)

    start = truth(as_of)
    last = as_of + timedelta(days=HORIZON) if due is None else min(
        due - timedelta(days=1), as_of + timedelta(days=HORIZON))
    day = as_of + timedelta(days=1)
    while day <= last:
        assert truth(day) == start, f"{test} flipped on {day}, due {due}"
        day += timedelta(days=1)
    if due is not None:
        assert due > as_of
        if test.op not in (Op.IN, Op.NOT_IN):  # adjacent members may not flip
            assert truth(due) != truth(due - timedelta(days=1)), f"{test}: nothing on {due}"


def test_the_month_turning_makes_every_record_due_when_a_rule_reads_a_monthly_fact() -> None:
    monthly = _ruleset(Comparison("revenue_change_pct", Op.LT, operand(
        SUBSCRIBER_FACTS["revenue_change_pct"], "-30", date.today())))
    dues = DueDates.of([monthly], Subject.SUBSCRIBER)
    assert dues.next_due({}, date(2026, 11, 23)) == date(2026, 12, 1)
    fixed = _ruleset(Comparison("agreement_end_date", Op.LT, date(2027, 1, 1)),
                     Comparison("status", Op.EQ, "active"))
    assert DueDates.of([fixed], Subject.SUBSCRIBER).next_due(
        {"agreement_end_date": date(2026, 12, 5)}, date(2026, 11, 23)) is None


def test_the_earliest_watch_decides_and_an_empty_anchor_is_never_due() -> None:
    rulesets = [_ruleset(Comparison("tenure_months", Op.LT, 24),
                         Comparison("agreement_end_date", Op.BETWEEN,
                              (RelativeDate(0), RelativeDate(30))))]
    dues = DueDates.of(rulesets, Subject.SUBSCRIBER)
    as_of = date(2026, 11, 23)
    record = {"install_date": date(2024, 12, 10), "agreement_end_date": date(2027, 1, 1)}
    assert dues.next_due(record, as_of) == date(2026, 12, 2)  # 30 days before the end
    record["agreement_end_date"] = None
    assert dues.next_due(record, as_of) == date(2026, 12, 10)  # 24 months of tenure
    assert dues.next_due({"install_date": None, "agreement_end_date": None}, as_of) is None


def test_customer_rulesets_count_tenure_from_the_oldest_line() -> None:
    lifecycle = _ruleset(Comparison("tenure_months", Op.GE, 6), subject=Subject.CUSTOMER)
    dues = DueDates.of([lifecycle], Subject.CUSTOMER)
    assert dues.next_due({"install_date": date(2026, 8, 31)}, date(2026, 11, 23)) \
        == date(2027, 3, 1)  # no 31 February: the count moves on the 1st of March
    assert DueDates.of([lifecycle], Subject.SUBSCRIBER).watches == ()


def test_boundaries_and_anniversaries() -> None:
    assert boundaries(Op.LT, [5]) == boundaries(Op.GE, [5]) == {5}
    assert boundaries(Op.LE, [5]) == boundaries(Op.GT, [5]) == {6}
    assert boundaries(Op.BETWEEN, [1, 3]) == {1, 4}
    assert boundaries(Op.IN, [1, 7]) == {1, 2, 7, 8}
    assert boundaries(Op.IS_EMPTY, []) == set()
    assert anniversary(date(2024, 1, 31), 1) == date(2024, 3, 1)
    assert anniversary(date(2024, 1, 15), 13) == date(2025, 2, 15)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 1)
