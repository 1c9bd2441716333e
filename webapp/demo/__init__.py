"""A synthetic but realistic province, written as the feed files billing would send.

The demo goes through the real import path. Output is a function of ``seed`` and
``as_of`` (the day the data describes) only.
"""

import csv
import random
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

from webapp.demo.population import Customer, Population
from webapp.demo.province import (
    billing_area_rows,
    junction_box_rows,
    number_segment_rows,
    org_rows,
    plan_province,
)
from webapp.feeds import FEEDS

#: Files in import order: feed name and file name (revenue has one file per month).
REFERENCE_FILES = [
    ("org-units", "org_units.csv", org_rows),
    ("billing-areas", "billing_areas.csv", billing_area_rows),
    ("junction-boxes", "junction_boxes.csv", junction_box_rows),
    ("number-segments", "number_segments.csv", number_segment_rows),
]


def generate(out_dir: Path, subscribers: int = 50_000, seed: int = 1,
             as_of: date | None = None,
             on_progress: Callable[[int], None] | None = None) -> list[tuple[str, Path]]:
    """Write the province's feed files into ``out_dir``; return (feed, path) in import order."""
    as_of = as_of or date.today()
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_province(subscribers, rng)
    files: list[tuple[str, Path]] = []
    for feed, name, rows in REFERENCE_FILES:
        path = out_dir / name
        _write(path, FEEDS[feed].schema.columns(), rows(plan))
        files.append((feed, path))
    population = Population(plan.areas, as_of, rng)
    files.extend(_write_population(out_dir, population, subscribers, on_progress))
    return files


def _write_population(out_dir: Path, population: Population, subscribers: int,
                      on_progress: Callable[[int], None] | None) -> list[tuple[str, Path]]:
    months = [month.strftime("%Y-%m") for month in population.months]
    targets = [
        ("subscribers", "subscribers.csv"),
        ("arrears", "arrears.csv"),
        ("line-plant", "line_plant.csv"),
        *(("revenue", f"revenue_{month}.csv") for month in months),
        ("key-accounts", "key_accounts.csv"),
        ("vip-cards", "vip_cards.csv"),
    ]
    with ExitStack() as stack:
        writers = {}
        for feed, name in targets:
            handle = stack.enter_context((out_dir / name).open("w", encoding="utf-8", newline=""))
            columns = FEEDS[feed].schema.columns()
            csv.writer(handle, lineterminator="\n").writerow(columns)
            writers[name] = (csv.writer(handle, lineterminator="\n") if feed == "revenue"
                             else csv.DictWriter(handle, columns, lineterminator="\n"))
        written = 0
        for customer in population.customers(subscribers):
            _write_customer(customer, writers, months)
            written += len(customer.lines)
            if on_progress and written % 10_000 < len(customer.lines):
                on_progress(written)
    return [(feed, out_dir / name) for feed, name in targets]


def _write_customer(customer: Customer, writers: dict[str, Any], months: list[str]) -> None:
    for line in customer.lines:
        number = line.row["service_number"]
        writers["subscribers.csv"].writerow(line.row)
        if line.arrears:
            amount, days = line.arrears
            writers["arrears.csv"].writerow({"service_number": number,
                                         "arrears_amount": f"{amount // 100}.{amount % 100:02d}",
                                         "arrears_days": days})
        if line.box:
            writers["line_plant.csv"].writerow({"service_number": number,
                                            "junction_box_code": line.box})
        for month, revenue in zip(months, line.revenue, strict=True):
            if revenue is not None:
                writers[f"revenue_{month}.csv"].writerow([number, *revenue])
    if customer.key_account:
        writers["key_accounts.csv"].writerow({
            "contract_number": customer.contract_number,
            "key_account_code": f"KA{customer.contract_number[2:]}",
            "account_manager": "客户经理" + customer.contract_number[-3:],
        })
    if customer.vip_card != "none":
        writers["vip_cards.csv"].writerow({"contract_number": customer.contract_number,
                                       "vip_card": customer.vip_card})


def _write(path: Path, columns: list[str], rows: Iterable[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
