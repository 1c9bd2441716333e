"""The fact catalog: every fact a rule may read, with its type, unit, meaning and source.

Facts belong to a *subject*: a subscriber line or a customer. A ruleset reads the facts of
its subject plus the outputs of the rulesets it depends on. The catalog is what the rule
editor shows analysts, and what the validator and the compiler check rules against.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from engine.domain import (
    Channel,
    ClassifiedAttribute,
    LifecycleStage,
    StatisticalAttribute,
    SubscriberStatus,
    VipCard,
)


class Subject(StrEnum):
    SUBSCRIBER = "subscriber"
    CUSTOMER = "customer"


class FactType(StrEnum):
    """Value types of facts; each has its own operators and literal syntax."""

    INTEGER = "integer"
    #: Amount of money: yuan with at most 2 decimals in rules, integer cents in records.
    MONEY = "money"
    #: Exact decimal with 2 decimals (percentages, percentiles); rounded half-even.
    DECIMAL = "decimal"
    DATE = "date"
    STRING = "string"
    ENUM = "enum"
    BOOLEAN = "boolean"


class Clock(StrEnum):
    """How a derived fact moves with the evaluation date alone (see :mod:`engine.due`)."""

    #: Computed from the latest complete month: changes when the month turns.
    MONTH = "month"
    #: Days until the ``anchor`` date: one less every day.
    COUNTDOWN = "countdown"
    #: Whole months since the ``anchor`` date: one more on each monthly anniversary.
    ANNIVERSARY = "anniversary"


class Source(StrEnum):
    STORED = "stored"
    DERIVED = "derived"
    LOOKUP = "lookup"
    RULESET = "ruleset"


#: Decimal places kept for ``decimal`` facts.
DECIMAL_PLACES = 2


@dataclass(frozen=True)
class Fact:
    name: str
    type: FactType
    meaning: str
    source: Source
    unit: str = ""
    #: Allowed values of an ``enum`` fact.
    values: tuple[str, ...] = ()
    #: How the fact changes with time alone (None: only when its data changes).
    clock: Clock | None = None
    #: The date fact a ``countdown`` or ``anniversary`` fact counts from.
    anchor: str = ""
    #: A text fact holding several codes, sorted and joined by this separator (empty: a
    #: single value). On such a fact ``eq`` / ``in`` test whether one of the codes is
    #: (one of) the value(s), ``ne`` / ``not_in`` that the list has codes and none is;
    #: they are evaluated while encoding the record, so the engine sees 1/0, never a list.
    separator: str = ""


@dataclass(frozen=True)
class Output:
    """Something a ruleset decides; ``alerts`` is the output of collect rulesets."""

    name: str
    subject: Subject
    fact: Fact | None
    meaning: str


def _enum(name: str, enum: type[StrEnum], meaning: str, source: Source = Source.STORED) -> Fact:
    return Fact(name, FactType.ENUM, meaning, source, values=tuple(item.value for item in enum))


def _facts(*facts: Fact) -> dict[str, Fact]:
    return {fact.name: fact for fact in facts}


INT, MON, DEC, DAT, STR, BOOL = (FactType.INTEGER, FactType.MONEY, FactType.DECIMAL,
                                 FactType.DATE, FactType.STRING, FactType.BOOLEAN)
ST, DV, LK = Source.STORED, Source.DERIVED, Source.LOOKUP
MONTHLY = {"clock": Clock.MONTH}

#: Facts of a customer or a line that both subjects describe the same way.
_REVENUE = (
    Fact("revenue_this_month", MON, "Revenue of the latest month with data, all categories",
         DV, "yuan/month", **MONTHLY),
    Fact("revenue_avg_3m", MON, "Average monthly revenue of the 3 months before this month",
         DV, "yuan/month", **MONTHLY),
    Fact("revenue_avg_12m", MON, "Average monthly revenue of the last 12 months (this one "
         "included); months before installation count as zero", DV, "yuan/month", **MONTHLY),
    Fact("revenue_change_pct", DEC, "This month's revenue vs. the previous 3-month average "
         "(empty when that average is zero)", DV, "%", **MONTHLY),
    Fact("tenure_months", INT, "Whole months since installation (the oldest line for a "
         "customer)", DV, "months", clock=Clock.ANNIVERSARY, anchor="install_date"),
)

SUBSCRIBER_FACTS = _facts(
    Fact("service_number", STR, "Service (access) number", ST),
    _enum("status", SubscriberStatus, "Line status from billing"),
    Fact("contract_number", STR, "Billing contract number", ST),
    Fact("product", STR, "Product / plan name", ST),
    Fact("prepaid", BOOL, "Prepaid line", ST),
    Fact("balance", MON, "Prepaid balance (empty for post-paid lines)", ST, "yuan"),
    Fact("agreement_end_date", DAT, "End of the service agreement (empty if none)", ST),
    Fact("install_date", DAT, "Installation date", ST),
    Fact("arrears_amount", MON, "Amount overdue", ST, "yuan"),
    Fact("arrears_days", INT, "Days the oldest unpaid bill is overdue (0: none)", ST, "days"),
    Fact("billing_area", STR, "Billing area code", ST),
    Fact("junction_box", STR, "Junction box code (empty until the line-plant feed has it)", ST),
    _enum("vip_card", VipCard, "VIP card of the line's customer"),
    Fact("key_account", BOOL, "The line's customer is on the key-account list", ST),
    *_REVENUE,
    Fact("days_to_agreement_end", INT, "Days from the evaluation date to the agreement end "
         "(negative: ended; empty: no agreement)", DV, "days", clock=Clock.COUNTDOWN,
         anchor="agreement_end_date"),
    Fact("long_distance_minutes", INT, "Long-distance minutes this month", DV, "minutes",
         **MONTHLY),
    Fact("long_distance_change_pct", DEC, "Long-distance minutes this month vs. the previous "
         "3-month average", DV, "%", **MONTHLY),
    Fact("local_minutes", INT, "Local minutes this month", DV, "minutes", **MONTHLY),
    Fact("local_change_pct", DEC, "Local minutes this month vs. the previous 3-month average",
         DV, "%", **MONTHLY),
    Fact("zero_traffic", BOOL, "No traffic of any category this month", DV, **MONTHLY),
    Fact("box_community", STR, "Community of the line's junction box", LK),
    _enum("box_channel", Channel, "Channel of the junction box's community", LK),
    Fact("segment_community", STR, "Community of the number segment holding the service "
         "number", LK),
    _enum("segment_channel", Channel, "Channel of the number segment's community", LK),
    Fact("unassigned_community", STR, "The billing area's unassigned community of the public "
         "channel", LK),
)

CUSTOMER_FACTS = _facts(
    Fact("customer_code", STR, "Customer code (C + contract number)", ST),
    Fact("customer_name", STR, "Customer name (the first line's subscriber name)", ST),
    _enum("vip_card", VipCard, "VIP card"),
    Fact("key_account", BOOL, "On the provincial key-account list", ST),
    Fact("line_count", INT, "Lines on the contract", DV, "lines"),
    Fact("active_line_count", INT, "Lines with status active", DV, "lines"),
    Fact("prepaid_only", BOOL, "Every line of the customer is prepaid", DV),
    Fact("main_product", STR, "Product of the customer's main line (highest revenue)", DV),
    Fact("install_date", DAT, "Installation date of the customer's oldest line", DV),
    *_REVENUE,
    Fact("revenue_percentile", DEC, "Percentile of the 12-month average revenue among "
         "customers without a VIP card (0-100), in the population of the customer's last "
         "evaluation; every customer is evaluated again when the month turns", DV, "%",
         **MONTHLY),
    Fact("community", STR, "Community of the customer's main line", LK),
    _enum("channel", Channel, "Channel of the customer's community", LK),
    Fact("key_account_department", STR, "Key-account department responsible for the "
         "customer's community", LK),
    Fact("business_department", STR, "Business department responsible for the customer's "
         "community", LK),
    Fact("bundled_department", STR, "Bundled-customer department responsible for the "
         "customer's community", LK),
    Fact("in_group", BOOL, "The customer belongs to at least one customer group", LK),
    Fact("group_type", STR, "Types of the customer's groups (industrial_park, building, "
         "...): their codes, sorted and joined by commas; empty when in no group. "
         "= / in: one of the customer's groups has the type (one of the types); "
         "≠ / not in: the customer is in a group and none has it; starts with and matches "
         "read the whole list", LK, separator=","),
)

FACTS: dict[Subject, dict[str, Fact]] = {
    Subject.SUBSCRIBER: SUBSCRIBER_FACTS,
    Subject.CUSTOMER: CUSTOMER_FACTS,
}

_TIER_PATTERN_MEANING = "Service tier code (see rules/service_tiers.yaml)"

OUTPUTS: dict[str, Output] = {
    output.name: output
    for output in (
        Output(ClassifiedAttribute.COMMUNITY.value, Subject.SUBSCRIBER,
               Fact(ClassifiedAttribute.COMMUNITY.value, STR, "Community the line is attributed to",
                    Source.RULESET),
               "Community (org-unit code) of a line"),
        Output(ClassifiedAttribute.STATISTICAL_ATTRIBUTE.value, Subject.CUSTOMER,
               _enum(ClassifiedAttribute.STATISTICAL_ATTRIBUTE.value, StatisticalAttribute,
                     "How the customer is counted in reports", Source.RULESET),
               "Statistical attribute"),
        Output(ClassifiedAttribute.MARKETING_ATTRIBUTE.value, Subject.CUSTOMER,
               Fact(ClassifiedAttribute.MARKETING_ATTRIBUTE.value, STR,
                    "Org unit responsible for selling to the customer", Source.RULESET),
               "Marketing attribute (org-unit code)"),
        Output(ClassifiedAttribute.SERVICE_TIER.value, Subject.CUSTOMER,
               Fact(ClassifiedAttribute.SERVICE_TIER.value, STR, _TIER_PATTERN_MEANING,
                    Source.RULESET),
               "Service tier"),
        Output(ClassifiedAttribute.LIFECYCLE_STAGE.value, Subject.CUSTOMER,
               _enum(ClassifiedAttribute.LIFECYCLE_STAGE.value, LifecycleStage,
                     "Lifecycle stage A-E", Source.RULESET),
               "Lifecycle stage"),
        Output("alerts", Subject.SUBSCRIBER, None, "Alerts on a line"),
    )
}


@dataclass
class Catalog:
    """The facts and outputs rules may use; the default is the product's own."""

    facts: dict[Subject, dict[str, Fact]] = field(default_factory=lambda: dict(FACTS))
    outputs: dict[str, Output] = field(default_factory=lambda: dict(OUTPUTS))

    def visible_facts(self, subject: Subject, dependency_outputs: list[str]) -> dict[str, Fact]:
        """Facts a ruleset of ``subject`` may read, given the outputs it depends on."""
        visible = dict(self.facts[subject])
        for name in dependency_outputs:
            output = self.outputs.get(name)
            if output is not None and output.fact is not None:
                visible[name] = output.fact
        return visible


DEFAULT_CATALOG = Catalog()
