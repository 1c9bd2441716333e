"""Report 5: rule activity — per ruleset and rule, how many customers and lines it
decides today (their current value came from it) and how many changes it wrote to the
adjustment log over the last :data:`CHANGE_DAYS` days of the operator's calendar.

Read from ``report_rule_decision`` and ``report_rule_change``. Rules come in the order
of the live rulesets (those deciding nobody included, the ``default`` last), then any
rule of an earlier version that still decides someone. Alert rulesets are left out:
they decide no attribute and write no log rows (alerts have their own page).
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import ReportRuleChange, ReportRuleDecision
from webapp.reports.orgtree import within
from webapp.reports.refresh import CHANGE_DAYS
from webapp.rulesets.store import latest_published

DEFAULT_RULE = "default"


@dataclass(frozen=True)
class RuleActivity:
    ruleset: str
    rule: str
    title: str
    customers: int
    subscribers: int
    changes: int


def first_day(today: date) -> date:
    """The first of the :data:`CHANGE_DAYS` days ending today."""
    return today - timedelta(days=CHANGE_DAYS - 1)


def activity(session: Session, communities: frozenset[str] | None, today: date
             ) -> list[RuleActivity]:
    """Every rule's activity, counting only the ``communities`` (None: all)."""
    conn = session.connection()
    decided = ReportRuleDecision.__table__
    changed = ReportRuleChange.__table__
    counts: Counter[tuple[str, str, str]] = Counter()
    for subject, ruleset, rule, count in conn.execute(
            select(decided.c.subject, decided.c.ruleset_name, decided.c.rule_id,
                   func.sum(decided.c.decided))
            .where(*within(decided.c.community, communities))
            .group_by(decided.c.subject, decided.c.ruleset_name, decided.c.rule_id)):
        counts[subject, ruleset, rule] += count
    for ruleset, rule, count in conn.execute(
            select(changed.c.ruleset_name, changed.c.rule_id, func.sum(changed.c.changes))
            .where(*within(changed.c.community, communities),
                   changed.c.day.between(first_day(today), today))
            .group_by(changed.c.ruleset_name, changed.c.rule_id)):
        counts["change", ruleset, rule] += count
    order: dict[tuple[str, str], str] = {}
    for version in latest_published(session):
        definition = version.definition if isinstance(version.definition, dict) else {}
        if definition.get("output") == "alerts":
            continue
        for rule in definition.get("rules") or ():
            if isinstance(rule, dict) and rule.get("id"):
                order[version.name, str(rule["id"])] = str(rule.get("title") or "")
        order[version.name, DEFAULT_RULE] = ""
    for _, ruleset, rule in sorted(counts):
        order.setdefault((ruleset, rule), "")
    return [RuleActivity(ruleset, rule, title, counts["customer", ruleset, rule],
                         counts["subscriber", ruleset, rule], counts["change", ruleset, rule])
            for (ruleset, rule), title in order.items()]

