"""Feed fields: what each accepts, what it says about what it refuses."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from webapp.feeds import FEEDS
from webapp.feeds.fields import MAX_CENTS, Code, Count, Day, Flag, Money, Month, Text
from webapp.feeds.rows import RowLoader
from webapp.feeds.schemas import STATUS_LABELS, SubscriberRow


@pytest.mark.parametrize(("text", "cents"), [
    ("0", 0), ("12", 1200), ("12.5", 1250), ("12.05", 1205), ("0.01", 1),
    ("999999999.99", 99_999_999_999),
])
def test_money_is_exact_integer_cents(text: str, cents: int) -> None:
    assert Money().parse(text) == cents


@pytest.mark.parametrize(("text", "reason"), [
    ("-1.00", "negative"),
    ("12.345", "more than 2 decimals"),
    ("1e3", "not an amount"),
    ("abc", "not an amount"),
    ("NaN", "not an amount"),
    ("inf", "not an amount"),
    ("1,000.00", "not an amount"),
    ("1000000001", "larger than the maximum"),
])
def test_money_refuses_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        Money().parse(text)


def test_money_may_allow_negative_balances() -> None:
    assert Money(allow_negative=True).parse("-3.20") == -320
    assert MAX_CENTS < 2**63


@pytest.mark.parametrize(("text", "value"), [
    ("2024-02-29", date(2024, 2, 29)), ("20240229", date(2024, 2, 29)),
])
def test_day_accepts_iso_and_compact(text: str, value: date) -> None:
    assert Day().parse(text) == value


@pytest.mark.parametrize(("text", "reason"), [
    ("2025-02-30", "not a valid date"),
    ("2025-13-01", "not a valid date"),
    ("2025/01/01", "not a date"),
    ("01-02-2025", "not a date"),
    ("1899-12-31", "before 1900"),
    ("２０２５-01-01", "not a date"),
])
def test_day_refuses_impossible_dates(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        Day().parse(text)


def test_month_is_its_first_day() -> None:
    assert Month().parse("2026-03") == date(2026, 3, 1)
    assert Month().parse("202603") == date(2026, 3, 1)
    with pytest.raises(ValueError, match="not a month"):
        Month().parse("2026-3")
    with pytest.raises(ValueError, match="not a valid date"):
        Month().parse("2026-13")


def test_count_refuses_negative_fractional_and_huge() -> None:
    assert Count().parse("42") == 42
    with pytest.raises(ValueError, match="negative"):
        Count().parse("-1")
    with pytest.raises(ValueError, match="whole number"):
        Count().parse("1.5")
    with pytest.raises(ValueError, match="maximum"):
        Count(maximum=10).parse("11")


def test_text_normalises_unicode_and_refuses_control_characters() -> None:
    decomposed = "e\u0301"
    assert Text(10).parse(decomposed) == "\u00e9"
    for hostile in ("a\x00b", "a\nb", "a\tb", "a\x1bb", "a\x85b", "a\u202eb", "a\u200bb"):
        with pytest.raises(ValueError, match="control or invisible"):
            Text(10).parse(hostile)
    with pytest.raises(ValueError, match="at most 10"):
        Text(10).parse("x" * 11)


def test_code_messages_quote_and_shorten_the_value() -> None:
    with pytest.raises(ValueError) as caught:
        Code(100).parse("bad code " + "x" * 80)
    assert "…" in str(caught.value)
    assert len(str(caught.value)) < 150


def test_flag_and_choice_accept_chinese_labels() -> None:
    assert Flag().parse("是") is True
    assert Flag().parse("N") is False
    loader = RowLoader(SubscriberRow)
    row = loader.load({
        "service_number": "77100000001", "name": "张三", "status": "停机保号",
        "contract_number": "HT1", "billing_area_code": "NN01",
        "install_date": "2020-01-01", "prepaid": "0",
    })
    assert row["status"] == STATUS_LABELS["停机保号"] == "suspended_keep_number"


def test_row_errors_name_every_bad_column() -> None:
    loader = RowLoader(SubscriberRow)
    with pytest.raises(ValidationError) as caught:
        loader.load({"service_number": "12", "name": "x", "status": "asleep",
                     "contract_number": "HT1", "install_date": "2025-02-30", "prepaid": "0"})
    messages = caught.value.messages
    assert set(messages) == {"service_number", "status", "billing_area_code", "install_date"}
    assert messages["billing_area_code"] == ["is required"]


def test_cross_field_check_on_agreement_end() -> None:
    loader = RowLoader(SubscriberRow)
    with pytest.raises(ValidationError) as caught:
        loader.load({"service_number": "77100000001", "name": "x", "status": "active",
                     "contract_number": "HT1", "billing_area_code": "NN01",
                     "install_date": "2025-02-01", "agreement_end_date": "2025-01-01",
                     "prepaid": "0"})
    assert caught.value.messages == {"agreement_end_date": ["is before install_date"]}


# The fast path and marshmallow must agree on every input: same value or same refusal.
_cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["0", "1", "12.50", "-3", "2024-02-29", "2025-02-30", "202402", "2024-02",
                     "77100000001", "HT001", "active", "停机", "是", "gold", "1e5", " "]),
)


@pytest.mark.parametrize("feed", sorted(FEEDS))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fast_path_agrees_with_marshmallow(feed: str, data: st.DataObject) -> None:
    schema_cls = FEEDS[feed].schema
    raw = {column: data.draw(_cells, label=column) for column in schema_cls.columns()
           if data.draw(st.booleans(), label=f"{column} present")}
    raw = {column: text.strip() for column, text in raw.items() if text.strip()}
    loader = RowLoader(schema_cls)
    try:
        expected = schema_cls().load(raw)
    except ValidationError as exc:
        with pytest.raises(ValidationError) as caught:
            loader.load(raw)
        assert caught.value.messages == exc.messages
    else:
        assert loader._fast(raw) == expected
