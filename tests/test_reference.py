"""Reference data of a run: revenue-percentile cutoffs (where a comparison with the
rules' constants flips) and the org lookups."""

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from webapp.classification.facts import MonthWindow
from webapp.classification.reference import (
    OrgDirectory,
    RunReference,
    Unit,
    shifted_customers,
)

DAY = date(2026, 11, 23)
totals = st.lists(st.integers(0, 60), min_size=1, max_size=40)
boundaries = st.integers(0, 10_100).map(lambda hundredths: Decimal(hundredths) / 100)


def _reference(distribution: list[int]) -> RunReference:
    return RunReference(DAY, MonthWindow.for_date(DAY), OrgDirectory({}), sorted(distribution))


@given(totals, boundaries)
def test_a_total_reaches_a_boundary_exactly_from_its_cutoff(distribution: list[int],
                                                            boundary: Decimal) -> None:
    reference = _reference(distribution)
    cutoff = reference.cutoffs([boundary])
    assert cutoff is not None
    for total in range(-3, 65):
        percentile = reference.percentile(total)
        assert percentile is not None
        assert (percentile >= boundary) == (cutoff[str(boundary)] is not None
                                            and total >= cutoff[str(boundary)])


@given(totals, totals, st.lists(boundaries, min_size=1, max_size=4),
       st.lists(st.integers(-3, 65), max_size=30))
def test_exactly_the_customers_whose_comparisons_flip_are_shifted(
        before: list[int], after: list[int], constants: list[Decimal],
        customers: list[int]) -> None:
    old, new = _reference(before), _reference(after)
    ids = list(enumerate(customers))
    shifted = set(shifted_customers(ids, old.cutoffs(constants), new.cutoffs(constants)))
    for customer, total in ids:
        flips = any((old.percentile(total) >= constant) != (new.percentile(total) >= constant)
                    for constant in constants)
        assert (customer in shifted) == flips, (customer, total)


def test_every_customer_is_shifted_when_percentiles_appear() -> None:
    assert shifted_customers([(1, 5), (2, 9)], None, {"90": 7}) == [1, 2]


def test_lookups_never_find_a_retired_department_or_centre() -> None:
    units = [Unit("city", "city", None, "province"),
             Unit("c1", "centre", None, "city", retired=True), Unit("c2", "centre", None, "city"),
             Unit("d-a-retired", "department", "business", "c2", retired=True),
             Unit("d-b", "department", "business", "c2"),
             Unit("area", "area", "business", "d-b"),
             Unit("community", "community", "business", "area"),
             Unit("UA-1-business", "community", "business", "city")]
    org = OrgDirectory({unit.code: unit for unit in units})
    assert org.department("community", "business") == "d-b"
    # A city-level (unassigned) community takes the city's first centre in service.
    assert org.centre_of("UA-1-business") == "c2"
    assert org.department("UA-1-business", "business") == "d-b"
    assert org.department("community", "key_account") is None
