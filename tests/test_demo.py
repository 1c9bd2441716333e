"""The demo province: deterministic files that import cleanly through the real path."""

import csv
import hashlib
from collections import Counter
from datetime import date
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, func, select

from webapp.demo import generate
from webapp.models import Customer, Subscriber, SubscriberMonth

AS_OF = date(2026, 11, 23)


def _digest(files: list[tuple[str, Path]]) -> str:
    digest = hashlib.sha256()
    for _feed, path in files:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", 3_000, seed=5, as_of=AS_OF)
    again = generate(tmp_path / "b", 3_000, seed=5, as_of=AS_OF)
    other = generate(tmp_path / "c", 3_000, seed=6, as_of=AS_OF)
    assert _digest(first) == _digest(again) != _digest(other)


def test_population_looks_like_an_operators(tmp_path: Path) -> None:
    files = {path.name: path for _feed, path in generate(tmp_path, 20_000, as_of=AS_OF)}
    subscribers = _rows(files["subscribers.csv"])
    assert len(subscribers) == 20_000
    assert len({row["service_number"] for row in subscribers}) == 20_000
    lines_per_contract = Counter(row["contract_number"] for row in subscribers)
    assert Counter(lines_per_contract.values())[1] > 0.5 * len(lines_per_contract)
    assert max(lines_per_contract.values()) >= 30
    statuses = Counter(row["status"] for row in subscribers)
    assert set(statuses) == {"active", "suspended", "suspended_keep_number", "disconnected",
                             "closed"}
    assert statuses["active"] > 0.8 * len(subscribers)
    tenure_years = [(AS_OF - date.fromisoformat(row["install_date"])).days / 365
                    for row in subscribers]
    assert min(tenure_years) < 1 and max(tenure_years) > 15
    prepaid_low = [row for row in subscribers if row["balance"] and float(row["balance"]) < 10]
    assert 0.005 * len(subscribers) < len(prepaid_low) < 0.1 * len(subscribers)
    boxed = {row["service_number"] for row in _rows(files["line_plant.csv"])}
    assert 0.85 < len(boxed) / len(subscribers) < 0.97
    arrears = _rows(files["arrears.csv"])
    assert 0.01 < len(arrears) / len(subscribers) < 0.08
    revenue_files = sorted(name for name in files if name.startswith("revenue_"))
    assert len(revenue_files) == 13 and revenue_files[-1] == "revenue_2026-10.csv"
    last = [float(row["local_revenue"]) + float(row["data_revenue"])
            for row in _rows(files[revenue_files[-1]])]
    assert last.count(0.0) > 0.02 * len(last)
    assert max(last) > 20 * sorted(last)[len(last) // 2]
    assert _rows(files["key_accounts.csv"]) and _rows(files["vip_cards.csv"])
    communities = [row for row in _rows(files["org_units.csv"]) if row["kind"] == "community"]
    assert 150 <= len(communities) <= 250
    assert {row["channel"] for row in communities} == {
        "public", "business", "key_account", "bundled", "transient"}


def test_demo_command_imports_and_is_idempotent(app: Flask, engine: Engine) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "-n", "1500", "--as-of", "2026-11-23"])
    assert first.exit_code == 0, first.output
    assert "subscribers: ok · read 1,500 · inserted 1,500" in first.output
    assert "customers " in first.output and "revenue history" in first.output
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Subscriber)) == 1_500
        assert conn.scalar(select(func.count(func.distinct(SubscriberMonth.month)))) == 13
        assert conn.scalar(select(func.count()).select_from(Customer)) < 1_500

    second = runner.invoke(args=["demo", "-n", "1500", "--as-of", "2026-11-23"])
    assert second.exit_code == 0, second.output
    assert "reusing the demo files" in second.output
    summaries = [line for line in second.output.splitlines() if " · read " in line]
    assert summaries and all(" · inserted 0 · updated 0 · " in line for line in summaries)
