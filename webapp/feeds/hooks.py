"""Feed-specific checks and merge steps that the generic merge does not cover."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    String,
    Table,
    and_,
    cast,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union,
    update,
)

from engine.domain import CHANNEL_KINDS, PARENT_KIND, Channel, OrgKind
from webapp.feeds.spec import Hook, MergeContext
from webapp.feeds.staging import Staging
from webapp.models import (
    BillingArea,
    Customer,
    JunctionBox,
    NumberSegment,
    OrgUnit,
    Subscriber,
)
from webapp.models.changes import mark_changed

CHANNEL_NAMES_ZH = {
    Channel.PUBLIC: "公众客户",
    Channel.BUSINESS: "商业客户",
    Channel.KEY_ACCOUNT: "大客户",
    Channel.BUNDLED: "统包客户",
    Channel.TRANSIENT: "流动客户",
}


# --- subscribers -------------------------------------------------------------------

def attach_customers(ctx: MergeContext) -> None:
    """Flow 1: a known contract number joins its customer, an unknown one creates one.

    A customer losing a line is queued for re-evaluation; one gaining a line is covered by
    that line, which the merge queues as new or changed.
    """
    conn, stage, now = ctx.conn, ctx.staging.table, ctx.now
    customer, subscriber = Customer.__table__, Subscriber.__table__
    leaving = select(subscriber.c.customer_id).join(
        stage, stage.c.service_number == subscriber.c.service_number
    ).where(subscriber.c.contract_number != stage.c.contract_number)
    mark_changed(conn, "customer", leaving, now)
    new_customers = (
        select(literal("C") + stage.c.contract_number, stage.c.contract_number,
               func.min(stage.c.name), literal(now, DateTime(timezone=True)))
        .where(~exists().where(customer.c.contract_number == stage.c.contract_number))
        .group_by(stage.c.contract_number)
        .order_by(stage.c.contract_number)
    )
    created = conn.execute(
        insert(customer).from_select(["code", "contract_number", "name", "created_at"],
                                     new_customers)
    ).rowcount
    if created:
        ctx.notes.append(f"new customers: {created:,}")


# --- billing areas -----------------------------------------------------------------

def sync_unassigned_communities(ctx: MergeContext) -> None:
    """Give every billing area its unassigned community in each channel.

    They sit under the area's city and carry its name: an area that moves to another
    city or is renamed takes them along.
    """
    conn = ctx.conn
    area, unit = BillingArea.__table__, OrgUnit.__table__
    created = 0
    for channel in Channel:
        name = area.c.name + literal(f"{CHANNEL_NAMES_ZH[channel]}未分配社区")
        own = and_(unit.c.unassigned_billing_area_id == area.c.id,
                   unit.c.channel == channel.value)
        conn.execute(
            update(unit)
            .where(own, or_(unit.c.parent_id != area.c.city_id, unit.c.name != name))
            .values(parent_id=area.c.city_id, name=name)
        )
        missing = select(
            literal("UA-") + area.c.code + literal(f"-{channel.value}"), name,
            literal(OrgKind.COMMUNITY.value), area.c.city_id, literal(channel.value), area.c.id,
        ).where(~exists().where(own))
        created += conn.execute(
            insert(unit).from_select(
                ["code", "name", "kind", "parent_id", "channel", "unassigned_billing_area_id"],
                missing,
            )
        ).rowcount
    if created:
        ctx.notes.append(f"unassigned communities created: {created:,}")


# --- line plant ----------------------------------------------------------------------

def queue_lines_of_remapped_boxes(ctx: MergeContext) -> None:
    """Subscribers on a junction box whose area or community changes need re-attribution."""
    stage, box = ctx.staging.table, JunctionBox.__table__
    area, community = BillingArea.__table__, OrgUnit.__table__
    unchanged = exists().where(
        box.c.code == stage.c.code,
        area.c.id == box.c.billing_area_id, area.c.code == stage.c.billing_area_code,
        community.c.id == box.c.community_id, community.c.code == stage.c.community_code,
    )
    remapped = select(stage.c.code).where(~unchanged)
    subscriber = Subscriber.__table__
    mark_changed(ctx.conn, "subscriber",
                 select(subscriber.c.id).where(subscriber.c.junction_box_code.in_(remapped)),
                 ctx.now)


def queue_lines_of_remapped_segments(ctx: MergeContext) -> None:
    """Subscribers numbered inside a new or changed segment (old or new range) are queued."""
    stage, segment = ctx.staging.table, NumberSegment.__table__
    area, community = BillingArea.__table__, OrgUnit.__table__
    subscriber = Subscriber.__table__
    unchanged = exists().where(
        segment.c.range_start == stage.c.range_start, segment.c.range_end == stage.c.range_end,
        area.c.id == segment.c.billing_area_id, area.c.code == stage.c.billing_area_code,
        community.c.id == segment.c.community_id, community.c.code == stage.c.community_code,
    )
    number = subscriber.c.service_number

    def within(start: Any, end: Any) -> Any:
        return and_(func.length(number) == func.length(start), number.between(start, end))

    in_new_range = exists().where(~unchanged, within(stage.c.range_start, stage.c.range_end))
    in_old_range = exists().where(
        ~unchanged, segment.c.range_start == stage.c.range_start,
        within(segment.c.range_start, segment.c.range_end),
    )
    mark_changed(ctx.conn, "subscriber",
                 select(subscriber.c.id).where(or_(in_new_range, in_old_range)), ctx.now)


# --- feeds that carry the complete list --------------------------------------------

def reset_absent(subject: str, table: Table, key: str, listed: ColumnElement[bool],
                 reset: dict[str, Any], noun: str) -> Hook:
    """A merge step for a feed that is the whole list (debtors, key accounts).

    Rows of ``table`` that are ``listed`` but absent from the file get the ``reset``
    values and are queued as changed. If any row of the file was rejected, nothing is
    reset: an absent row might be one of the rejected ones.
    """

    def reset_rows_absent_from_file(ctx: MergeContext) -> None:
        if ctx.had_rejects:
            ctx.notes.append(f"rows were rejected, so {noun} absent from the file were NOT "
                             "reset; fix the file and import it again")
            return
        stage = ctx.staging.table
        absent = and_(listed, ~exists().where(stage.c[key] == table.c[key]))
        mark_changed(ctx.conn, subject, select(table.c.id).where(absent), ctx.now)
        count = ctx.conn.execute(update(table).where(absent).values(reset)).rowcount
        if count:
            ctx.notes.append(f"{noun} absent from the file, reset: {count:,}")

    return reset_rows_absent_from_file


# --- number segments ---------------------------------------------------------------

def reject_overlapping_segments(staging: Staging) -> None:
    """Number segments may not overlap each other, in the file or with stored ones."""
    stage, other = staging.table, staging.table.alias("other")
    stored = NumberSegment.__table__

    def overlap(a: Any, b: Any) -> Any:
        return and_(
            func.length(a.c.range_start) == func.length(b.c.range_start),
            a.c.range_start <= b.c.range_end,
            b.c.range_start <= a.c.range_end,
        )

    # Lines already rejected neither overlap others nor replace a stored segment.
    rejected = select(staging.errors.c.line_no)
    in_file = select(
        stage.c.line_no,
        literal("range_start"),
        literal("overlaps the segment on line ") + cast(func.min(other.c.line_no), String),
    ).select_from(
        stage.join(other, and_(overlap(stage, other), other.c.line_no != stage.c.line_no,
                               other.c.line_no.not_in(rejected)))
    ).where(stage.c.line_no.not_in(rejected)).group_by(stage.c.line_no)
    replaced = select(stage.c.range_start).where(stage.c.line_no.not_in(rejected))
    with_stored = select(
        stage.c.line_no,
        literal("range_start"),
        literal("overlaps the stored segment ") + func.min(stored.c.range_start),
    ).select_from(
        stage.join(stored, and_(overlap(stage, stored), stored.c.range_start.not_in(replaced)))
    ).where(stage.c.line_no.not_in(rejected)).group_by(stage.c.line_no)
    for query in (in_file, with_stored):
        staging.reject_selected(query)


# --- org tree ----------------------------------------------------------------------

def reject_bad_org_tree(staging: Staging) -> None:
    """Check the tree the file would produce: levels, channels, unassigned communities.

    Only lines without errors shape the tree; a line rejected here leaves it too, and the
    check repeats, so that the children of a rejected unit are judged without it. The
    org tree is small (thousands of units), so this runs in memory.
    """
    conn, stage, unit = staging.conn, staging.table, OrgUnit.__table__
    parent = unit.alias("parent")
    stored = {
        row.code: row
        for row in conn.execute(
            select(
                unit.c.code, unit.c.kind, unit.c.channel, parent.c.code.label("parent_code"),
                unit.c.unassigned_billing_area_id,
            ).outerjoin(parent, parent.c.id == unit.c.parent_id)
        )
    }
    in_use = union(select(BillingArea.city_id), select(JunctionBox.community_id),
                   select(NumberSegment.community_id))
    referenced = set(conn.scalars(select(unit.c.code).where(unit.c.id.in_(in_use))))
    rejected = set(conn.scalars(select(staging.errors.c.line_no)))
    accepted = {row.code: row for row in conn.execute(select(stage))
                if row.line_no not in rejected}
    errors: list[tuple[int, str | None, str]] = []
    while found := list(_org_file_errors(stored, accepted, referenced)):
        errors.extend(found)
        bad_lines = {line for line, _column, _message in found}
        accepted = {code: row for code, row in accepted.items() if row.line_no not in bad_lines}
    staging.append_errors(errors)


def _org_file_errors(stored: dict[str, Any], accepted: dict[str, Any],
                     referenced: set[str]) -> Iterable[tuple[int, str | None, str]]:
    tree = {code: (row.kind, row.channel, row.parent_code) for code, row in stored.items()}
    tree.update({code: (row.kind, row.channel, row.parent_code)
                 for code, row in accepted.items()})
    for code, row in accepted.items():
        before = stored.get(code)
        if code.upper().startswith("UA-") and before is None:
            yield (row.line_no, "code", "codes starting with 'UA-' are reserved for the "
                   "unassigned communities created with each billing area")
        elif before is not None and before.unassigned_billing_area_id is not None:
            yield (row.line_no, "code", f"'{code}' is an unassigned community; it is "
                   "managed automatically and cannot be imported")
        elif before is not None and before.kind != row.kind and code in referenced:
            yield (row.line_no, "kind", f"'{code}' is used by billing areas, junction boxes "
                   f"or number segments as a {before.kind}; its kind cannot change")
        else:
            yield from _tree_errors(row.line_no, code, tree)
    for code, (_kind, _channel, parent_code) in tree.items():
        automatic = code in stored and stored[code].unassigned_billing_area_id is not None
        if code not in accepted and parent_code in accepted and not automatic:
            for _line, column, message in _tree_errors(0, code, tree):
                yield (accepted[parent_code].line_no, column,
                       f"would break its child unit '{code}': {message}")


Tree = dict[str, tuple[str, str | None, str | None]]


def _tree_errors(line: int, code: str, tree: Tree) -> Iterable[tuple[int, str | None, str]]:
    """Problems of unit ``code`` within ``tree`` (code → kind, channel, parent code)."""
    kind, channel, parent_code = tree[code]
    expected_parent = PARENT_KIND[OrgKind(kind)]
    if expected_parent is None:
        if parent_code:
            yield line, "parent_code", "a province has no parent"
        return
    if not parent_code:
        yield line, "parent_code", f"is required for a {kind} (its parent is a {expected_parent})"
        return
    if parent_code not in tree:
        yield line, "parent_code", f"unknown org unit '{parent_code}'"
        return
    parent_kind, parent_channel, _ = tree[parent_code]
    if parent_kind != expected_parent:
        yield line, "parent_code", (
            f"'{parent_code}' is a {parent_kind}; a {kind} must sit under a {expected_parent}"
        )
    if OrgKind(kind) in CHANNEL_KINDS:
        if channel is None:
            yield line, "channel", f"is required for a {kind}"
        elif parent_channel is not None and parent_channel != channel:
            yield line, "channel", (
                f"is {channel} but its parent '{parent_code}' belongs to {parent_channel}"
            )
    elif channel is not None:
        yield line, "channel", f"must be empty for a {kind}"


def attach_new_parents(ctx: MergeContext) -> None:
    """Link units whose parent arrived in the same file (inserted in the same merge)."""
    unit, stage = OrgUnit.__table__, ctx.staging.table
    parent = unit.alias("parent")
    parent_id = (
        select(parent.c.id)
        .join(stage, stage.c.parent_code == parent.c.code)
        .where(stage.c.code == unit.c.code)
        .scalar_subquery()
    )
    ctx.conn.execute(
        update(unit)
        .where(
            unit.c.parent_id.is_(None),
            exists().where(stage.c.code == unit.c.code, stage.c.parent_code.is_not(None)),
        )
        .values(parent_id=parent_id)
    )


