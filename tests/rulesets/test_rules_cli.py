"""``custclass rules``: validating, testing and publishing ruleset files."""

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select

from webapp.models import RulesetVersion
from webapp.rulesets.files import MAX_FILE_BYTES
from webapp.rulesets.store import DEFAULT_RULES

GOOD = """\
name: tier
title: Tier
subject: customer
output: service_tier
hit_policy: first
default: standard
rules:
  - {id: gold, when: {fact: vip_card, op: "=", value: gold}, then: gold}
tests:
  - {name: gold card, given: {vip_card: gold}, expect: gold}
  - {name: no card, given: {vip_card: none}, expect: standard}
"""


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_default_rulesets_validate_and_pass_their_tests(app: Flask) -> None:
    runner = app.test_cli_runner()
    validated = runner.invoke(args=["rules", "validate", "--all"])
    assert validated.exit_code == 0, validated.output
    assert validated.output.count(": ok (") == len(list(DEFAULT_RULES.glob("*.yaml"))) - 1
    tested = runner.invoke(args=["rules", "test"])
    assert tested.exit_code == 0, tested.output
    assert "FAIL" not in tested.output


@pytest.mark.parametrize(("text", "expected"), [
    ("name: tier\n  title: [unclosed\n", "line 2 column"),
    ("- just\n- a list\n", "expected a ruleset"),
    ("a: &x [1, 2]\nb: [*x, *x]\n", "aliases"),
    (GOOD.replace('value: gold}, then', 'value: golden}, then'),
     'rules[0].when.value: "golden" is not one of none, silver, gold, diamond'),
    (GOOD.replace("op: \"=\"", "op: starts_with"),
     "rules[0].when.op: operator 'starts_with' does not apply to enum fact 'vip_card'"),
    (GOOD.replace("default: standard\n", ""),
     "default: a first-hit ruleset needs a default outcome"),
    (GOOD.replace("output: service_tier", "output: shoe_size"),
     'output: unknown output "shoe_size"'),
    (GOOD.replace("vip_card, op", "vip_kard, op"),
     'unknown fact "vip_kard" (did you mean "vip_card"?)'),
])
def test_bad_files_name_the_place_and_fail(app: Flask, tmp_path: Path, text: str,
                                           expected: str) -> None:
    path = _write(tmp_path, "bad.yaml", text)
    result = app.test_cli_runner().invoke(args=["rules", "validate", str(path),
                                                "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert expected in result.output


def test_oversized_and_binary_files_are_refused(app: Flask, tmp_path: Path) -> None:
    big = _write(tmp_path, "big.yaml", "#" * (MAX_FILE_BYTES + 1))
    binary = _write(tmp_path, "bin.yaml", b"name: x\n\xff\xfe\x00")
    runner = app.test_cli_runner()
    for path, expected in ((big, "at most 1,000,000"), (binary, "line 2: not UTF-8")):
        result = runner.invoke(args=["rules", "validate", str(path), "--dir", str(tmp_path)])
        assert result.exit_code == 1 and expected in result.output, result.output


def test_failing_test_case_is_reported(app: Flask, tmp_path: Path) -> None:
    path = _write(tmp_path, "tier.yaml", GOOD.replace("expect: standard", "expect: gold"))
    result = app.test_cli_runner().invoke(args=["rules", "test", str(path),
                                                "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "FAIL tier: no card: expected 'gold', got 'standard' (rule default)" in result.output


def test_publish_is_versioned_idempotent_and_all_or_nothing(app: Flask, engine: Engine,
                                                            tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    path = _write(tmp_path, "tier.yaml", GOOD)
    first = runner.invoke(args=["rules", "publish", str(path), "--dir", str(tmp_path)])
    assert first.exit_code == 0 and "tier: v1 published" in first.output, first.output
    again = runner.invoke(args=["rules", "publish", str(path), "--dir", str(tmp_path)])
    assert "tier: v1 unchanged" in again.output
    _write(tmp_path, "tier.yaml", GOOD.replace("then: gold", "then: gold_plus"))
    changed = runner.invoke(args=["rules", "publish", str(path), "--dir", str(tmp_path)])
    assert "tier: v2 published" in changed.output
    _write(tmp_path, "tier.yaml", GOOD.replace("vip_card, op", "nope, op"))
    broken = runner.invoke(args=["rules", "publish", str(path), "--dir", str(tmp_path)])
    assert broken.exit_code == 1 and 'unknown fact "nope"' in broken.output
    with engine.connect() as conn:
        versions = conn.execute(select(RulesetVersion.version, RulesetVersion.published_at)
                                .order_by(RulesetVersion.version)).all()
        assert [version for version, _ in versions] == [1, 2]
        assert conn.scalar(select(func.count()).select_from(RulesetVersion)) == 2
