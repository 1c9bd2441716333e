"""A set of rulesets as one program: dependency checks, order and compilation."""

from collections.abc import Mapping, Sequence
from graphlib import CycleError, TopologicalSorter

from engine.catalog import DEFAULT_CATALOG, Catalog
from engine.compiler import compile_ruleset
from engine.evaluate import Program
from engine.language import Ruleset


class DependencyCycleError(ValueError):
    pass


def dependency_order(rulesets: Sequence[Ruleset]) -> list[Ruleset]:
    """``rulesets`` with every ruleset after those it depends on.

    Raises :class:`DependencyCycleError` naming the cycle. Dependencies outside ``rulesets``
    are the caller's to provide (their outputs arrive as facts).
    """
    by_name = {ruleset.name: ruleset for ruleset in rulesets}
    graph = {ruleset.name: [name for name in ruleset.depends_on if name in by_name]
             for ruleset in rulesets}
    try:
        return [by_name[name] for name in TopologicalSorter(graph).static_order()]
    except CycleError as error:
        cycle = error.args[1]
        raise DependencyCycleError("dependency cycle: " + " → ".join(cycle)) from None


def build_program(rulesets: Sequence[Ruleset], catalog: Catalog = DEFAULT_CATALOG,
                  other_outputs: Mapping[str, str] | None = None) -> Program:
    """Validated rulesets compiled in dependency order.

    ``other_outputs`` names what rulesets outside ``rulesets`` decide, when some of
    ``rulesets`` depend on them (their outputs then come with the records).
    """
    outputs = {**(other_outputs or {}), **{ruleset.name: ruleset.output for ruleset in rulesets}}
    compiled = []
    for ruleset in dependency_order(rulesets):
        visible = catalog.visible_facts(
            ruleset.subject, [outputs[name] for name in ruleset.depends_on if name in outputs])
        compiled.append(compile_ruleset(ruleset, visible))
    return Program(tuple(compiled))
