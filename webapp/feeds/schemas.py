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

#: Header names of the operator's own exports, by column.
SERVICE_NUMBER = ("业务接入号", "业务号码", "接入号")
CONTRACT_NUMBER = ("合同号",)
BILLING_AREA = ("计费区域", "计费区域编码")
COMMUNITY = ("社区编码",)

CHANNEL_LABELS = {
    "公众": "public",
    "商业": "business",
    "大客户": "key_account",
    "统包": "bundled",
    "流动": "transient",
}


class OrgUnitRow(FeedSchema):
    code = Code(40, required=True, aliases=("编码", "部门编码"))
    name = Text(100, required=True, aliases=("名称", "部门名称"))
    kind = Choice(OrgKind, required=True, aliases=("类型", "层级"))
    parent_code = Code(40, aliases=("上级编码",))
    channel = Choice(Channel, CHANNEL_LABELS, aliases=("渠道",))


class BillingAreaRow(FeedSchema):
    code = Code(20, required=True, aliases=("计费区域编码",))
    name = Text(80, required=True, aliases=("计费区域名称",))
    city_code = Code(40, required=True, aliases=("分公司编码",))


class JunctionBoxRow(FeedSchema):
    code = Code(required=True, aliases=("交接箱号", "交接箱编码"))
    billing_area_code = Code(required=True, aliases=BILLING_AREA)
    community_code = Code(40, required=True, aliases=COMMUNITY)


class NumberSegmentRow(FeedSchema):
    range_start = ServiceNumber(required=True, aliases=("起始号码",))
    range_end = ServiceNumber(required=True, aliases=("终止号码",))
    billing_area_code = Code(required=True, aliases=BILLING_AREA)
    community_code = Code(40, required=True, aliases=COMMUNITY)

    def check_row(self, row: dict[str, Any]) -> None:
        start, end = row["range_start"], row["range_end"]
        if len(start) != len(end):
            raise ValidationError("must have as many digits as range_start", "range_end")
        if start > end:
            raise ValidationError("must not be below range_start", "range_end")


class SubscriberRow(FeedSchema):
    service_number = ServiceNumber(required=True, aliases=SERVICE_NUMBER)
    name = Text(200, required=True, aliases=("用户名称", "名称"))
    install_address = Text(500, aliases=("装机地址",))
    status = Choice(SubscriberStatus, STATUS_LABELS, required=True, aliases=("状态", "用户状态"))
    contract_number = Code(required=True, aliases=CONTRACT_NUMBER)
    billing_area_code = Code(required=True, aliases=BILLING_AREA)
    install_date = Day(required=True, aliases=("装机日期",))
    product = Text(100, aliases=("产品", "套餐"))
    prepaid = Flag(required=True, aliases=("预付费",))
    balance_cents = Money(data_key="balance", allow_negative=True, aliases=("余额",))
    agreement_end_date = Day(aliases=("协议到期日",))

    def check_row(self, row: dict[str, Any]) -> None:
        end = row["agreement_end_date"]
        if end is not None and end < row["install_date"]:
            raise ValidationError("is before install_date", "agreement_end_date")


class ArrearsRow(FeedSchema):
    service_number = ServiceNumber(required=True, aliases=SERVICE_NUMBER)
    arrears_cents = Money(data_key="arrears_amount", required=True, aliases=("欠费金额",))
    arrears_days = Count(maximum=36_500, required=True, aliases=("欠费天数",))


class LinePlantRow(FeedSchema):
    service_number = ServiceNumber(required=True, aliases=SERVICE_NUMBER)
    junction_box_code = Code(required=True, aliases=("交接箱号", "交接箱"))


class RevenueRow(FeedSchema):
    service_number = ServiceNumber(required=True, aliases=SERVICE_NUMBER)
    month = Month(required=True, aliases=("账期", "月份"))
    local_revenue_cents = Money(data_key="local_revenue", required=True, aliases=("市话收入",))
    long_distance_revenue_cents = Money(
        data_key="long_distance_revenue", required=True, aliases=("长话收入",)
    )
    international_revenue_cents = Money(
        data_key="international_revenue", required=True, aliases=("国际长途收入",)
    )
    data_revenue_cents = Money(data_key="data_revenue", required=True, aliases=("数据收入",))
    value_added_revenue_cents = Money(
        data_key="value_added_revenue", required=True, aliases=("增值业务收入",)
    )
    local_minutes = Count(maximum=500_000, required=True, aliases=("市话时长",))
    long_distance_minutes = Count(maximum=500_000, required=True, aliases=("长话时长",))
    international_minutes = Count(maximum=500_000, required=True, aliases=("国际长途时长",))
    data_mb = Count(maximum=100_000_000, required=True, aliases=("数据流量",))
    value_added_uses = Count(maximum=1_000_000, required=True, aliases=("增值业务次数",))


class KeyAccountRow(FeedSchema):
    contract_number = Code(required=True, aliases=CONTRACT_NUMBER)
    key_account_code = Code(required=True, aliases=("大客户编码",))
    account_manager = Text(100, aliases=("客户经理",))


class VipCardRow(FeedSchema):
    contract_number = Code(required=True, aliases=CONTRACT_NUMBER)
    vip_card = Choice(VipCard, VIP_LABELS, required=True, aliases=("VIP卡", "贵宾卡"))
