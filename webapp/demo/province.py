"""The demo province's organisation tree, billing areas and line plant.

Small and fixed in shape (about 200 communities whatever the population); the number of
junction boxes grows with the population so that boxes stay realistically full.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from engine.domain import Channel

CITIES = [  # code, name, billing areas (code, name, number prefix)
    ("NN", "南宁市电信分公司", [("NN01", "南宁城区", "7710"), ("NN02", "武鸣", "7711")]),
    ("LZ", "柳州市电信分公司", [("LZ01", "柳州城区", "7720"), ("LZ02", "柳江", "7721")]),
    ("GL", "桂林市电信分公司", [("GL01", "桂林城区", "7730"), ("GL02", "阳朔", "7731")]),
    ("WZ", "梧州市电信分公司", [("WZ01", "梧州城区", "7740"), ("WZ02", "岑溪", "7741")]),
]
CENTRES = [("C1", "城东中心"), ("C2", "城西中心")]
DEPARTMENTS = {  # channel: (code suffix, name, communities per area)
    Channel.PUBLIC: ("PUB", "公众客户部", 4),
    Channel.BUSINESS: ("BIZ", "商业客户部", 3),
    Channel.KEY_ACCOUNT: ("KA", "大客户部", 1),
    Channel.BUNDLED: ("BDL", "统包客户部", 2),
    Channel.TRANSIENT: ("TRN", "流动客户部", 1),
}
#: Channels whose communities are reached through junction boxes (street plant).
BOX_CHANNELS = (Channel.PUBLIC, Channel.BUSINESS, Channel.BUNDLED)
#: Channels served through number segments (trunk and key-account numbering).
SEGMENT_CHANNELS = (Channel.KEY_ACCOUNT, Channel.BUSINESS)
SUBSCRIBERS_PER_BOX = 120
LINES_PER_PREFIX = 10_000_000


@dataclass
class BillingAreaPlan:
    code: str
    name: str
    city_code: str
    prefix: str
    #: Communities of this area by channel (the area's half of its city's communities).
    communities: dict[Channel, list[str]] = field(default_factory=dict)
    boxes: list[tuple[str, str]] = field(default_factory=list)
    segments: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class ProvincePlan:
    org_rows: list[dict[str, str]]
    areas: list[BillingAreaPlan]


def plan_province(subscribers: int, rng: random.Random) -> ProvincePlan:
    """The org tree and, per billing area, its communities, boxes and number segments."""
    rows = [{"code": "PRV", "name": "示范省电信有限公司", "kind": "province",
             "parent_code": "", "channel": ""}]
    areas: list[BillingAreaPlan] = []
    for city_code, city_name, billing_areas in CITIES:
        rows.append(_unit(city_code, city_name, "city", "PRV"))
        city_areas = [BillingAreaPlan(code, name, city_code, prefix)
                      for code, name, prefix in billing_areas]
        for index, (centre_suffix, centre_name) in enumerate(CENTRES):
            centre = f"{city_code}-{centre_suffix}"
            rows.append(_unit(centre, city_name[:2] + centre_name, "centre", city_code))
            served = city_areas[index % len(city_areas)]
            for channel, (suffix, dept_name, per_area) in DEPARTMENTS.items():
                dept = f"{centre}-{suffix}"
                rows.append(_unit(dept, centre_name + dept_name, "department", centre, channel))
                for area_no in (1, 2):
                    area = f"{dept}-A{area_no}"
                    rows.append(_unit(area, f"{centre_name}{dept_name}{area_no}片", "area",
                                      dept, channel))
                    for community_no in range(1, per_area + 1):
                        code = f"{area}-S{community_no}"
                        rows.append(_unit(code, f"{centre_name}{dept_name}{area_no}片"
                                      f"{community_no}社区", "community", area, channel))
                        served.communities.setdefault(channel, []).append(code)
        areas.extend(city_areas)
    total_boxes = max(len(areas), subscribers // SUBSCRIBERS_PER_BOX)
    for area in areas:
        _plan_plant(area, total_boxes // len(areas) + 1, rng)
    return ProvincePlan(rows, areas)


def _unit(code: str, name: str, kind: str, parent: str,
          channel: Channel | None = None) -> dict[str, str]:
    return {"code": code, "name": name, "kind": kind, "parent_code": parent,
            "channel": channel.value if channel else ""}


def _plan_plant(area: BillingAreaPlan, boxes: int, rng: random.Random) -> None:
    box_communities = [code for channel in BOX_CHANNELS for code in area.communities[channel]]
    for number in range(boxes):
        community = rng.choice(box_communities)
        area.boxes.append((f"JB-{area.code}-{number:05d}", community))
    segment_communities = [code for channel in SEGMENT_CHANNELS
                           for code in area.communities[channel]]
    # Ten blocks of 10,000 numbers in the upper part of the area's numbering go to
    # key-account and business communities, as trunk groups do.
    for block in range(10):
        start = LINES_PER_PREFIX // 2 + block * 200_000
        community = segment_communities[block % len(segment_communities)]
        area.segments.append((f"{area.prefix}{start:07d}", f"{area.prefix}{start + 9_999:07d}",
                              community))


def org_rows(plan: ProvincePlan) -> Iterator[dict[str, str]]:
    yield from plan.org_rows


def billing_area_rows(plan: ProvincePlan) -> Iterator[dict[str, str]]:
    for area in plan.areas:
        yield {"code": area.code, "name": area.name, "city_code": area.city_code}


def junction_box_rows(plan: ProvincePlan) -> Iterator[dict[str, str]]:
    for area in plan.areas:
        for code, community in area.boxes:
            yield {"code": code, "billing_area_code": area.code, "community_code": community}


def number_segment_rows(plan: ProvincePlan) -> Iterator[dict[str, str]]:
    for area in plan.areas:
        for start, end, community in area.segments:
            yield {"range_start": start, "range_end": end, "billing_area_code": area.code,
                   "community_code": community}
