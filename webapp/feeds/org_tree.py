"""Org-tree feeds: the tree a file would produce, parents, unassigned communities."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    exists,
    insert,
    literal,
    or_,
    select,
    union,
    update,
)

from engine.domain import CHANNEL_KINDS, PARENT_KIND, Channel, OrgKind
from webapp.feeds.spec import MergeContext
from webapp.feeds.staging import Staging
from webapp.models import (
    BillingArea,
    JunctionBox,
    NumberSegment,
    OrgUnit,
)

CHANNEL_NAMES_ZH = {
    Channel.PUBLIC: "公众客户",
    Channel.BUSINESS: "商业客户",
    Channel.KEY_ACCOUNT: "大客户",
    Channel.BUNDLED: "统包客户",
    Channel.TRANSIENT: "流动客户",
}


def sync_unassigned_communities(ctx: MergeContext) -> None:
    """The billing-areas feed's hook: :func:`create_unassigned_communities`."""
    created = create_unassigned_communities(ctx.conn)
    if created:
        ctx.notes.append(f"unassigned communities created: {created:,}")


def create_unassigned_communities(conn: Connection) -> int:
    """Give every billing area its unassigned community in each channel; return how many
    were created (the feed and the org-tree admin page both call this).

    They sit under the area's city and carry its name: an area that moves to another
    city or is renamed takes them along.
    """
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
    return created


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
