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
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import durable_rules_engine as dre

from engine.compiler import DEFAULT_RULE, CompiledRule, CompiledRuleset
from engine.language import AlertOutcome, HitPolicy
from engine.templates import render
from engine.values import display, encode, native_problem, normalise

#: Messages per engine call: large enough to amortise the call, small enough that the
#: engine's 32-bit id hash rarely collides inside one batch.
BATCH = 1000

_handles: dict[str, int] = {}
_ids = itertools.count()
_lock = threading.Lock()


@dataclass
class Decision:
    value: str
    rule_id: str
    ruleset: str
    version: int
    #: Facts the deciding rule read, as analysts read them (money in yuan).
    facts: dict[str, str]


@dataclass
class RaisedAlert:
    type: str
    severity: str
    message: str
    rule_id: str
    ruleset: str
    version: int
    facts: dict[str, str]


@dataclass
class RecordResult:
    key: Any
    decisions: dict[str, Decision] = field(default_factory=dict)
    alerts: list[RaisedAlert] = field(default_factory=list)
    #: Why a ruleset could not decide for this record, by ruleset name.
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Program:
    """Compiled rulesets in dependency order (see :func:`engine.program.build_program`)."""

    rulesets: tuple[CompiledRuleset, ...]


class RecordError(ValueError):
    """Why one record has no result from one ruleset."""


class _Record:
    """One record while a batch runs: its facts grow with the outputs decided so far."""

    def __init__(self, key: Any, facts: Mapping[str, Any]) -> None:
        self.facts = dict(facts)
        self.result = RecordResult(key)
        self.normalised: dict[str, Any] = {}


def evaluate_batch(program: Program, records: Sequence[Mapping[str, Any]], as_of: date,
                   key: str = "key") -> list[RecordResult]:
    """Every ruleset of ``program`` over ``records`` (fact name → native value).

    Returns one result per record, in order; ``record[key]`` identifies it.
    """
    states = [_Record(record.get(key), record) for record in records]
    with _lock:
        for ruleset in program.rulesets:
            _run(ruleset, states, as_of)
    return [state.result for state in states]


def _run(ruleset: CompiledRuleset, states: list[_Record], as_of: date) -> None:
    messages: dict[int, dict[str, Any]] = {}
    for number, state in enumerate(states):
        failed = [name for name in ruleset.depends_on if name in state.result.errors]
        if failed:
            state.result.errors[ruleset.name] = f"depends on {failed[0]}, which failed"
            continue
        try:
            messages[number] = _encode(ruleset, state, number, as_of)
        except RecordError as problem:
            state.result.errors[ruleset.name] = str(problem)
    if not messages:
        return
    try:
        handle = _handle(ruleset)
    except dre.error as error:
        for number in messages:
            states[number].result.errors[ruleset.name] = f"ruleset not loaded: {error}"
        return
    fired = _post_all(handle, ruleset.hit_policy, list(messages.values()))
    for number in messages:
        state = states[number]
        try:
            _apply(ruleset, state, fired.get(number))
        except RecordError as error:
            state.result.errors[ruleset.name] = str(error)
        except Exception as error:  # one record's failure stays its own
            state.result.errors[ruleset.name] = f"{type(error).__name__}: {error}"


def _encode(ruleset: CompiledRuleset, state: _Record, number: int,
            as_of: date) -> dict[str, Any]:
    normalised = {}
    for name, fact in ruleset.facts.items():
        value = state.facts.get(name)
        problem = native_problem(fact, value)
        if problem:
            raise RecordError(f"fact {name}: {problem}")
        normalised[name] = normalise(fact, value)
    state.normalised = normalised
    message: dict[str, Any] = {"id": str(next(_ids)), "_n": number}
    for name in ruleset.value_keys:
        value = normalised[name]
        if value is not None:
            message[name] = encode(ruleset.facts[name], value)
    for name in ruleset.day_keys:
        value = normalised[name]
        if value is not None:
            message[f"{name}__days"] = value.toordinal() - as_of.toordinal()
    for predicate in ruleset.predicates:
        message[predicate.key] = int(predicate.holds(normalised[predicate.fact], as_of))
    return message


def _handle(ruleset: CompiledRuleset) -> int:
    handle = _handles.get(ruleset.engine_name)
    if handle is None:
        handle = dre.create_ruleset(ruleset.engine_name,
                                    json.dumps(ruleset.definition, ensure_ascii=False))
        _handles[ruleset.engine_name] = handle
    return handle


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
    payload = json.dumps(messages, ensure_ascii=False)
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
        dre.retract_fact(handle, json.dumps(message, ensure_ascii=False))


def _drain(handle: int, state: int, fired: dict[int, list[str]]) -> None:
    result = dre.start_action_for_state(handle, state)
    messages = result[1] if result else None
    while messages:
        for rule, match in json.loads(messages).items():
            number = match.get("m", {}).get("_n")
            if number is not None:  # the session's own state also matches catch-alls
                fired.setdefault(number, []).append(rule)
        messages = dre.complete_and_start_action(handle, state)


def _apply(ruleset: CompiledRuleset, state: _Record, fired: list[str] | None) -> None:
    if not fired:
        raise RecordError("the engine returned no result for this record")
    refused = [name for name in fired if name.startswith("!")]
    if refused:
        raise RecordError(refused[0][1:])
    result = state.result
    if ruleset.hit_policy is HitPolicy.COLLECT:
        for rule_id in sorted(set(fired) - {DEFAULT_RULE}, key=ruleset.priority.__getitem__):
            result.alerts.append(_alert(ruleset, ruleset.rules[rule_id], state))
        return
    rule = ruleset.rules[min(fired, key=ruleset.priority.__getitem__)]
    outcome = rule.then
    assert outcome is not None and not isinstance(outcome, AlertOutcome)
    value = outcome.value if outcome.fact is None else state.normalised.get(outcome.fact)
    if value is None:
        raise RecordError(f"rule {rule.id} copies fact {outcome.fact}, which is empty")
    result.decisions[ruleset.output] = Decision(value, rule.id, ruleset.name, ruleset.version,
                                                _read(ruleset, rule, state))
    state.facts[ruleset.output] = value


def _alert(ruleset: CompiledRuleset, rule: CompiledRule, state: _Record) -> RaisedAlert:
    outcome = rule.then
    assert isinstance(outcome, AlertOutcome)
    facts = _read(ruleset, rule, state)
    message = render(outcome.message, lambda name: facts.get(name, ""))
    return RaisedAlert(outcome.type, outcome.severity, message, rule.id, ruleset.name,
                       ruleset.version, facts)


def _read(ruleset: CompiledRuleset, rule: CompiledRule, state: _Record) -> dict[str, str]:
    return {name: display(ruleset.facts[name], state.normalised.get(name))
            for name in rule.reads}
