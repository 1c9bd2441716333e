"""Rule evaluation throughput and memory: this engine against naive durable-rules and numpy.

Evaluates the default rulesets (every ``rules/*.yaml`` but ``service_tiers.yaml``) over N
subscriber records and N customer records (the same N for both subjects, generated
independently with the demo province's distributions, fixed seed) whose facts are already
in memory, as the classification run hands them over: subscriber rulesets over the
subscriber records, customer rulesets over the customer records. Three ways:

(a) this engine: ``engine.workers.ParallelEvaluator`` with 2 spawned worker processes
    (both cores; pool started and warmed before timing), and in-process (one core; on
    the first ``--one-core-records`` of each subject);
(b) what a newcomer writes with ``durable.lang``: the same rules as Python decorator
    rules, one ``post`` per record per first-hit ruleset, ``assert_fact`` +
    ``retract_fact`` per record for the alerts; run on the first ``--naive-records`` of
    each subject, its rate extrapolated;
(c) the same decisions written by hand with numpy over columns built from the records
    (building the columns included): the practical limit.

Target: (a) with both cores at least 5x (b). The engine's decisions (values, and which
alert rules fired) on the first ``--naive-records`` of each subject are compared with
(c)'s before the engine is timed, and with (b)'s; the ratios mean nothing below 100 %
agreement. Rates are records per second through every ruleset of their subject, over
both populations. Memory is the peak of the summed resident memory of this process and
its workers, sampled every 50 ms, and its growth while the way ran (the records are held
throughout). CPU taken meanwhile by other processes is reported: rerun if it shows.

    .venv/bin/python bench/engine.py                 # 1,000,000 records of each subject
    .venv/bin/python bench/engine.py --quick         # 50,000
"""

import argparse
import collections
import gc
import math
import random
import re
import sys
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from engine.catalog import Subject  # noqa: E402
from engine.evaluate import Program  # noqa: E402
from engine.months import months_between  # noqa: E402
from engine.program import build_program  # noqa: E402
from engine.results import RecordResult  # noqa: E402
from engine.validation import validate_documents  # noqa: E402
from engine.workers import ParallelEvaluator  # noqa: E402
from tests.support import machine_cpu_seconds  # noqa: E402
from webapp.rulesets.files import read_document, ruleset_files  # noqa: E402

AS_OF = date(2026, 11, 23)
Decisions = tuple  # one record's decisions, comparable across the three ways

# --- demo-like records --------------------------------------------------------------------

STATUSES = ["active", "suspended", "suspended_keep_number", "disconnected", "closed"]
STATUS_P = [0.88, 0.03, 0.03, 0.04, 0.02]
SIZES = [1, 2, 3, 4, 6, 9, 15, 30, 80, 250]
SIZE_P = [0.80, 0.09, 0.04, 0.025, 0.015, 0.01, 0.01, 0.006, 0.003, 0.001]
PRODUCTS = ["天翼e家-129", "天翼e家-199", "固话基础套餐", "宽带100M", "宽带500M",
            "商务领航-298", "政企专线", "公话", "IC卡电话"]
VIP_CARDS, VIP_P = ["none", "silver", "gold", "diamond"], [0.95, 0.03, 0.015, 0.005]
SURNAMES, GIVEN = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超"
#: No trade ends like a company word: durable-rules' regular expressions miss "...酒店店".
TRADES = ["贸易", "物流", "建材", "餐饮", "电子", "医药", "机械", "食品", "科技", "广告"]
COMPANY_ENDINGS = ["有限公司", "厂", "店", "大酒店", "中心"]
AREAS = ["NN-QX", "NN-XX", "NN-JN", "NN-XN", "NN-LQ", "NN-WM", "LZ-CZ", "LZ-YF", "GL-XF"]
CHANNELS = ["public"] * 6 + ["business", "business", "key_account", "bundled", "bundled",
                             "transient"]
#: Communities of each billing area, with their channel.
COMMUNITIES = {area: [(f"{area}-C{k:02d}", CHANNELS[k % len(CHANNELS)]) for k in range(24)]
               for area in AREAS}
CENT = Decimal("0.01")


def _month_ends() -> list[date]:
    """End (first day of the next month) of the last 12 complete months, newest first."""
    month = AS_OF.year * 12 + AS_OF.month - 1
    return [date((month - back) // 12, (month - back) % 12 + 1, 1) for back in range(12)]


MONTH_ENDS = _month_ends()


def _pct(current: int | None, previous_total: int) -> Decimal | None:
    """``current`` vs. the 3-month average of ``previous_total``, as facts.change_pct."""
    if current is None or not previous_total:
        return None
    change = (Decimal(current) * 3 - previous_total) * 100 / Decimal(previous_total)
    return change.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _history(rng: random.Random, monthly: float, installed: date, silent: int) -> list[int]:
    """Revenue in cents of the last 12 months with data (newest first), the newest
    ``silent`` at zero; months ending before installation have none."""
    trend = rng.choices([0.0, -0.06, 0.05], [0.75, 0.15, 0.10])[0] * rng.uniform(0.5, 1.5)
    months = []
    for back, end in enumerate(MONTH_ENDS):
        if end <= installed:
            break
        months.append(0 if back < silent else
                      int(monthly * (1 + trend) ** -back * rng.uniform(0.85, 1.15)))
    return months


def _installed(rng: random.Random) -> date:
    return AS_OF - timedelta(days=int(min(rng.expovariate(1 / (5 * 365)), 20 * 365)))


def _revenue_facts(months: list[int]) -> dict[str, Any]:
    this = months[0] if months else None
    previous, total = sum(months[1:4]), sum(months)
    return {"revenue_this_month": this, "revenue_avg_3m": round(previous / 3),
            "revenue_avg_12m": round(total / 12), "revenue_change_pct": _pct(this, previous)}


def make_subscribers(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` subscriber fact records (catalog fact names plus ``key``)."""
    rng = random.Random(seed)
    records = []
    for number in range(n):
        area = rng.choice(AREAS)
        status = rng.choices(STATUSES, STATUS_P)[0]
        installed = _installed(rng)
        prepaid = rng.random() < 0.15
        balance = None
        if prepaid:
            balance = rng.randrange(0, 1_000) if rng.random() < 0.2 else rng.randrange(
                1_000, 50_000)
        agreement = None
        if rng.random() < 0.4:
            agreement = max(AS_OF + timedelta(days=rng.randrange(-180, 730)),
                            installed + timedelta(days=30))
        arrears = (0, 0)
        if rng.random() < 0.04:
            arrears = (int(rng.lognormvariate(math.log(8_000), 1.0)), rng.randrange(1, 181))
        silent = 0
        if status in ("disconnected", "closed"):
            silent = rng.randrange(1, 4)
        elif rng.random() < 0.03:
            silent = 1
        months = _history(rng, rng.lognormvariate(math.log(4_500), 0.9), installed, silent)
        has_this = bool(months)
        this, previous = (months[0] if has_this else 0), sum(months[1:4])
        local_drop = rng.uniform(0.1, 0.6) if rng.random() < 0.04 else rng.uniform(0.9, 1.1)
        distance_drop = rng.uniform(0.1, 0.6) if rng.random() < 0.04 else rng.uniform(0.9, 1.1)
        local, distance = int(this * 0.035 * local_drop), int(this * 0.005 * distance_drop)
        box = f"JB-{area}-{rng.randrange(5_000):04d}" if rng.random() < 0.92 else None
        box_unit = rng.choice(COMMUNITIES[area]) if box and rng.random() < 0.97 else None
        segment = rng.choice(COMMUNITIES[area]) if rng.random() < 0.10 else None
        records.append({
            "key": number,
            "service_number": f"0771{number:08d}",
            "status": status,
            "contract_number": f"HT{number:010d}",
            "product": rng.choice(PRODUCTS),
            "prepaid": prepaid,
            "balance": balance,
            "agreement_end_date": agreement,
            "install_date": installed,
            "arrears_amount": arrears[0],
            "arrears_days": arrears[1],
            "billing_area": area,
            "junction_box": box,
            "vip_card": rng.choices(VIP_CARDS, VIP_P)[0],
            "key_account": rng.random() < 0.01,
            **_revenue_facts(months),
            "tenure_months": max(months_between(installed, AS_OF), 0),
            "days_to_agreement_end": (agreement - AS_OF).days if agreement else None,
            "long_distance_minutes": distance if has_this else None,
            "long_distance_change_pct": _pct(distance if has_this else None,
                                             int(previous * 0.005)),
            "local_minutes": local if has_this else None,
            "local_change_pct": _pct(local if has_this else None, int(previous * 0.035)),
            "zero_traffic": this == 0 if has_this else None,
            "box_community": box_unit[0] if box_unit else None,
            "box_channel": box_unit[1] if box_unit else None,
            "segment_community": segment[0] if segment else None,
            "segment_channel": segment[1] if segment else None,
            "unassigned_community": f"{area}-UNASSIGNED",
        })
    return records


def make_customers(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` customer fact records; the revenue percentile is ranked among them."""
    rng = random.Random(seed + 1)
    records, totals = [], []
    for number in range(n):
        size = rng.choices(SIZES, SIZE_P)[0]
        business = size > 1 and rng.random() < 0.8
        area = rng.choice(AREAS)
        if business:
            name = (f"{''.join(rng.choices(GIVEN, k=2))}{rng.choice(TRADES)}"
                    f"{rng.choice(COMPANY_ENDINGS)}")
        else:
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randrange(1, 3)))
        monthly = sum(rng.lognormvariate(math.log(4_500 * (3 if business else 1)), 0.9)
                      for _ in range(size))
        installed = min(_installed(rng) for _ in range(size))
        active = sum(rng.random() < 0.88 for _ in range(size))
        months = _history(rng, monthly, installed, rng.randrange(1, 4) if not active else 0)
        vip = rng.choices(VIP_CARDS, VIP_P)[0]
        if vip == "none":
            totals.append(sum(months))
        community, channel = (rng.choice(COMMUNITIES[area]) if rng.random() < 0.95
                              else (f"{area}-UNASSIGNED", "public"))
        records.append({
            "key": number,
            "customer_code": f"CHT{number:010d}",
            "customer_name": name,
            "vip_card": vip,
            "key_account": size >= 30 or monthly > 2_000_000 or rng.random() < 0.005,
            "line_count": size,
            "active_line_count": active,
            "prepaid_only": all(rng.random() < 0.15 for _ in range(size)),
            "main_product": rng.choice(PRODUCTS),
            **_revenue_facts(months),
            "tenure_months": max(months_between(installed, AS_OF), 0),
            "revenue_percentile": sum(months),  # replaced below by its percentile
            "community": community,
            "channel": channel if rng.random() < 0.98 else None,
            "key_account_department": f"{area}-KA",
            "business_department": f"{area}-BIZ",
            "bundled_department": f"{area}-BDL",
        })
    totals.sort()
    for record in records:
        below = bisect_left(totals, record["revenue_percentile"])
        record["revenue_percentile"] = (Decimal(below * 100) / len(totals)).quantize(
            CENT, rounding=ROUND_HALF_EVEN) if totals else None
    return records


# --- the default rulesets through this engine ------------------------------------------------

ALERT_RULES = ("agreement_ending", "prepaid_low_balance", "arrears_green", "arrears_yellow",
               "arrears_red", "zero_traffic", "suspended_keep_number", "active_disconnection",
               "long_distance_churn", "local_churn", "abnormal_fluctuation",
               "churn_warning_level_3", "churn_warning_level_2", "churn_warning_level_1")
#: Outputs compared, per subject; (b) and (c) decide exactly these.
OUTPUTS = {Subject.SUBSCRIBER: ("community", "alerts"),
           Subject.CUSTOMER: ("statistical_attribute", "marketing_attribute", "service_tier",
                              "lifecycle_stage")}


def default_programs() -> dict[Subject, Program]:
    documents = {path.name: read_document(path) for path in ruleset_files(ROOT / "rules")}
    reports = validate_documents(documents)
    bad = [f"{report.source}: {report.errors}" for report in reports if not report.ok]
    if bad:
        raise SystemExit("invalid default rulesets:\n" + "\n".join(bad))
    rulesets = [report.ruleset for report in reports if report.ruleset is not None]
    programs = {subject: build_program([r for r in rulesets if r.subject is subject])
                for subject in Subject}
    for subject, program in programs.items():
        outputs = {ruleset.output for ruleset in program.rulesets}
        if outputs != set(OUTPUTS[subject]):
            print(f"warning: the default {subject} rulesets decide {sorted(outputs)}; "
                  f"(b) and (c) decide {list(OUTPUTS[subject])} only")
    return programs


def engine_decisions(subject: Subject, result: RecordResult) -> Decisions:
    if result.errors:
        return ("error", str(result.errors))
    bits = {rule: 1 << bit for bit, rule in enumerate(ALERT_RULES)}
    other = 1 << len(ALERT_RULES)  # a rule (b) and (c) do not know
    return tuple(sum(bits.get(alert.rule_id, other) for alert in result.alerts)
                 if output == "alerts" else result.decisions[output].value
                 for output in OUTPUTS[subject])


def run_engine(evaluator: ParallelEvaluator, records: Sequence[dict], build: bool = False) -> int:
    """Evaluate ``records``, keeping nothing; returns how many had an error.

    The results arrive compact (:class:`engine.results.Results`); ``build`` also builds
    the :class:`RecordResult` of every record, as a caller reading each one would.
    """
    errors = 0
    for part in evaluator.evaluate_chunks(records, AS_OF):
        errors += len(part.errors)
        if build:
            collections.deque(part, maxlen=0)
    return errors


# --- (c) the same decisions by hand with numpy ---------------------------------------------

COMPANY = re.compile(r"(公司|厂|店|酒店|宾馆|中心|学校|医院|银行|事务所|合作社)\s*$")


def _numbers(records: Sequence[dict], name: str) -> np.ndarray:
    """A fact as float64 (NaN when empty): cents, hundredths-exact decimals, 0/1."""
    return np.fromiter((math.nan if (v := r[name]) is None else float(v) for r in records),
                       np.float64, len(records))


def _texts(records: Sequence[dict], name: str) -> np.ndarray:
    return np.array([r[name] or "" for r in records], dtype=object)


def numpy_subscribers(records: Sequence[dict]) -> tuple[list[str], np.ndarray]:
    """Community and the fired alerts (a bit per rule of ALERT_RULES) of each line."""
    community = [r["box_community"] or r["segment_community"] or r["unassigned_community"]
                 for r in records]
    status = _texts(records, "status")
    days, balance = _numbers(records, "days_to_agreement_end"), _numbers(records, "balance")
    prepaid, zero = _numbers(records, "prepaid"), _numbers(records, "zero_traffic")
    overdue, amount = _numbers(records, "arrears_days"), _numbers(records, "arrears_amount")
    distance = _numbers(records, "long_distance_change_pct")
    local, revenue = _numbers(records, "local_change_pct"), _numbers(records, "revenue_change_pct")
    active, keeps = status == "active", status == "suspended_keep_number"
    in_service = active | (status == "suspended")
    live = (status != "disconnected") & (status != "closed")  # unknown status: in service
    ending, small = (days >= 0) & (days <= 30), ~(amount >= 50_000)
    level_3 = keeps | (in_service & (zero == 1) & (overdue > 30))
    signal_2 = (zero == 1) | (distance <= -50) | (local <= -50) | (revenue <= -50)
    level_2 = in_service & signal_2 & ~level_3
    fired = [ending & live, (prepaid == 1) & (balance < 1_000) & live,
             (overdue >= 1) & (overdue <= 30) & small, (overdue >= 31) & (overdue <= 90) & small,
             (overdue > 90) | (amount >= 50_000), (zero == 1) & active, keeps,
             status == "disconnected", (distance <= -50) & live, (local <= -50) & live,
             ((revenue >= 50) | (revenue <= -50)) & live, level_3, level_2,
             in_service & (ending | (revenue <= -30)) & ~level_3 & ~signal_2]
    mask = np.zeros(len(records), np.int64)
    for bit, condition in enumerate(fired):
        mask |= condition.astype(np.int64) << bit
    return community, mask


def numpy_customers(records: Sequence[dict]) -> list[np.ndarray]:
    """Statistical and marketing attribute, service tier and lifecycle stage of each."""
    company = np.fromiter((bool(r["customer_name"] and COMPANY.search(r["customer_name"]))
                           for r in records), bool, len(records))
    bundle = np.fromiter((bool(r["main_product"] and r["main_product"].startswith("天翼e家"))
                          for r in records), bool, len(records))
    revenue_12m, lines = _numbers(records, "revenue_avg_12m"), _numbers(records, "line_count")
    key, prepaid_only = _numbers(records, "key_account"), _numbers(records, "prepaid_only")
    statistical = np.select(
        [(key == 1) | (revenue_12m >= 500_000), company | (lines >= 3), bundle,
         prepaid_only == 1], ["key_account", "business", "bundled", "transient"], "public")
    channel, card = _texts(records, "channel"), _texts(records, "vip_card")
    marketing = np.select(
        [statistical == "key_account",
         (statistical == "business") & (channel != "") & (channel != "business"),
         (statistical == "bundled") & (channel != "") & (channel != "bundled")],
        [_texts(records, "key_account_department"), _texts(records, "business_department"),
         _texts(records, "bundled_department")], _texts(records, "community"))
    percentile = _numbers(records, "revenue_percentile")
    tier = np.select([card == "diamond", card == "gold", card == "silver",
                      (card == "none") & (percentile >= 90)],
                     ["diamond", "gold", "silver", "mid_high_end"], "standard")
    tenure, change = _numbers(records, "tenure_months"), _numbers(records, "revenue_change_pct")
    stage = np.select([_numbers(records, "active_line_count") == 0, tenure < 6, change <= -30,
                       (tenure < 24) | (change >= 20)], ["E", "A", "D", "B"], "C")
    return [statistical, marketing, tier, stage]


# --- (b) the naive durable.lang version -----------------------------------------------------

@dataclass
class NaiveSink:
    """What the naive rules' actions wrote, by message id."""

    community: dict
    alerts: dict
    customer: dict


def define_naive_rulesets() -> NaiveSink:
    """The default rulesets as a newcomer writes them in durable's Python DSL.

    Learned the hard way: a catch-all on ``+m.id`` loops forever (the session state has
    an ``id`` too, so every action re-matches it), hence ``+m.key``; ``+m.fact`` matches
    a JSON null, so empty facts are left out of the message; durable's regular
    expressions match the whole text, know no ``\\s`` (a literal translation of the
    company-name rule never matches) and miss some alternations (``.*(店|酒店)`` does not
    match "酒店店"); a Decimal cannot be posted, so decimals go as floats.
    """
    from durable.lang import m, pri, ruleset, when_all

    sink = NaiveSink({}, {}, {})
    community, alerts, customer = sink.community, sink.alerts, sink.customer

    with ruleset("naive_attribution"):
        @when_all(pri(1), +m.box_community)
        def junction_box(c):
            community[c.m.id] = c.m.box_community

        @when_all(pri(2), +m.segment_community)
        def number_segment(c):
            community[c.m.id] = c.m.segment_community

        @when_all(pri(3), +m.key)
        def unassigned(c):
            community[c.m.id] = c.m.unassigned_community

    in_service = (m.status == "active") | (m.status == "suspended")
    live = ((m.status != "disconnected") & (m.status != "closed")) | -m.status
    zero = m.zero_traffic == True  # noqa: E712 (durable's DSL compares with ==)
    no_zero = (m.zero_traffic == False) | -m.zero_traffic  # noqa: E712
    revenue = m.revenue_change_pct
    ending = (m.days_to_agreement_end >= 0) & (m.days_to_agreement_end <= 30)
    small = (m.arrears_amount < 50_000) | -m.arrears_amount
    not_level_3 = no_zero | (m.arrears_days <= 30) | -m.arrears_days
    conditions = [
        ending & live, (m.prepaid == True) & (m.balance < 1_000) & live,  # noqa: E712
        (m.arrears_days >= 1) & (m.arrears_days <= 30) & small,
        (m.arrears_days >= 31) & (m.arrears_days <= 90) & small,
        (m.arrears_days > 90) | (m.arrears_amount >= 50_000),
        zero & (m.status == "active"), m.status == "suspended_keep_number",
        m.status == "disconnected", (m.long_distance_change_pct <= -50) & live,
        (m.local_change_pct <= -50) & live, ((revenue >= 50) | (revenue <= -50)) & live,
        (m.status == "suspended_keep_number") | (in_service & zero & (m.arrears_days > 30)),
        in_service & (zero | (m.long_distance_change_pct <= -50) | (m.local_change_pct <= -50)
                      | (revenue <= -50)) & not_level_3,
        in_service & (ending | (revenue <= -30)) & not_level_3 & no_zero
        & ((m.long_distance_change_pct > -50) | -m.long_distance_change_pct)
        & ((m.local_change_pct > -50) | -m.local_change_pct) & ((revenue > -50) | -revenue),
    ]

    def raise_alert(bit: int) -> Callable[[Any], None]:
        def action(c: Any) -> None:
            alerts[c.m.id] = alerts.get(c.m.id, 0) | 1 << bit
        return action

    with ruleset("naive_alerts"):
        for bit, condition in enumerate(conditions):
            when_all(condition)(raise_alert(bit))
        when_all(pri(100), +m.key)(lambda c: None)

    def decide(output: str, value: str | None = None, fact: str | None = None) -> Callable:
        def action(c: Any) -> None:
            customer[output, c.m.id] = value if fact is None else c.m[fact]
        return action

    company = ".*(公司|厂|店|酒店|宾馆|中心|学校|医院|银行|事务所|合作社)[ \t\r\n]*"
    with ruleset("naive_statistical_attribute"):
        out = "statistical_attribute"
        when_all(pri(1), (m.key_account == True) | (m.revenue_avg_12m >= 500_000))(  # noqa: E712
            decide(out, "key_account"))
        when_all(pri(2), m.customer_name.matches(company) | (m.line_count >= 3))(
            decide(out, "business"))
        when_all(pri(3), m.main_product.matches("天翼e家.*"))(decide(out, "bundled"))
        when_all(pri(4), m.prepaid_only == True)(decide(out, "transient"))  # noqa: E712
        when_all(pri(5), +m.key)(decide(out, "public"))

    with ruleset("naive_marketing_attribute"):
        out = "marketing_attribute"
        when_all(pri(1), m.statistical_attribute == "key_account")(
            decide(out, fact="key_account_department"))
        when_all(pri(2), (m.statistical_attribute == "business") & (m.channel != "business"))(
            decide(out, fact="business_department"))
        when_all(pri(3), (m.statistical_attribute == "bundled") & (m.channel != "bundled"))(
            decide(out, fact="bundled_department"))
        when_all(pri(4), +m.key)(decide(out, fact="community"))

    with ruleset("naive_service_tier"):
        for number, card in enumerate(["diamond", "gold", "silver"], start=1):
            when_all(pri(number), m.vip_card == card)(decide("service_tier", card))
        when_all(pri(4), (m.vip_card == "none") & (m.revenue_percentile >= 90))(
            decide("service_tier", "mid_high_end"))
        when_all(pri(5), +m.key)(decide("service_tier", "standard"))

    with ruleset("naive_lifecycle_stage"):
        out = "lifecycle_stage"
        when_all(pri(1), m.active_line_count == 0)(decide(out, "E"))
        when_all(pri(2), m.tenure_months < 6)(decide(out, "A"))
        when_all(pri(3), m.revenue_change_pct <= -30)(decide(out, "D"))
        when_all(pri(4), (m.tenure_months < 24) | (m.revenue_change_pct >= 20))(
            decide(out, "B"))
        when_all(pri(5), +m.key)(decide(out, "C"))
    return sink


def _message(record: dict, number: int) -> dict:
    """The record as durable takes it: JSON types only, empty facts left out."""
    message: dict[str, Any] = {"id": str(number)}
    for name, value in record.items():
        if value is None or value == "":
            continue
        if isinstance(value, Decimal):
            value = float(value)
        elif isinstance(value, date):
            value = value.isoformat()
        message[name] = value
    return message


def naive_subscribers(records: Sequence[dict]) -> int:
    from durable.lang import assert_fact, post, retract_fact

    lost = 0
    for number, record in enumerate(records):
        message = _message(record, number)
        try:
            post("naive_attribution", message)
            assert_fact("naive_alerts", message)
            retract_fact("naive_alerts", message)
        except Exception:  # MessageObservedException: the 32-bit id hash collided
            lost += 1
    return lost


def naive_customers(records: Sequence[dict], sink: NaiveSink) -> int:
    from durable.lang import post

    lost = 0
    for number, record in enumerate(records):
        message = _message(record, number)
        try:
            post("naive_statistical_attribute", message)
            message["statistical_attribute"] = sink.customer["statistical_attribute",
                                                             message["id"]]
            for name in ("marketing_attribute", "service_tier", "lifecycle_stage"):
                post(f"naive_{name}", message)
        except Exception:
            lost += 1
    return lost


# --- measuring -------------------------------------------------------------------------------

@dataclass
class Measure:
    records: int = 0
    seconds: float = 0.0
    peak_rss: int = 0
    start_rss: int = 0
    #: CPU seconds used by this process and by its children (the workers).
    own_cpu: float = 0.0
    children_cpu: float = 0.0
    #: CPU seconds used meanwhile by processes outside this benchmark (other jobs).
    foreign_cpu: float = 0.0
    parts: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.records / self.seconds


@contextmanager
def measured(measure: Measure, label: str, records: int) -> Iterator[None]:
    """Time the block, sample the resident memory of this process and its children, and
    the CPU that other processes took meanwhile."""
    me, done, cpu = psutil.Process(), threading.Event(), {}

    def sample() -> None:
        total = 0
        for process in [me, *me.children(recursive=True)]:
            with suppress(psutil.Error):  # it may have just ended
                total += process.memory_info().rss
                times = process.cpu_times()
                cpu.setdefault(process.pid, [times.user + times.system])[1:] = [
                    times.user + times.system]
        measure.peak_rss = max(measure.peak_rss, total)
        measure.start_rss = measure.start_rss or total

    def sampling() -> None:
        while not done.wait(0.05):
            sample()

    sample()
    sampler = threading.Thread(target=sampling, daemon=True)
    busy, started = machine_cpu_seconds(), time.perf_counter()
    sampler.start()
    try:
        yield
    finally:
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        sample()
        used = {pid: times[-1] - times[0] for pid, times in cpu.items()}
        own, children = used.pop(me.pid), sum(used.values())
        measure.foreign_cpu += max(machine_cpu_seconds() - busy - own - children, 0.0)
        measure.own_cpu += own
        measure.children_cpu += children
        measure.seconds += seconds
        measure.records += records
        measure.parts[label] = records / seconds


def agreement(label: str, expected: list, actual: list, records: Sequence[dict]) -> float:
    """Share of records with the same decisions; prints a few that differ."""
    same = sum(e == a for e, a in zip(expected, actual, strict=True))
    print(f"  {label:<44} {same:>7,} / {len(expected):,} agree ({same / len(expected):.2%})")
    differ = ((e, a, r) for e, a, r in zip(expected, actual, records, strict=False) if e != a)
    for e, a, record in islice(differ, 3):
        facts = {k: v for k, v in record.items() if v is not None}
        print(f"    record {record['key']}: {_show(e)} vs {_show(a)}\n      facts {facts}")
    return same / len(expected)


def _show(decisions: Decisions) -> str:
    return str(tuple([rule for bit, rule in enumerate([*ALERT_RULES, "another rule"])
                      if item >> bit & 1]
                     if isinstance(item, int) else item for item in decisions))


def line(label: str, measure: Measure, note: str = "") -> str:
    parts = ", ".join(f"{name} {rate:,.0f}/s" for name, rate in measure.parts.items())
    text = (f"  {label:<34} {measure.records:>10,} {measure.seconds:>7.1f} s "
            f"{measure.rate:>9,.0f} /s {measure.peak_rss / 2**20:>7,.0f} "
            f"{(measure.peak_rss - measure.start_rss) / 2**20:>+6,.0f} MiB  ({parts})")
    if measure.children_cpu:
        text += (f"\n  {'':34} CPU: this process {measure.own_cpu:,.0f} s, workers "
                 f"{measure.children_cpu:,.0f} s")
    others = measure.foreign_cpu / measure.seconds
    if others > 0.1:
        text += f"\n  {'':34} other processes took {others:.1f} of the CPUs meanwhile!"
    return text + (f"\n  {'':34} {note}" if note else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000,
                        help="records of each subject (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="50,000 records of each")
    parser.add_argument("--naive-records", type=int, default=20_000,
                        help="records of each subject through (b), checked for agreement")
    parser.add_argument("--one-core-records", type=int, default=200_000,
                        help="records of each subject through (a) on one core")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    begun, n = time.perf_counter(), 50_000 if args.quick else args.records
    sample, one_core_n = min(args.naive_records, n), min(args.one_core_records, n)
    programs = default_programs()
    print(f"{n:,} subscriber + {n:,} customer records, as of {AS_OF}; {psutil.cpu_count()} "
          f"CPUs, Python {sys.version.split()[0]}, numpy {np.__version__}")
    for subject, program in programs.items():
        print(f"  {subject} rulesets: {', '.join(r.name for r in program.rulesets)}")
    started = time.perf_counter()
    population = {Subject.SUBSCRIBER: make_subscribers(n, args.seed),
                  Subject.CUSTOMER: make_customers(n, args.seed)}
    print(f"  generated in {time.perf_counter() - started:.1f} s; resident memory with the "
          f"records: {psutil.Process().memory_info().rss / 2**20:,.0f} MiB\n")
    # A run holds one batch, not millions of records: keep the garbage collector from
    # walking them over and over (it took a third of the parent's CPU at 1M records).
    gc.collect()
    gc.freeze()

    by_hand, decided = Measure(), {}
    for subject, records in population.items():
        with measured(by_hand, f"{subject}s", n):
            decided[subject] = (numpy_subscribers if subject is Subject.SUBSCRIBER
                                else numpy_customers)(records)
    community, mask = decided[Subject.SUBSCRIBER]
    expected = {Subject.SUBSCRIBER: [(community[i], int(mask[i])) for i in range(sample)],
                Subject.CUSTOMER: [tuple(str(column[i]) for column in decided[Subject.CUSTOMER])
                                   for i in range(sample)]}

    print(f"agreement on the first {sample:,} records of each subject:")
    engine, rates, errors = {}, [], 0
    parallel, built, one_core = Measure(), Measure(), Measure()
    for subject, program in programs.items():  # one pool at a time, as a run has
        with ParallelEvaluator(program, processes=2) as evaluator:
            records = population[subject]
            engine[subject] = [engine_decisions(subject, result)  # also warms the workers
                               for result in evaluator.evaluate(records[:sample], AS_OF)]
            rates.append(agreement(f"{subject}s: (a) engine vs (c) numpy", engine[subject],
                                   expected[subject], records[:sample]))
            with measured(parallel, f"{subject}s", n):
                errors += run_engine(evaluator, records)
            with measured(built, f"{subject}s", one_core_n):
                run_engine(evaluator, records[:one_core_n], build=True)
    for subject, program in programs.items():
        with ParallelEvaluator(program, processes=0) as evaluator, \
                measured(one_core, f"{subject}s", one_core_n):
            errors += run_engine(evaluator, population[subject][:one_core_n])

    sink, naive, lost = define_naive_rulesets(), Measure(), 0
    with measured(naive, "subscribers", sample):
        lost += naive_subscribers(population[Subject.SUBSCRIBER][:sample])
    with measured(naive, "customers", sample):
        lost += naive_customers(population[Subject.CUSTOMER][:sample], sink)
    naive_decided = {
        Subject.SUBSCRIBER: [(sink.community.get(str(i)), sink.alerts.get(str(i), 0))
                             for i in range(sample)],
        Subject.CUSTOMER: [tuple(sink.customer.get((output, str(i)))
                                 for output in OUTPUTS[Subject.CUSTOMER])
                           for i in range(sample)]}
    for subject, records in population.items():
        rates.append(agreement(f"{subject}s: (a) engine vs (b) naive durable", engine[subject],
                               naive_decided[subject], records[:sample]))
    print(f"  lowest agreement {min(rates):.2%}; records (b) lost: {lost}; records (a) could "
          f"not decide: {errors}")
    if min(rates) < 1:
        print("  WARNING: the three ways do not decide the same: the ratios below compare "
              "different answers")

    print(f"\n  {'':34} {'records':>10} {'time':>9} {'rate':>12} {'peak RSS, growth':>18}")
    print(line("(a) engine, 2 worker processes", parallel))
    print(line("(a) same, every RecordResult built", built,
               "" if one_core_n == n else f"first {one_core_n:,} of each subject"))
    print(line("(a) engine, 1 process", one_core,
               "" if one_core_n == n else f"first {one_core_n:,} of each subject"))
    print(line("(b) naive durable.lang, 1 process", naive,
               f"first {sample:,} of each subject; rate extrapolated to {n:,}"))
    print(line("(c) numpy by hand, 1 process", by_hand,
               "columns built from the record dicts included"))
    print(f"\n  (a)/(b) = {parallel.rate / naive.rate:.1f}x with 2 processes (target: 5x), "
          f"{one_core.rate / naive.rate:.1f}x with 1")
    print(f"  (a)/(c) = {parallel.rate / by_hand.rate:.3f}x (numpy by hand is "
          f"{by_hand.rate / parallel.rate:.0f}x faster)")
    print(f"  whole run {time.perf_counter() - begun:.0f} s")


if __name__ == "__main__":
    main()
