"""A target list chosen by name, and the filters of a request read for it: what the list
pages, their exports and the API share."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from engine.domain import ClassifiedAttribute, StatisticalAttribute
from webapp.alerting import alerts, targets, vocabulary
from webapp.alerting.targets import Subject, TargetList

#: The choices a list's filters offer: alert types, tiers, categories.
Vocabularies = dict[str, list[str]]


def choose_list(session: Session, list_name: str) -> tuple[TargetList, Vocabularies] | None:
    """The list named ``list_name`` (None if there is none) and the choices its filters
    offer."""
    types = vocabulary.alert_types(session)
    chosen = targets.find_list(list_name, types)
    if chosen is None:
        return None
    return chosen, {
        "alert_types": types,
        "tiers": vocabulary.attribute_values(session, ClassifiedAttribute.SERVICE_TIER),
        "categories": [value.value for value in StatisticalAttribute]}


def list_filters(conn: Connection, chosen: TargetList, raw: Mapping[str, str],
                 vocabularies: Vocabularies) -> dict[str, Any]:
    """The filters of ``raw`` that ``chosen`` reads, checked; raises marshmallow's
    ``ValidationError`` naming each bad field."""
    if chosen.subject is Subject.CUSTOMERS:
        filters = targets.parse_customer_filters(raw, chosen, vocabularies["alert_types"],
                                                 vocabularies["tiers"])
        targets.check_customer_filters(conn, filters)
        return filters
    filters = alerts.parse_filters(raw, vocabularies["alert_types"],
                                   only=(*chosen.inputs, "before"))
    alerts.check_filters(conn, filters)
    return {**filters, **chosen.preset}
