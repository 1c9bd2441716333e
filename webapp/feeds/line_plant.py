"""Junction boxes and number segments: overlaps, and the lines a changed mapping affects."""

from typing import Any

from sqlalchemy import (
    String,
    and_,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
)

from webapp.feeds.spec import MergeContext
from webapp.feeds.staging import Staging
from webapp.models import (
    BillingArea,
    JunctionBox,
    NumberSegment,
    OrgUnit,
    Subscriber,
)
from webapp.models.changes import mark_changed


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
