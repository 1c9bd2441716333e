"""The feeds the service imports, in the order a fresh installation loads them."""

from sqlalchemy import ColumnElement, FromClause

from webapp.feeds import customers, line_plant, org_tree, schemas, snapshots
from webapp.feeds.spec import Feed, Lookup
from webapp.models import (
    BillingArea,
    Customer,
    JunctionBox,
    NumberSegment,
    OrgUnit,
    Subscriber,
    SubscriberMonth,
)

_unit = OrgUnit.__table__
_area = BillingArea.__table__
_subscriber = Subscriber.__table__
_customer = Customer.__table__


def _community(table: FromClause) -> ColumnElement[bool]:
    return table.c.kind == "community"


_AREA = Lookup("billing_area_code", _area, "billing area", target="billing_area_id")
_COMMUNITY = Lookup("community_code", _unit, "community", target="community_id",
                    where=_community)
_KNOWN_SUBSCRIBER = Lookup("service_number", _subscriber, "service number",
                           match="service_number",
                           hint=" (import it with the subscribers feed first)")
_KNOWN_CONTRACT = Lookup("contract_number", _customer, "contract number",
                         match="contract_number",
                         hint=" (no subscriber has it: import the subscribers feed first)")

FEEDS: dict[str, Feed] = {
    feed.name: feed
    for feed in (
        Feed(
            name="org-units",
            title="Organisation tree: province, cities, centres, departments, areas, communities.",
            schema=schemas.OrgUnitRow,
            table=_unit,
            key=("code",),
            match=("code",),
            values=("name", "kind", "channel", "parent_id"),
            lookups=(Lookup("parent_code", _unit.alias("parent"), "org unit",
                            target="parent_id", check=False, outer=True),),
            checks=(org_tree.reject_bad_org_tree,),
            queues_everyone_on=("kind", "channel", "parent_id"),
            after_merge=org_tree.attach_new_parents,
        ),
        Feed(
            name="billing-areas",
            title="Billing areas of each city (creates their unassigned communities).",
            schema=schemas.BillingAreaRow,
            table=_area,
            key=("code",),
            match=("code",),
            values=("name", "city_id"),
            lookups=(Lookup("city_code", _unit, "city branch", target="city_id",
                            where=lambda table: table.c.kind == "city"),),
            queues_everyone_on=("city_id",),
            after_merge=org_tree.sync_unassigned_communities,
        ),
        Feed(
            name="junction-boxes",
            title="Junction boxes: box code → billing area and community.",
            schema=schemas.JunctionBoxRow,
            table=JunctionBox.__table__,
            key=("code",),
            match=("code",),
            values=("billing_area_id", "community_id"),
            lookups=(_AREA, _COMMUNITY),
            before_merge=line_plant.queue_lines_of_remapped_boxes,
        ),
        Feed(
            name="number-segments",
            title="Number segments: service-number range → billing area and community.",
            schema=schemas.NumberSegmentRow,
            table=NumberSegment.__table__,
            key=("range_start",),
            match=("range_start",),
            values=("range_end", "billing_area_id", "community_id"),
            lookups=(_AREA, _COMMUNITY),
            checks=(line_plant.reject_overlapping_segments,),
            before_merge=line_plant.queue_lines_of_remapped_segments,
        ),
        Feed(
            name="subscribers",
            title="Subscriber lines from billing (daily); new contracts create customers.",
            schema=schemas.SubscriberRow,
            table=_subscriber,
            key=("service_number",),
            match=("service_number",),
            values=("name", "install_address", "status", "contract_number", "billing_area_id",
                    "install_date", "product", "prepaid", "balance_cents",
                    "agreement_end_date", "customer_id"),
            lookups=(_AREA, Lookup("contract_number", _customer, "customer",
                                   target="customer_id", match="contract_number",
                                   check=False)),
            subject="subscriber",
            before_merge=customers.attach_customers,
        ),
        Feed(
            name="arrears",
            title="Current arrears: every subscriber in arrears (daily; others are cleared).",
            schema=schemas.ArrearsRow,
            table=_subscriber,
            key=("service_number",),
            match=("service_number",),
            values=("arrears_cents", "arrears_days"),
            lookups=(_KNOWN_SUBSCRIBER,),
            inserts=False,
            subject="subscriber",
            after_merge=snapshots.reset_absent(
                "subscriber", _subscriber, "service_number",
                (_subscriber.c.arrears_cents != 0) | (_subscriber.c.arrears_days != 0),
                {"arrears_cents": 0, "arrears_days": 0}, "subscribers in arrears"),
        ),
        Feed(
            name="line-plant",
            title="Junction box of each subscriber line (weekly).",
            schema=schemas.LinePlantRow,
            table=_subscriber,
            key=("service_number",),
            match=("service_number",),
            values=("junction_box_code",),
            lookups=(_KNOWN_SUBSCRIBER,
                     Lookup("junction_box_code", JunctionBox.__table__, "junction box")),
            inserts=False,
            subject="subscriber",
        ),
        Feed(
            name="revenue",
            title="Monthly revenue and traffic per subscriber, by category (monthly).",
            schema=schemas.RevenueRow,
            table=SubscriberMonth.__table__,
            key=("service_number", "month"),
            match=("subscriber_id", "month"),
            values=tuple(
                name for name in schemas.RevenueRow.feed_fields()
                if name not in {"service_number", "month"}
            ),
            lookups=(Lookup("service_number", _subscriber, "service number",
                            target="subscriber_id", match="service_number",
                            hint=" (import it with the subscribers feed first)"),),
            subject="subscriber",
            subject_column="subscriber_id",
        ),
        Feed(
            name="key-accounts",
            title="The complete key-account list, by contract number (as it changes).",
            schema=schemas.KeyAccountRow,
            table=_customer,
            key=("contract_number",),
            match=("contract_number",),
            values=("key_account_code", "account_manager"),
            lookups=(_KNOWN_CONTRACT,),
            inserts=False,
            subject="customer",
            after_merge=snapshots.reset_absent(
                "customer", _customer, "contract_number", _customer.c.key_account_code.is_not(None),
                {"key_account_code": None, "account_manager": None}, "key accounts"),
        ),
        Feed(
            name="vip-cards",
            title="VIP card level per customer, by contract number (as it changes).",
            schema=schemas.VipCardRow,
            table=_customer,
            key=("contract_number",),
            match=("contract_number",),
            values=("vip_card",),
            lookups=(_KNOWN_CONTRACT,),
            inserts=False,
            subject="customer",
        ),
    )
}
