"""Validating a set of ruleset documents together: each one's problems and warnings."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.catalog import DEFAULT_CATALOG, Catalog
from engine.compiler import compile_ruleset
from engine.language import Ruleset
from engine.lint import structural_problems, unreachable_rules
from engine.program import DependencyCycleError, dependency_order
from engine.schema import Problem, load_ruleset


@dataclass
class Report:
    """The outcome of validating one document (``source``: a file name, a draft id)."""

    source: str
    ruleset: Ruleset | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.ruleset is not None and not self.errors


def validate_documents(documents: Mapping[str, Any],
                       catalog: Catalog = DEFAULT_CATALOG) -> list[Report]:
    """A report per document; ``depends_on`` resolves among ``documents`` only."""
    outputs = {}
    for document in documents.values():
        if isinstance(document, dict) and isinstance(document.get("name"), str) \
                and isinstance(document.get("output"), str):
            outputs[document["name"]] = document["output"]
    reports = []
    for source, document in documents.items():
        ruleset, problems = load_ruleset(document, outputs, catalog)
        report = Report(source, ruleset, problems)
        if ruleset is not None:
            visible = catalog.visible_facts(
                ruleset.subject, [outputs[name] for name in ruleset.depends_on])
            report.errors.extend(structural_problems(compile_ruleset(ruleset, visible)))
            report.warnings.extend(unreachable_rules(ruleset))
        reports.append(report)
    _check_cycles(reports)
    names = [report.ruleset.name for report in reports if report.ruleset]
    for report in reports:
        if report.ruleset is not None and names.count(report.ruleset.name) > 1:
            report.errors.append(Problem("name", f"two documents define ruleset "
                                         f"{report.ruleset.name!r}"))
    return reports


def _check_cycles(reports: list[Report]) -> None:
    loaded = [report.ruleset for report in reports if report.ruleset is not None]
    try:
        dependency_order(loaded)
    except DependencyCycleError as cycle:
        members = set(str(cycle).split(": ", 1)[1].split(" → "))
        for report in reports:
            if report.ruleset is not None and report.ruleset.name in members:
                report.errors.append(Problem("depends_on", str(cycle)))
