"""Feed import on a real database: happy paths, change detection, idempotence."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.feeds.helpers import (
    BILLING_AREAS,
    JUNCTION_BOXES,
    NUMBER_SEGMENTS,
    ORG_UNITS,
    REVENUE_HEADER_VALUES,
    SUBSCRIBERS,
    load,
    load_reference,
    revenue_row,
)
from webapp.models import (
    BillingArea,
    Customer,
    ImportRun,
    JunctionBox,
    NumberSegment,
    OrgUnit,
    PendingChange,
    Subscriber,
    SubscriberMonth,
)


def _all(engine: Engine, query):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(query).all()


def _subscribers(engine: Engine) -> dict[str, object]:
    return {row.service_number: row for row in _all(engine, select(Subscriber.__table__))}


def _queued(engine: Engine) -> set[str]:
    """Service numbers and contract numbers waiting for re-evaluation."""
    queue = PendingChange.__table__
    subscribers = select(Subscriber.service_number).join(
        queue, (queue.c.subject == "subscriber") & (queue.c.subject_id == Subscriber.id))
    customers = select(Customer.contract_number).join(
        queue, (queue.c.subject == "customer") & (queue.c.subject_id == Customer.id))
    return {row[0] for row in _all(engine, subscribers.union_all(customers))}


def _consume_queue(engine: Engine) -> None:
    """What the scheduler does once it has evaluated everything queued."""
    with engine.begin() as conn:
        conn.execute(PendingChange.__table__.delete())


def test_reference_feeds_build_the_tree_and_unassigned_communities(
    engine: Engine, tmp_path: Path
) -> None:
    load_reference(engine, tmp_path)
    units = {row.code: row for row in _all(engine, select(OrgUnit.__table__))}
    assert units["NN-C1-PUB-A1-S1"].channel == "public"
    assert units["NN-C1-PUB-A1-S1"].parent_id == units["NN-C1-PUB-A1"].id
    assert units["PRV"].parent_id is None
    unassigned = [unit for unit in units.values() if unit.unassigned_billing_area_id]
    assert sorted(unit.channel for unit in unassigned) == [
        "bundled", "business", "key_account", "public", "transient"]
    assert all(unit.kind == "community" and unit.parent_id == units["NN"].id
               for unit in unassigned)
    area = _all(engine, select(BillingArea.__table__))[0]
    assert area.city_id == units["NN"].id
    box = {row.code: row for row in _all(engine, select(JunctionBox.__table__))}["JB-2"]
    assert box.community_id == units["NN-C1-BIZ-A1-S1"].id
    segment = _all(engine, select(NumberSegment.__table__))[0]
    assert (segment.range_start, segment.range_end) == ("77105000000", "77105009999")


def test_org_units_may_come_in_any_order_within_a_file(engine: Engine, tmp_path: Path) -> None:
    from tests.feeds.helpers import ORG_UNITS

    result = load(engine, tmp_path, "org-units", list(reversed(ORG_UNITS)))
    assert (result.status, result.inserted) == ("ok", len(ORG_UNITS))
    units = {row.code: row for row in _all(engine, select(OrgUnit.__table__))}
    assert units["NN-C1-BIZ-A1-S1"].parent_id == units["NN-C1-BIZ-A1"].id


def test_subscribers_join_customers_by_contract_number(engine: Engine, tmp_path: Path) -> None:
    load_reference(engine, tmp_path)
    result = load(engine, tmp_path, "subscribers", SUBSCRIBERS)
    assert (result.status, result.inserted, result.rejected) == ("ok", 3, 0)
    assert "new customers: 2" in result.notes
    customers = {row.contract_number: row for row in _all(engine, select(Customer.__table__))}
    assert set(customers) == {"HT001", "HT002"}
    assert customers["HT001"].code == "CHT001"
    assert customers["HT001"].name == "张三"
    subscribers = _subscribers(engine)
    assert subscribers["77100000001"].customer_id == subscribers["77100000002"].customer_id
    assert subscribers["77100000002"].balance_cents == 850
    assert subscribers["77100000002"].prepaid is True
    assert subscribers["77100000001"].agreement_end_date == date(2027, 1, 31)
    assert subscribers["77100000002"].status == "suspended_keep_number"
    assert _queued(engine) == {"77100000001", "77100000002", "77105000001"}

    # A later file with a known contract joins the existing customer.
    more = [["77100000003", "张三", "", "active", "HT001", "NN01", "2024-01-01", "", "0", "", ""]]
    assert load(engine, tmp_path, "subscribers", more).inserted == 1
    assert len(_all(engine, select(Customer.__table__))) == 2
    assert _subscribers(engine)["77100000003"].customer_id == customers["HT001"].id


def test_reimporting_the_same_file_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    load_reference(engine, tmp_path)
    load(engine, tmp_path, "subscribers", SUBSCRIBERS)
    before = _all(engine, select(Subscriber.__table__).order_by(Subscriber.id))
    customers_before = _all(engine, select(Customer.__table__).order_by(Customer.id))
    _consume_queue(engine)
    again = load(engine, tmp_path, "subscribers", SUBSCRIBERS)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert _all(engine, select(Subscriber.__table__).order_by(Subscriber.id)) == before
    assert _all(engine, select(Customer.__table__).order_by(Customer.id)) == customers_before
    assert _queued(engine) == set()


def test_only_really_changed_rows_are_marked(engine: Engine, tmp_path: Path) -> None:
    load_reference(engine, tmp_path)
    load(engine, tmp_path, "subscribers", SUBSCRIBERS)
    _consume_queue(engine)
    changed = [list(row) for row in SUBSCRIBERS]
    changed[1][3] = "disconnected"
    changed[2][9] = ""  # no change: balance was empty already
    result = load(engine, tmp_path, "subscribers", changed)
    assert (result.updated, result.unchanged) == (1, 2)
    assert _subscribers(engine)["77100000002"].status == "disconnected"
    assert _queued(engine) == {"77100000002"}


def test_moving_a_line_to_another_contract_marks_both_customers(
    engine: Engine, tmp_path: Path
) -> None:
    load_reference(engine, tmp_path)
    load(engine, tmp_path, "subscribers", SUBSCRIBERS)
    _consume_queue(engine)
    moved = [list(row) for row in SUBSCRIBERS]
    moved[1][4] = "HT002"
    assert load(engine, tmp_path, "subscribers", moved).updated == 1
    # The line is queued (standing for its new customer HT002); HT001 lost it.
    assert _queued(engine) == {"77100000002", "HT001"}
    customers = {row.contract_number: row.id for row in _all(engine, select(Customer.__table__))}
    assert _subscribers(engine)["77100000002"].customer_id == customers["HT002"]


def test_arrears_line_plant_revenue_and_customer_feeds(engine: Engine, tmp_path: Path) -> None:
    load_reference(engine, tmp_path)
    load(engine, tmp_path, "subscribers", SUBSCRIBERS)
    _consume_queue(engine)

    assert load(engine, tmp_path, "arrears", [["77100000001", "120.30", "45"]]).updated == 1
    assert load(engine, tmp_path, "line-plant", [["77100000001", "JB-1"],
                                                 ["77100000002", "JB-1"]]).updated == 2
    revenue = load(engine, tmp_path, "revenue", [revenue_row("77100000001", "2026-09"),
                                                 revenue_row("77100000001", "2026-10"),
                                                 revenue_row("77105000001", "202610")])
    assert (revenue.status, revenue.inserted) == ("ok", 3)
    subscribers = _subscribers(engine)
    first = subscribers["77100000001"]
    assert (first.arrears_cents, first.arrears_days, first.junction_box_code) == (12030, 45, "JB-1")
    assert _queued(engine) == {"77100000001", "77100000002", "77105000001"}
    months = _all(engine, select(SubscriberMonth.__table__).order_by(SubscriberMonth.month))
    assert [row.month for row in months].count(date(2026, 10, 1)) == 2
    assert months[0].local_revenue_cents == 1250 and months[0].data_mb == 2000

    # Same revenue again: nothing changes, nobody is queued; a corrected figure is.
    _consume_queue(engine)
    again = load(engine, tmp_path, "revenue", [revenue_row("77105000001", "2026-10")])
    assert (again.updated, again.unchanged) == (0, 1)
    assert _queued(engine) == set()
    corrected = ["99.00", *REVENUE_HEADER_VALUES[1:]]
    assert load(engine, tmp_path, "revenue",
                [revenue_row("77105000001", "2026-10", corrected)]).updated == 1
    assert _queued(engine) == {"77105000001"}
    _consume_queue(engine)

    assert load(engine, tmp_path, "vip-cards", [["HT001", "金卡"]]).updated == 1
    assert load(engine, tmp_path, "key-accounts", [["HT002", "KA0001", "李经理"]]).updated == 1
    customers = {row.contract_number: row for row in _all(engine, select(Customer.__table__))}
    assert customers["HT001"].vip_card == "gold"
    assert customers["HT002"].key_account_code == "KA0001"
    assert _queued(engine) == {"HT001", "HT002"}


def test_key_account_list_is_a_snapshot(engine: Engine, tmp_path: Path) -> None:
    load_reference(engine, tmp_path)
    load(engine, tmp_path, "subscribers", SUBSCRIBERS)
    load(engine, tmp_path, "key-accounts", [["HT001", "KA1", ""], ["HT002", "KA2", ""]])

    partial = load(engine, tmp_path, "key-accounts", [["HT002", "KA2", ""], ["HT999", "KA9", ""]],
                   mode="skip")
    assert partial.status == "partial"
    assert any("key accounts absent from the file were NOT reset" in note
               for note in partial.notes)
    listed = {row.contract_number for row in _all(
        engine, select(Customer.__table__).where(Customer.key_account_code.is_not(None)))}
    assert listed == {"HT001", "HT002"}

    _consume_queue(engine)
    full = load(engine, tmp_path, "key-accounts", [["HT002", "KA2", ""]])
    assert "key accounts absent from the file, reset: 1" in full.notes
    assert _queued(engine) == {"HT001"}
    listed = {row.contract_number for row in _all(
        engine, select(Customer.__table__).where(Customer.key_account_code.is_not(None)))}
    assert listed == {"HT002"}


def test_gbk_file_imports_with_its_encoding(engine: Engine, tmp_path: Path) -> None:
    from tests.feeds.helpers import feed_file
    from webapp.feeds import FEEDS, import_file

    load_reference(engine, tmp_path)
    path = feed_file(tmp_path, "subscribers", SUBSCRIBERS, encoding="gbk")
    result = import_file(engine, FEEDS["subscribers"], path, encoding="gbk")
    assert result.status == "ok", result.message
    assert _subscribers(engine)["77105000001"].name == "南宁青秀贸易有限公司"


def test_every_import_is_recorded(engine: Engine, tmp_path: Path) -> None:
    load_reference(engine, tmp_path)
    load(engine, tmp_path, "subscribers", SUBSCRIBERS)
    load(engine, tmp_path, "arrears", [["1"]])
    runs = _all(engine, select(ImportRun.__table__).order_by(ImportRun.id))
    assert [run.feed for run in runs][-2:] == ["subscribers", "arrears"]
    assert runs[-1].status == "failed" and runs[-1].rejected == 1
    assert runs[-2].status == "ok" and runs[-2].inserted == 3 and len(runs[-2].file_sha256) == 64


def test_arrears_file_is_the_list_of_current_debtors(engine: Engine, tmp_path: Path) -> None:
    load_reference(engine, tmp_path)
    load(engine, tmp_path, "subscribers", SUBSCRIBERS)
    load(engine, tmp_path, "arrears", [["77100000001", "50.00", "10"],
                                       ["77100000002", "20.00", "40"]])
    _consume_queue(engine)

    partial = load(engine, tmp_path, "arrears", [["77100000002", "20.00", "41"],
                                                 ["77199999999", "1.00", "1"]], mode="skip")
    assert partial.status == "partial"
    assert _subscribers(engine)["77100000001"].arrears_cents == 5000
    assert _queued(engine) == {"77100000002"}
    _consume_queue(engine)

    paid = load(engine, tmp_path, "arrears", [["77100000002", "20.00", "42"]])
    assert "subscribers in arrears absent from the file, reset: 1" in paid.notes
    first = _subscribers(engine)["77100000001"]
    assert (first.arrears_cents, first.arrears_days) == (0, 0)
    assert _queued(engine) == {"77100000001", "77100000002"}


def test_progress_display_does_not_change_the_outcome(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load_reference(engine, tmp_path)
    result = load(engine, tmp_path, "subscribers", SUBSCRIBERS, progress=True, chunk_rows=1)
    assert (result.status, result.inserted) == ("ok", 3)
    assert "subscribers" in capsys.readouterr().err


def test_remapping_boxes_and_segments_queues_the_lines_they_attribute(
    engine: Engine, tmp_path: Path
) -> None:
    load_reference(engine, tmp_path)
    load(engine, tmp_path, "subscribers", SUBSCRIBERS)
    load(engine, tmp_path, "line-plant", [["77100000001", "JB-1"]])
    _consume_queue(engine)

    load(engine, tmp_path, "junction-boxes", JUNCTION_BOXES)
    load(engine, tmp_path, "number-segments", NUMBER_SEGMENTS)
    assert _queued(engine) == set()

    moved_box = [["JB-1", "NN01", "NN-C1-BIZ-A1-S1"], JUNCTION_BOXES[1]]
    assert load(engine, tmp_path, "junction-boxes", moved_box).updated == 1
    assert _queued(engine) == {"77100000001"}
    _consume_queue(engine)

    shrunk = [["77105000000", "77105000000", "NN01", "NN-C1-BIZ-A1-S1"]]
    assert load(engine, tmp_path, "number-segments", shrunk).updated == 1
    assert _queued(engine) == {"77105000001"}  # it was in the old range


def test_unassigned_communities_follow_their_billing_area(
    engine: Engine, tmp_path: Path
) -> None:
    load_reference(engine, tmp_path)
    load(engine, tmp_path, "org-units", [["LZ", "柳州市电信分公司", "city", "PRV", ""]])
    assert load(engine, tmp_path, "billing-areas", [["NN01", "武鸣", "LZ"]]).updated == 1
    units = {row.code: row for row in _all(engine, select(OrgUnit.__table__))}
    unassigned = [unit for unit in units.values() if unit.unassigned_billing_area_id]
    assert len(unassigned) == 5
    assert {unit.parent_id for unit in unassigned} == {units["LZ"].id}
    assert units["UA-NN01-public"].name == "武鸣公众客户未分配社区"


def test_reshaping_the_org_tree_queues_every_customer(engine: Engine, tmp_path: Path) -> None:
    load_reference(engine, tmp_path)
    load(engine, tmp_path, "subscribers", SUBSCRIBERS)
    _consume_queue(engine)
    renamed = [list(row) for row in ORG_UNITS]
    renamed[5][1] = "城东二片第一社区"  # a new name: no fact reads it
    assert load(engine, tmp_path, "org-units", renamed).updated == 1
    assert load(engine, tmp_path, "billing-areas", BILLING_AREAS).updated == 0
    assert _queued(engine) == set()

    moved = [*renamed, ["NN-C1-PUB-A2", "城东三片", "area", "NN-C1-PUB", "public"]]
    moved[5][3] = "NN-C1-PUB-A2"  # the community moves to the new area
    assert load(engine, tmp_path, "org-units", moved).inserted == 1
    assert _queued(engine) == {"HT001", "HT002"}
