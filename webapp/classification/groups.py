"""Customer-group facts (``in_group``, ``group_type``): which types of group a customer
belongs to, read per chunk of customers beside their other columns."""

from typing import Any

from sqlalchemy import Subquery, func, select

from engine.catalog import CUSTOMER_FACTS
from webapp.classification.facts import CustomerChunk
from webapp.models import CustomerGroup, GroupType, customer_group_member

#: How ``group_type`` joins the codes (the catalog's word for it).
SEPARATOR = CUSTOMER_FACTS["group_type"].separator


def group_types(chunk: CustomerChunk) -> Subquery:
    """Per customer of ``chunk`` in a group: ``customer_id`` and ``group_types``, the type codes
    of its groups joined by :data:`SEPARATOR` (any order, a type repeated when two of its
    groups have it)."""
    member = customer_group_member.c
    return (select(member.customer_id,
                   func.aggregate_strings(GroupType.code, SEPARATOR).label("group_types"))
            .join(CustomerGroup, CustomerGroup.id == member.group_id)
            .join(GroupType, GroupType.id == CustomerGroup.group_type_id)
            .where(chunk.where(member.customer_id))
            .group_by(member.customer_id)
            .subquery("group_types"))


def type_list(codes: Any) -> str | None:
    """``codes`` as the fact ``group_type`` holds them: distinct, sorted (a fixed order,
    so that equal memberships are equal texts), joined by :data:`SEPARATOR`."""
    if not codes:
        return None
    return SEPARATOR.join(sorted(set(str(codes).split(SEPARATOR))))
