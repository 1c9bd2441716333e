"""``POST /api/v1/what-if``: a record's facts evaluated with the published rulesets,
nothing stored (:mod:`webapp.classification.whatif`).

Facts are written as in the rulesets' test cases (:func:`engine.values.parse_literal`):
money in yuan (``"312.50"``), dates ``YYYY-MM-DD`` or relative (``"today+30d"``),
decimals with at most two places; a fact left out, or ``null``, is empty.
"""

from typing import Any

from marshmallow import Schema, ValidationError, fields

from engine.catalog import FACTS, Fact, FactType, Subject
from engine.results import Decision, RaisedAlert, RecordResult
from engine.values import InvalidValueError, display, parse_literal
from webapp import clock
from webapp.api import PREFIX
from webapp.api.base import ApiBlueprint
from webapp.api.schemas import evaluation_date
from webapp.classification.whatif import WhatIf, what_if
from webapp.database import db
from webapp.web.access import Permission

blueprint = ApiBlueprint("api-what-if", __name__, url_prefix=f"{PREFIX}/what-if",
                         description="Evaluate a record with the published rules; "
                                     "nothing is stored.")

_NUMBER = [{"type": "string"}, {"type": "number"}]
#: How each type of fact is written, for the OpenAPI document.
_DOCUMENTED: dict[FactType, dict[str, Any]] = {
    FactType.INTEGER: {"type": "integer"},
    FactType.MONEY: {"anyOf": _NUMBER},
    FactType.DECIMAL: {"anyOf": _NUMBER},
    FactType.DATE: {"type": "string"},
    FactType.STRING: {"type": "string"},
    FactType.ENUM: {"type": "string"},
    FactType.BOOLEAN: {"type": "boolean"},
}


class FactValue(fields.Field):
    """A fact's value in the rules' literal syntax; ``null`` is an empty fact."""

    def __init__(self, fact: Fact, **kwargs: Any) -> None:
        documented = dict(_DOCUMENTED[fact.type])
        if fact.values:
            documented["enum"] = list(fact.values)
        unit = f" ({fact.unit})" if fact.unit else ""
        documented["description"] = f"{fact.type.value}{unit}: {fact.meaning}"
        super().__init__(allow_none=True, metadata=documented, **kwargs)
        self.fact = fact

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return parse_literal(self.fact, value)
        except InvalidValueError as error:
            raise ValidationError(str(error)) from None


class _FactsSchema(Schema):
    error_messages = {  # noqa: RUF012 - marshmallow's own convention
        "unknown": "not a fact of this subject (the document lists them)",
        "type": "must be an object of fact → value",
    }


def _facts_schema(subject: Subject, name: str) -> type[Schema]:
    return _FactsSchema.from_dict({fact.name: FactValue(fact)
                                   for fact in FACTS[subject].values()}, name=name)


SubscriberFactsSchema = _facts_schema(Subject.SUBSCRIBER, "SubscriberFactsSchema")
CustomerFactsSchema = _facts_schema(Subject.CUSTOMER, "CustomerFactsSchema")


class WhatIfSchema(Schema):
    as_of = evaluation_date()
    subscriber = fields.Nested(SubscriberFactsSchema, required=True)
    customer = fields.Nested(CustomerFactsSchema, load_default=None, allow_none=True,
                             metadata={"description": "facts replacing those derived "
                                                      "from the line"})


class RuleOutcomeSchema(Schema):
    rule_id = fields.String(metadata={"description": "`default`: no rule matched"})
    rule_title = fields.String(allow_none=True)
    ruleset = fields.String()
    version = fields.Integer()
    facts = fields.Dict(keys=fields.String(), values=fields.String(),
                        metadata={"description": "the facts the rule read"})


class DecisionSchema(RuleOutcomeSchema):
    value = fields.String()


class RaisedAlertSchema(RuleOutcomeSchema):
    type = fields.String()
    severity = fields.String()
    message = fields.String()


class OutcomeSchema(Schema):
    decisions = fields.Dict(keys=fields.String(), values=fields.Nested(DecisionSchema))
    alerts = fields.List(fields.Nested(RaisedAlertSchema))
    errors = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "rulesets that could not decide, and why"})


class WhatIfResultSchema(Schema):
    as_of = fields.Date()
    rulesets = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "the published versions evaluated"})
    subscriber = fields.Nested(OutcomeSchema)
    customer = fields.Nested(OutcomeSchema)
    customer_facts = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True),
                                 metadata={"description": "the customer's facts as "
                                                          "evaluated (money in yuan)"})


@blueprint.route("", methods=["POST"])
@blueprint.guard(Permission.READ_RULES)
@blueprint.arguments(WhatIfSchema)
@blueprint.response(200, WhatIfResultSchema)
def evaluate(body: dict[str, Any]) -> dict[str, Any]:
    """Evaluate a line's facts (and optionally its customer's) with the published
    rulesets: each attribute's value with the rule that decided it, the alerts raised.
    The customer is the one-line customer the line would make; customer facts given
    replace the derived ones."""
    found = what_if(db.session, body["subscriber"], body["customer"],
                    body["as_of"] or clock.today())
    db.session.rollback()  # read only: nothing to keep
    return _outcome_document(found)


def _outcome_document(found: WhatIf) -> dict[str, Any]:
    facts = FACTS[Subject.CUSTOMER]
    return {
        "as_of": found.as_of,
        "rulesets": found.versions,
        "subscriber": _outcome(found.line, found),
        "customer": _outcome(found.customer, found),
        "customer_facts": {name: display(facts[name], value) if value is not None else None
                           for name, value in found.customer_facts.items() if name in facts},
    }


def _outcome(result: RecordResult, found: WhatIf) -> dict[str, Any]:
    return {"decisions": {output: _decided(decision, found)
                          for output, decision in result.decisions.items()},
            "alerts": [{**_decided(alert, found), "type": alert.type,
                        "severity": alert.severity, "message": alert.message}
                       for alert in result.alerts],
            "errors": result.errors}


def _decided(decision: Decision | RaisedAlert, found: WhatIf) -> dict[str, Any]:
    document = {"rule_id": decision.rule_id, "ruleset": decision.ruleset,
                "version": decision.version, "facts": decision.facts,
                "rule_title": found.titles.get((decision.ruleset, decision.rule_id))}
    if isinstance(decision, Decision):
        document["value"] = decision.value
    return document
