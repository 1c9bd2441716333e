"""One row schema per feed: the columns a feed file has, and what each must hold.

Attribute names are the staged column names (and, where they match, the stored ones);
``data_key`` is the CSV header where the two differ (money in yuan → ``*_cents``).
"""

from typing import Any

from marshmallow import ValidationError

from engine.domain import Channel, OrgKind, SubscriberStatus, VipCard
from webapp.feeds.fields import (
    Choice,
    Code,
    Count,
    Day,
    Flag,
    Money,
    Month,
    ServiceNumber,
    Text,
)
from webapp.feeds.rows import FeedSchema

#: Labels the operator's own exports use, accepted beside the codes.
STATUS_LABELS = {
    "在用": "active",
    "停机": "suspended",
    "停机保号": "suspended_keep_number",
    "拆机": "disconnected",
    "销户": "closed",
}
VIP_LABELS = {"无": "none", "银卡": "silver", "金卡": "gold", "钻石卡": "diamond"}
CHANNEL_LABELS = {
    "公众": "public",
    "商业": "business",
    "大客户": "key_account",
    "统包": "bundled",
    "流动": "transient",
}


class OrgUnitRow(FeedSchema):
    code = Code(40, required=True)
    name = Text(100, required=True)
    kind = Choice(OrgKind, required=True)
    parent_code = Code(40)
    channel = Choice(Channel, CHANNEL_LABELS)


class BillingAreaRow(FeedSchema):
    code = Code(required=True)
    name = Text(100, required=True)
    city_code = Code(40, required=True)


class JunctionBoxRow(FeedSchema):
    code = Code(required=True)
    billing_area_code = Code(required=True)
    community_code = Code(40, required=True)


class NumberSegmentRow(FeedSchema):
    range_start = ServiceNumber(required=True)
    range_end = ServiceNumber(required=True)
    billing_area_code = Code(required=True)
    community_code = Code(40, required=True)

    def check_row(self, row: dict[str, Any]) -> None:
        start, end = row["range_start"], row["range_end"]
        if len(start) != len(end):
            raise ValidationError("must have as many digits as range_start", "range_end")
        if start > end:
            raise ValidationError("must not be below range_start", "range_end")


class SubscriberRow(FeedSchema):
    service_number = ServiceNumber(required=True)
    name = Text(200, required=True)
    install_address = Text(500)
    status = Choice(SubscriberStatus, STATUS_LABELS, required=True)
    contract_number = Code(required=True)
    billing_area_code = Code(required=True)
    install_date = Day(required=True)
    product = Text(100)
    prepaid = Flag(required=True)
    balance_cents = Money(data_key="balance", allow_negative=True)
    agreement_end_date = Day()

    def check_row(self, row: dict[str, Any]) -> None:
        end = row["agreement_end_date"]
        if end is not None and end < row["install_date"]:
            raise ValidationError("is before install_date", "agreement_end_date")


class ArrearsRow(FeedSchema):
    service_number = ServiceNumber(required=True)
    arrears_cents = Money(data_key="arrears_amount", required=True)
    arrears_days = Count(maximum=36_500, required=True)


class LinePlantRow(FeedSchema):
    service_number = ServiceNumber(required=True)
    junction_box_code = Code(required=True)


class RevenueRow(FeedSchema):
    service_number = ServiceNumber(required=True)
    month = Month(required=True)
    local_revenue_cents = Money(data_key="local_revenue", required=True)
    long_distance_revenue_cents = Money(data_key="long_distance_revenue", required=True)
    international_revenue_cents = Money(data_key="international_revenue", required=True)
    data_revenue_cents = Money(data_key="data_revenue", required=True)
    value_added_revenue_cents = Money(data_key="value_added_revenue", required=True)
    local_minutes = Count(maximum=500_000, required=True)
    long_distance_minutes = Count(maximum=500_000, required=True)
    international_minutes = Count(maximum=500_000, required=True)
    data_mb = Count(maximum=100_000_000, required=True)
    value_added_uses = Count(maximum=1_000_000, required=True)


class KeyAccountRow(FeedSchema):
    contract_number = Code(required=True)
    key_account_code = Code(required=True)
    account_manager = Text(100)


class VipCardRow(FeedSchema):
    contract_number = Code(required=True)
    vip_card = Choice(VipCard, VIP_LABELS, required=True)
