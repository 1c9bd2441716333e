"""The demo province's customers and subscriber lines, streamed chunk by chunk.

Distributions follow what an operator's data looks like: most customers have one line
and a few have hundreds; revenue is long-tailed; tenure spans 0-20 years; a few percent
are in arrears, prepaid with a low balance, suspended or disconnected; some lines have
no traffic; revenue histories rise and decline.
"""

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from engine.months import add_months
from webapp.demo.province import LINES_PER_PREFIX, BillingAreaPlan

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韦覃蒙黎陆"
GIVEN = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建文玲"
TRADES = ["贸易", "物流", "建材", "餐饮", "电子", "医药", "机械", "食品", "科技", "酒店", "广告"]
ROADS = ["民族大道", "友爱路", "朝阳路", "东葛路", "星湖路", "桃源路", "解放路", "园湖路"]
PRODUCTS = ["天翼e家-129", "天翼e家-199", "固话基础套餐", "宽带100M", "宽带500M",
            "商务领航-298", "政企专线", "公话", "IC卡电话"]
STATUSES = ["active", "suspended", "suspended_keep_number", "disconnected", "closed"]
STATUS_P = [0.88, 0.03, 0.03, 0.04, 0.02]
SIZES = [1, 2, 3, 4, 6, 9, 15, 30, 80, 250]
SIZE_P = [0.80, 0.09, 0.04, 0.025, 0.015, 0.01, 0.01, 0.006, 0.003, 0.001]
#: Share of a line's revenue per category (local, long distance, international, data,
#: value-added: the feed's column order), and yuan per traffic unit of each.
SHARES = (0.35, 0.15, 0.02, 0.40, 0.08)
DOMESTIC_SHARES = (0.35, 0.15, 0.0, 0.42, 0.08)
PRICES = (0.1, 0.3, 2.0, 0.01, 2.0)
MONTHS = 13


@dataclass
class Line:
    """One generated subscriber line with everything the feeds need."""

    row: dict[str, str]
    box: str | None
    arrears: tuple[int, int] | None
    revenue: list[list[str] | None]


@dataclass
class Customer:
    contract_number: str
    lines: list[Line]
    vip_card: str
    key_account: bool


class Population:
    """Generates customers; numbering stays unique across chunks."""

    def __init__(self, areas: list[BillingAreaPlan], as_of: date,
                 rng: random.Random) -> None:
        self.areas = areas
        self.as_of = as_of
        self.rng = rng
        self.months = [add_months(as_of.replace(day=1), offset - MONTHS)
                       for offset in range(MONTHS)]
        self.month_labels = [(month.strftime("%Y-%m"), add_months(month, 1))
                             for month in self.months]
        self.next_regular = dict.fromkeys((area.code for area in areas), 0)
        self.next_segment = {(area.code, index): 0 for area in areas
                             for index in range(len(area.segments))}
        self.contracts = 0

    def customers(self, subscribers: int) -> Iterator[Customer]:
        remaining = subscribers
        while remaining > 0:
            size = min(remaining, self.rng.choices(SIZES, SIZE_P)[0])
            remaining -= size
            yield self._customer(size)

    def _customer(self, size: int) -> Customer:
        rng = self.rng
        self.contracts += 1
        area = rng.choice(self.areas)
        business = size > 1 and rng.random() < 0.8
        name = _company_name(rng, area) if business else _person_name(rng)
        use_segment = business and size >= 9 and rng.random() < 0.6
        segment = rng.randrange(len(area.segments))
        scale = 3.0 if business else 1.0
        lines = [self._line(area, name, f"HT{self.contracts:010d}", use_segment, segment, scale)
                 for _ in range(size)]
        vip = rng.choices(["none", "silver", "gold", "diamond"], [0.95, 0.03, 0.015, 0.005])[0]
        monthly = sum(float(line.row["_arpu"]) for line in lines)
        for line in lines:
            del line.row["_arpu"]
        return Customer(f"HT{self.contracts:010d}", lines, str(vip),
                        key_account=size >= 30 or monthly > 20_000)

    def _number(self, area: BillingAreaPlan, use_segment: bool, segment: int) -> str:
        key = (area.code, segment)
        if use_segment and self.next_segment[key] < 10_000:
            start = area.segments[segment][0]
            number = int(start) + self.next_segment[key]
            self.next_segment[key] += 1
            return str(number)
        offset = self.next_regular[area.code]
        self.next_regular[area.code] += 1
        if offset >= LINES_PER_PREFIX // 2:
            raise ValueError("demo population too large for its numbering plan")
        return f"{area.prefix}{offset:07d}"

    def _line(self, area: BillingAreaPlan, name: str, contract: str, use_segment: bool,
              segment: int, scale: float) -> Line:
        rng = self.rng
        tenure_days = int(min(rng.expovariate(1 / (5 * 365)), 20 * 365))
        installed = self.as_of - timedelta(days=tenure_days)
        status = rng.choices(STATUSES, STATUS_P)[0]
        prepaid = rng.random() < 0.15
        balance = ""
        if prepaid:
            low = rng.random() < 0.2
            balance = _yuan(rng.randrange(0, 1_000) if low else rng.randrange(1_000, 50_000))
        agreement = ""
        if rng.random() < 0.4:
            end = self.as_of + timedelta(days=rng.randrange(-180, 730))
            agreement = max(end, installed + timedelta(days=30)).isoformat()
        arpu = rng.lognormvariate(math.log(45 * scale), 0.9)
        row = {
            "service_number": self._number(area, use_segment, segment),
            "name": name,
            "install_address": f"{area.name}{rng.choice(ROADS)}"
                               f"{rng.randrange(1, 400)}号",
            "status": status,
            "contract_number": contract,
            "billing_area_code": area.code,
            "install_date": installed.isoformat(),
            "product": rng.choice(PRODUCTS),
            "prepaid": "1" if prepaid else "0",
            "balance": balance,
            "agreement_end_date": agreement,
            "_arpu": f"{arpu:.2f}",
        }
        box = rng.choice(area.boxes)[0] if rng.random() < 0.92 else None
        arrears = None
        if rng.random() < 0.04:
            arrears = (int(rng.lognormvariate(math.log(8_000), 1.0)), rng.randrange(1, 181))
        return Line(row, box, arrears, self._history(arpu, installed, status))

    def _history(self, arpu: float, installed: date, status: str) -> list[list[str] | None]:
        """Revenue rows (without the service number) per month; None before installation."""
        rng = self.rng
        trend = rng.choices([0.0, -0.06, 0.05], [0.75, 0.15, 0.10])[0] * rng.uniform(0.5, 1.5)
        silent_from = MONTHS
        if status in ("disconnected", "closed"):
            silent_from = MONTHS - rng.randrange(1, 4)
        elif rng.random() < 0.03:
            silent_from = MONTHS - 1
        shares = SHARES if rng.random() < 0.05 else DOMESTIC_SHARES
        history: list[list[str] | None] = []
        for index, (label, month_end) in enumerate(self.month_labels):
            if month_end <= installed:
                history.append(None)
                continue
            factor = (1 + trend) ** (index - MONTHS + 1) * rng.uniform(0.85, 1.15)
            revenue = 0.0 if index >= silent_from else arpu * factor
            amounts = [revenue * share for share in shares]
            traffic = [int(amount / price) for amount, price in zip(amounts, PRICES, strict=True)]
            history.append([label, *(f"{amount:.2f}" for amount in amounts), *map(str, traffic)])
        return history


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randrange(1, 3)))


def _company_name(rng: random.Random, area: BillingAreaPlan) -> str:
    words = "".join(rng.choices(GIVEN, k=2))
    return f"{area.name}{words}{rng.choice(TRADES)}有限公司"


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
