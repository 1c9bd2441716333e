"""The rule editor's diff of two versions of a ruleset document."""

import copy
import functools
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.rulesets.diff import CellChange, FieldChange, RowChange, diff_documents
from webapp.rulesets.table import table_of

RULES = Path(__file__).resolve().parents[2] / "rules"
RULESETS = sorted(path.stem for path in RULES.glob("*.yaml")
                  if "rules" in yaml.safe_load(path.read_text(encoding="utf-8")))


def _load(name: str) -> dict[str, Any]:
    """A fresh copy of a document of ``rules/``."""
    return copy.deepcopy(_parsed(name))


@functools.cache
def _parsed(name: str) -> dict[str, Any]:
    return yaml.safe_load((RULES / f"{name}.yaml").read_text(encoding="utf-8"))


def _rule(document: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(rule for rule in document["rules"] if rule["id"] == rule_id)


def _ids(document: dict[str, Any]) -> list[str]:
    return [rule["id"] for rule in document["rules"]]


def _reorder(document: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    new = copy.deepcopy(document)
    new["rules"] = [copy.deepcopy(_rule(document, rule_id)) for rule_id in ids]
    return new


@pytest.mark.parametrize("name", RULESETS)
def test_identical_documents_have_no_difference(name: str) -> None:
    diff = diff_documents(_load(name), _load(name))
    assert diff.empty
    assert diff.rows == ()
    assert diff.fields == ()
    assert diff.summary() == "no change"
    assert diff.columns == table_of(_load(name)).columns


def test_raised_threshold_is_one_changed_cell() -> None:
    old = _load("service_tier")
    new = copy.deepcopy(old)
    _rule(new, "mid_high_end")["when"]["all"][1]["value"] = 95
    diff = diff_documents(old, new)
    assert diff.rows == (RowChange("mid_high_end", "changed", 4, 4, (
        CellChange("revenue_percentile", "ge 90", "ge 95"),)),)
    assert not diff.empty
    assert diff.summary() == "1 rule changed"


def test_added_rule() -> None:
    old = _load("service_tier")
    new = copy.deepcopy(old)
    new["rules"].insert(1, {"id": "platinum_card", "title": "Platinum VIP card",
                            "when": {"fact": "vip_card", "op": "eq", "value": "platinum"},
                            "then": "diamond"})
    diff = diff_documents(old, new)
    assert diff.rows == (RowChange("platinum_card", "added", None, 2, (
        CellChange("title", "", "Platinum VIP card"),
        CellChange("vip_card", "", "eq platinum"),
        CellChange("then.value", "", "diamond"),
    )),)
    assert diff.summary() == "1 rule added"


def test_removed_rule_follows_the_rule_before_it() -> None:
    old = _load("service_tier")
    new = _reorder(old, ["diamond_card", "silver_card", "mid_high_end"])
    _rule(new, "silver_card")["title"] = "Silver card"
    _rule(new, "diamond_card")["title"] = "Diamond card"
    diff = diff_documents(old, new)
    assert [(row.rule_id, row.kind, row.old_position, row.new_position)
            for row in diff.rows] == [("diamond_card", "changed", 1, 1),
                                      ("gold_card", "removed", 2, None),
                                      ("silver_card", "changed", 3, 2)]
    assert diff.rows[1].cells[:2] == (CellChange("title", "Gold VIP card", ""),
                                      CellChange("vip_card", "eq gold", ""))
    assert diff.summary() == "2 rules changed, 1 removed"


def test_removed_first_rules_come_first() -> None:
    old = _load("service_tier")
    new = _reorder(old, ["silver_card", "mid_high_end"])
    _rule(new, "silver_card")["title"] = "Silver card"
    diff = diff_documents(old, new)
    assert [(row.rule_id, row.kind) for row in diff.rows] == [
        ("diamond_card", "removed"), ("gold_card", "removed"), ("silver_card", "changed")]


def test_swapped_rules_are_one_move() -> None:
    old = _load("service_tier")
    new = _reorder(old, ["diamond_card", "silver_card", "gold_card", "mid_high_end"])
    diff = diff_documents(old, new)
    assert diff.rows == (RowChange("gold_card", "moved", 2, 3, ()),)
    assert diff.summary() == "1 rule moved"


def test_rule_moved_to_the_top_is_the_only_move() -> None:
    old = _load("alerts")
    ids = _ids(old)
    diff = diff_documents(old, _reorder(old, [ids[-1], *ids[:-1]]))
    assert diff.rows == (RowChange(ids[-1], "moved", len(ids), 1, ()),)


def test_moved_and_changed_rule_is_changed_with_both_positions() -> None:
    old = _load("service_tier")
    new = _reorder(old, ["mid_high_end", "diamond_card", "gold_card", "silver_card"])
    _rule(new, "mid_high_end")["then"] = "standard"
    diff = diff_documents(old, new)
    assert diff.rows == (RowChange("mid_high_end", "changed", 4, 1, (
        CellChange("then.value", "mid_high_end", "standard"),)),)


def test_changed_fields() -> None:
    old = _load("service_tier")
    new = copy.deepcopy(old)
    new["default"] = "basic"
    diff = diff_documents(old, new)
    assert diff.fields == (FieldChange("default", "standard", "basic"),)
    assert diff.rows == ()
    assert diff.summary() == "default changed"


def test_fields_as_text() -> None:
    old = _load("marketing_attribute")
    new = copy.deepcopy(old)
    new["depends_on"] = ["statistical_attribute", "service_tier"]
    new["default"] = {"fact": "channel"}
    new["title"] = None
    diff = diff_documents(old, new)
    assert diff.fields == (
        FieldChange("title", old["title"], ""),
        FieldChange("depends_on", "statistical_attribute",
                    "statistical_attribute, service_tier"),
        FieldChange("default", "=community", "=channel"),
    )
    assert diff.summary() == "title, depends_on, default changed"


def test_changed_alert_severity() -> None:
    old = _load("alerts")
    new = copy.deepcopy(old)
    _rule(new, "arrears_red")["then"]["severity"] = "yellow"
    diff = diff_documents(old, new)
    assert diff.rows == (RowChange("arrears_red", "changed", 5, 5, (
        CellChange("then.severity", "red", "yellow"),)),)


def test_negated_cell() -> None:
    old = _load("alerts")
    new = copy.deepcopy(old)
    _rule(new, "agreement_ending")["when"]["all"][1]["not"]["value"].append("suspended")
    (row,) = diff_documents(old, new).rows
    assert row.cells == (CellChange("status", "not in disconnected, closed",
                                    "not in disconnected, closed, suspended"),)


def test_changed_more_conditions() -> None:
    old = _load("alerts")
    new = copy.deepcopy(old)
    _rule(new, "arrears_red")["when"]["any"][0]["value"] = 120
    (row,) = diff_documents(old, new).rows
    assert (row.rule_id, row.kind) == ("arrears_red", "changed")
    (cell,) = row.cells
    assert cell.column == "more"
    assert "value: 90" in cell.old
    assert "value: 120" in cell.new
    assert cell.old.replace("90", "120") == cell.new


def test_columns_of_both_tables_old_first() -> None:
    old = _load("service_tier")
    new = _reorder(old, ["diamond_card", "gold_card", "silver_card"])
    new["rules"].append({"id": "young", "when": {"fact": "tenure_months", "op": "lt",
                                                 "value": 6}, "then": "standard"})
    diff = diff_documents(old, new)
    assert diff.columns == ["vip_card", "revenue_percentile", "tenure_months"]
    assert [(row.rule_id, row.kind) for row in diff.rows] == [
        ("mid_high_end", "removed"), ("young", "added")]


def test_test_case_changes() -> None:
    old = _load("service_tier")
    new = copy.deepcopy(old)
    del new["tests"][1]
    new["tests"][0]["expect"] = "gold"
    new["tests"][2]["given"]["revenue_percentile"] = 80
    new["tests"].append({"name": "platinum card", "given": {"vip_card": "platinum"},
                         "expect": "standard"})
    tests = diff_documents(old, new).tests
    assert tests.added == ("platinum card",)
    assert tests.removed == ("gold card",)
    assert tests.changed == (old["tests"][0]["name"], old["tests"][3]["name"])
    assert diff_documents(old, new).summary() == \
        "2 test cases changed, 1 added, 1 removed"


def test_summary() -> None:
    old = _load("statistical_attribute")
    new = _reorder(old, ["transient", "key_account", "business"])
    _rule(new, "key_account")["title"] = "Key account"
    _rule(new, "business")["then"] = "public"
    new["rules"].append({"id": "government", "when": {"fact": "customer_name", "op": "matches",
                                                      "value": "政府$"}, "then": "business"})
    new["default"] = "business"
    for case in new["tests"][:3]:
        case["expect"] = "business"
    diff = diff_documents(old, new)
    assert [(row.rule_id, row.kind) for row in diff.rows] == [
        ("transient", "moved"), ("key_account", "changed"), ("business", "changed"),
        ("bundled", "removed"), ("government", "added")]
    assert diff.summary() == \
        "2 rules changed, 1 added, 1 removed, 1 moved; default changed; 3 test cases changed"


@settings(deadline=None, max_examples=200)
@given(data=st.data())
def test_permuted_and_deleted_rules(data: st.DataObject) -> None:
    old = _load(data.draw(st.sampled_from(RULESETS)))
    ids = data.draw(st.permutations(_ids(old)))
    kept = [rule_id for rule_id in ids if data.draw(st.booleans())]
    new = _reorder(old, kept)
    if kept and data.draw(st.booleans()):
        _rule(new, kept[0])["id"] = "renamed"
    old_ids, new_ids = set(_ids(old)), set(_ids(new))

    diff = diff_documents(old, new)
    added = {row.rule_id for row in diff.rows if row.kind == "added"}
    removed = {row.rule_id for row in diff.rows if row.kind == "removed"}
    assert not added & removed
    assert removed == old_ids - new_ids
    assert added == new_ids - old_ids
    assert all(row.kind in {"added", "removed", "moved"} for row in diff.rows)
    # The rows not reported as moved keep their relative order.
    moved = {row.rule_id for row in diff.rows if row.kind == "moved"}
    in_place = [rule_id for rule_id in _ids(new) if rule_id in old_ids - moved]
    assert in_place == [rule_id for rule_id in _ids(old) if rule_id in in_place]
    # ... and are as many as possible (the longest increasing run of old positions).
    positions = [_ids(old).index(rule_id) for rule_id in _ids(new) if rule_id in old_ids]
    longest = [1] * len(positions)
    for i, position in enumerate(positions):
        longest[i] += max((longest[j] for j in range(i) if positions[j] < position), default=0)
    assert len(in_place) == max(longest, default=0)
    assert diff.empty == (_ids(old) == _ids(new))
