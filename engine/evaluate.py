"""Evaluating compiled rulesets over a batch of fact records with durable-rules.

:func:`evaluate_batch` is a pure function of its arguments: no database, no clock, no
globals other than this process's cache of durable-rules handles (one per compiled
ruleset, created on first use). It runs in any process; use :mod:`engine.workers` for
several cores. Per the engine's field notes it:

* talks to the C engine directly (no ``Host``: its threads race the caller);
* keeps one session, posts batches of :data:`BATCH` messages with unique ids, drains every
  action, then reconciles: a record without a result (the engine de-duplicates ids by a
  32-bit hash) is posted again alone with a new id; still nothing → an error result;
* falls back to one message at a time when the engine rejects a batch, so one bad
  record costs only its own result;
* checks every fact against the catalog before posting (no floats, no ``Decimal``, no
  ``NaN``, no oversize text or integer), and makes an error result of what does not fit.
"""

import contextlib
import itertools
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import durable_rules_engine as dre
import orjson

from engine.catalog import Fact
from engine.compiler import DEFAULT_RULE, CompiledRule, CompiledRuleset
from engine.language import AlertOutcome, HitPolicy
from engine.results import Decided, Fired, Legend, Results
from engine.templates import render
from engine.values import display_function, encode_column, normalise_column

#: Messages per engine call: large enough to amortise the call, small enough that the
#: engine's 32-bit id hash rarely collides inside one batch.
BATCH = 1000

_handles: dict[str, int] = {}
_ids = itertools.count()
_lock = threading.Lock()


@dataclass(frozen=True)
class Program:
    """Compiled rulesets in dependency order (see :func:`engine.program.build_program`)."""

    rulesets: tuple[CompiledRuleset, ...]

    def inputs(self) -> list[str]:
        """Facts the records must carry: what the rulesets read and none of them decides."""
        decided = {ruleset.output for ruleset in self.rulesets}
        return list(dict.fromkeys(name for ruleset in self.rulesets
                                  for name in ruleset.facts if name not in decided))


class RecordError(ValueError):
    """Why one record has no result from one ruleset."""


Column = list[Any]


class _Batch:
    """A batch while it runs: facts by column, checked, normalised and encoded once each
    however many rulesets read them; outputs join the columns as they are decided."""

    def __init__(self, program: Program, keys: Sequence[Any], columns: Mapping[str, Column],
                 as_of: date) -> None:
        self.size, self.as_of = len(keys), as_of
        self.results = Results(keys, [_legend(ruleset) for ruleset in program.rulesets])
        self._raw = columns
        self._normalised: dict[str, Column] = {}
        self._problems: dict[str, dict[int, str]] = {}
        self._encoded: dict[str, Column] = {}

    def normalised(self, name: str, fact: Fact) -> Column:
        column = self._normalised.get(name)
        if column is None:
            raw = self._raw.get(name)
            if raw is None:
                raw = [None] * self.size
            elif len(raw) != self.size:
                raise ValueError(f"column {name} has {len(raw)} values for {self.size} keys")
            column, self._problems[name] = normalise_column(fact, raw)
            self._normalised[name] = column
        return column

    def problems(self, name: str, fact: Fact) -> dict[int, str]:
        self.normalised(name, fact)
        return self._problems[name]

    def encoded(self, name: str, fact: Fact) -> Column:
        column = self._encoded.get(name)
        if column is None:
            column = self._encoded[name] = encode_column(fact, self.normalised(name, fact))
        return column

    def days(self, name: str, fact: Fact) -> Column:
        """A date fact as days after the evaluation date."""
        key, today = f"{name}__days", self.as_of.toordinal()
        column = self._encoded.get(key)
        if column is None:
            column = self._encoded[key] = [None if value is None else value.toordinal() - today
                                           for value in self.normalised(name, fact)]
        return column

    def decide(self, output: str, values: Column) -> None:
        self._normalised[output], self._problems[output] = values, {}
        self._encoded.pop(output, None)


def evaluate_batch(program: Program, records: Sequence[Mapping[str, Any]], as_of: date,
                   key: str = "key") -> Results:
    """Every ruleset of ``program`` over ``records`` (fact name → native value).

    Returns one result per record, in order; ``record[key]`` identifies it.
    """
    return evaluate_columns(program, [record.get(key) for record in records],
                            to_columns(program, records), as_of)


def to_columns(program: Program, records: Sequence[Mapping[str, Any]]) -> dict[str, Column]:
    """The facts ``program`` reads from ``records``, by column."""
    return {name: [record.get(name) for record in records] for name in program.inputs()}


def evaluate_columns(program: Program, keys: Sequence[Any], columns: Mapping[str, Column],
                     as_of: date) -> Results:
    """:func:`evaluate_batch` over facts by column: ``columns[fact][i]`` is the value for
    ``keys[i]``; a fact without a column is empty."""
    batch = _Batch(program, keys, columns, as_of)
    with _lock:
        for index, ruleset in enumerate(program.rulesets):
            _run(ruleset, batch, batch.results.outcomes[index])
    return batch.results


def _legend(ruleset: CompiledRuleset) -> Legend:
    return Legend(ruleset.name, ruleset.version, ruleset.output,
                  ruleset.hit_policy is HitPolicy.COLLECT,
                  {rule.id: rule.reads for rule in ruleset.rules.values()},
                  {rule.id: (rule.then.type, rule.then.severity)
                   for rule in ruleset.rules.values() if isinstance(rule.then, AlertOutcome)})


def _run(ruleset: CompiledRuleset, batch: _Batch, outcomes: list[Any]) -> None:
    blocked: dict[int, str] = {}
    for number, reasons in batch.results.errors.items():
        failed = next((name for name in ruleset.depends_on if name in reasons), None)
        if failed:
            blocked[number] = f"depends on {failed}, which failed"
    for name, fact in ruleset.facts.items():
        for number, problem in batch.problems(name, fact).items():
            blocked.setdefault(number, f"fact {name}: {problem}")
    messages = _messages(ruleset, batch, blocked)
    if messages:
        try:
            handle = _handle(ruleset)
        except dre.error as error:
            blocked.update((message["_n"], f"ruleset not loaded: {error}")
                           for message in messages)
            messages = []
    fired = _post_all(handle, ruleset.hit_policy, messages) if messages else {}
    apply = _Applier(ruleset, batch)
    for message in messages:
        number = message["_n"]
        try:
            outcomes[number] = apply(number, fired.get(number))
        except RecordError as error:
            blocked[number] = str(error)
        except Exception as error:  # one record's failure stays its own
            blocked[number] = f"{type(error).__name__}: {error}"
    errors = batch.results.errors
    for number, reason in blocked.items():
        errors.setdefault(number, {})[ruleset.name] = reason
        outcomes[number] = None
    if ruleset.hit_policy is HitPolicy.FIRST:
        batch.decide(ruleset.output, [None if outcome is None else outcome[0]
                                      for outcome in outcomes])


def _messages(ruleset: CompiledRuleset, batch: _Batch,
              blocked: Mapping[int, str]) -> list[dict[str, Any]]:
    """What the engine receives for each record not ``blocked``."""
    keys, columns = [], []
    for name in ruleset.value_keys:
        keys.append(name)
        columns.append(batch.encoded(name, ruleset.facts[name]))
    for name in ruleset.day_keys:
        keys.append(f"{name}__days")
        columns.append(batch.days(name, ruleset.facts[name]))
    for predicate in ruleset.predicates:
        keys.append(predicate.key)
        column = batch.normalised(predicate.fact, ruleset.facts[predicate.fact])
        columns.append([int(predicate.holds(value, batch.as_of)) for value in column])
    messages = []
    rows = zip(*columns, strict=True) if columns else [()] * batch.size
    for number, values in enumerate(rows):
        if number not in blocked:
            message = {key: value for key, value in zip(keys, values, strict=True)
                       if value is not None}
            message["id"], message["_n"] = str(next(_ids)), number
            messages.append(message)
    return messages


def _handle(ruleset: CompiledRuleset) -> int:
    handle = _handles.get(ruleset.engine_name)
    if handle is None:
        handle = dre.create_ruleset(ruleset.engine_name,
                                    json.dumps(ruleset.definition, ensure_ascii=False))
        _handles[ruleset.engine_name] = handle
    return handle


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _post_all(handle: int, policy: HitPolicy,
              messages: list[dict[str, Any]]) -> dict[int, list[str]]:
    """Rule names fired per record number; reconciles what the engine dropped."""
    fired: dict[int, list[str]] = {}
    for start in range(0, len(messages), BATCH):
        chunk = messages[start:start + BATCH]
        try:
            _post(handle, policy, chunk, fired)
        except dre.error:
            for message in chunk:
                _post_alone(handle, policy, message, fired)
    for message in messages:
        if message["_n"] not in fired:
            _post_alone(handle, policy, {**message, "id": f"r{next(_ids)}"}, fired)
    return fired


def _post_alone(handle: int, policy: HitPolicy, message: dict[str, Any],
                fired: dict[int, list[str]]) -> None:
    try:
        _post(handle, policy, [message], fired)
    except dre.error as error:
        fired[message["_n"]] = [f"!engine refused the record: {error}"]


def _post(handle: int, policy: HitPolicy, messages: list[dict[str, Any]],
          fired: dict[int, list[str]]) -> None:
    payload = _json(messages)
    if policy is HitPolicy.FIRST:
        _drain(handle, dre.assert_events(handle, payload)[1], fired)
        return
    try:
        _drain(handle, dre.assert_facts(handle, payload)[1], fired)
    finally:
        try:
            dre.retract_facts(handle, payload)
        except dre.error:
            for message in messages:
                _retract_alone(handle, message)


def _retract_alone(handle: int, message: dict[str, Any]) -> None:
    with contextlib.suppress(dre.error):  # never asserted: nothing to take back
        dre.retract_fact(handle, _json(message))


def _drain(handle: int, state: int, fired: dict[int, list[str]]) -> None:
    result = dre.start_action_for_state(handle, state)
    messages = result[1] if result else None
    while messages:
        for rule, match in orjson.loads(messages).items():
            number = match.get("m", {}).get("_n")
            if number is not None:  # the session's own state also matches catch-alls
                fired.setdefault(number, []).append(rule)
        messages = dre.complete_and_start_action(handle, state)


class _Applier:
    """Turns the rules that fired for a record into its decision or alerts."""

    def __init__(self, ruleset: CompiledRuleset, batch: _Batch) -> None:
        self.ruleset, self.batch = ruleset, batch
        facts = ruleset.facts
        self.readers = {rule.id: [(batch.normalised(name, facts[name]),
                                   display_function(facts[name])) for name in rule.reads]
                        for rule in ruleset.rules.values()}

    def __call__(self, number: int, fired: list[str] | None) -> Decided | tuple[Fired, ...]:
        """Record ``number``'s outcome, given the rules that fired for it."""
        if not fired:
            raise RecordError("the engine returned no result for this record")
        refused = [name for name in fired if name.startswith("!")]
        if refused:
            raise RecordError(refused[0][1:])
        ruleset = self.ruleset
        if ruleset.hit_policy is HitPolicy.COLLECT:
            return tuple(self._alert(ruleset.rules[rule_id], number)
                         for rule_id in sorted(set(fired) - {DEFAULT_RULE},
                                               key=ruleset.priority.__getitem__))
        rule = ruleset.rules[min(fired, key=ruleset.priority.__getitem__)]
        outcome = rule.then
        assert outcome is not None and not isinstance(outcome, AlertOutcome)
        value = outcome.value if outcome.fact is None else self.batch.normalised(
            outcome.fact, ruleset.facts[outcome.fact])[number]
        if value is None:
            raise RecordError(f"rule {rule.id} copies fact {outcome.fact}, which is empty")
        return value, rule.id, self._read(rule, number)

    def _alert(self, rule: CompiledRule, number: int) -> Fired:
        outcome = rule.then
        assert isinstance(outcome, AlertOutcome)
        facts = self._read(rule, number)
        shown = dict(zip(rule.reads, facts, strict=True))
        return rule.id, render(outcome.message, lambda name: shown.get(name, "")), facts

    def _read(self, rule: CompiledRule, number: int) -> tuple[str, ...]:
        return tuple([show(column[number]) for column, show in self.readers[rule.id]])
