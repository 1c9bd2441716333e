"""How the population is classified: the distribution of every attribute and alert."""

from collections.abc import Iterator

from sqlalchemy import Connection, func, select

from engine.domain import ClassifiedAttribute
from webapp.models import Alert, CustomerDecision, OrgUnit, SubscriberDecision


def distributions(conn: Connection) -> Iterator[str]:
    """Lines of text: per attribute, its values with counts and shares."""
    for attribute in ClassifiedAttribute:
        model = SubscriberDecision if attribute is ClassifiedAttribute.COMMUNITY \
            else CustomerDecision
        rows = conn.execute(select(model.value, func.count()).where(
            model.attribute == attribute).group_by(model.value)).all()
        if not rows:
            continue
        if attribute in (ClassifiedAttribute.COMMUNITY, ClassifiedAttribute.MARKETING_ATTRIBUTE):
            rows = _by_unit_kind(conn, rows)
        counted = "lines" if model is SubscriberDecision else "customers"
        yield _line(f"{attribute.value} ({counted})", rows)
    alerts = conn.execute(select(Alert.alert_type + " " + Alert.severity, func.count())
                          .where(Alert.cleared_at.is_(None))
                          .group_by(Alert.alert_type, Alert.severity)).all()
    if alerts:
        yield _line("open alerts (lines)", alerts)


def _by_unit_kind(conn: Connection, rows: list) -> list[tuple[str, int]]:
    """Org-unit codes summed by kind and channel, unassigned communities apart."""
    units = {row.code: (f"{'unassigned ' if row.unassigned_billing_area_id else ''}"
                        f"{row.kind} {row.channel}")
             for row in conn.execute(select(OrgUnit.code, OrgUnit.kind, OrgUnit.channel,
                                            OrgUnit.unassigned_billing_area_id))}
    totals: dict[str, int] = {}
    for code, count in rows:
        label = units.get(code, "unknown unit")
        totals[label] = totals.get(label, 0) + count
    return list(totals.items())


def _line(title: str, rows: list) -> str:
    total = sum(count for _, count in rows) or 1
    ranked = sorted(rows, key=lambda row: (-row[1], str(row[0])))
    return f"{title}: " + ", ".join(f"{value} {count:,} ({count * 100 / total:.1f}%)"
                                    for value, count in ranked)
