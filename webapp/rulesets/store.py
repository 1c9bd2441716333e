"""Ruleset versions in the database: publishing documents and loading the live program."""

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.catalog import DEFAULT_CATALOG
from engine.language import Ruleset
from engine.validation import Report, validate_documents
from webapp.models import RulesetVersion

#: The default rulesets shipped with the product.
DEFAULT_RULES = Path(__file__).resolve().parents[2] / "rules"


class InvalidRulesetsError(ValueError):
    def __init__(self, reports: list[Report]) -> None:
        self.reports = [report for report in reports if not report.ok]
        super().__init__("; ".join(f"{report.source}: {problem}" for report in self.reports
                                   for problem in report.errors[:3]))


def checksum(document: Mapping[str, Any]) -> str:
    content = {key: value for key, value in document.items() if key != "version"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


def latest_published(session: Session) -> list[RulesetVersion]:
    """The live version of every ruleset."""
    newest = (select(RulesetVersion.name, func.max(RulesetVersion.version).label("version"))
              .where(RulesetVersion.published_at.is_not(None))
              .group_by(RulesetVersion.name).subquery())
    return list(session.scalars(
        select(RulesetVersion).join(newest, (newest.c.name == RulesetVersion.name)
                                    & (newest.c.version == RulesetVersion.version))
        .order_by(RulesetVersion.name)))


def validate_with_live(session: Session, documents: Mapping[str, Any]) -> list[Report]:
    """Reports of ``documents`` (source → document) validated together with the live
    rulesets they do not replace (for dependencies and cycles); only theirs are returned."""
    names = {doc.get("name") for doc in documents.values() if isinstance(doc, dict)}
    others = {f"{row.origin} (live v{row.version})": row.definition
              for row in latest_published(session) if row.name not in names}
    reports = validate_documents({**others, **documents}, DEFAULT_CATALOG)
    return [report for report in reports if report.source in documents]


def publish(session: Session, documents: Mapping[str, dict[str, Any]], now: datetime, *,
            comment: str | None = None, staff_id: int | None = None
            ) -> list[tuple[str, int, bool]]:
    """Publish ``documents`` (origin → document) as new versions where their content
    changed. Validated together with the live rulesets; nothing is written if any is
    invalid. Returns (name, live version, whether it is new) per document."""
    reports = validate_with_live(session, documents)
    if any(not report.ok for report in reports):
        raise InvalidRulesetsError(reports)
    live = {row.name: row for row in latest_published(session)}
    outcome = []
    for origin, document in documents.items():
        name, digest = document["name"], checksum(document)
        current = live.get(name)
        if current is not None and current.checksum == digest:
            outcome.append((name, current.version, False))
            continue
        version = (session.scalar(select(func.max(RulesetVersion.version))
                                  .where(RulesetVersion.name == name)) or 0) + 1
        session.add(RulesetVersion(
            name=name, version=version, output=document["output"],
            definition={**document, "version": version}, checksum=digest, origin=origin,
            published_at=now, comment=comment, created_by_id=staff_id))
        outcome.append((name, version, True))
    session.flush()
    return outcome


def live_rulesets(session: Session) -> list[Ruleset]:
    """The published rulesets, loaded and validated."""
    rows = latest_published(session)
    reports = validate_documents({f"{row.name} v{row.version}": row.definition
                                  for row in rows})
    if any(not report.ok for report in reports):
        raise InvalidRulesetsError(reports)
    return [report.ruleset for report in reports if report.ruleset is not None]
