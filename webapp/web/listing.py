"""What the alert pages and the target-list pages share: the words for alert codes, the
alert table's columns, the filter widgets, and reading the filters of a request.

A table's rows are built here as cells (:mod:`webapp.web.exports`): the page shows
exactly the cells its export writes.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import Connection, select

from engine.domain import OrgKind, Severity
from webapp.alerting.alerts import STATUSES, AlertRow
from webapp.models import BillingArea, OrgUnit
from webapp.web.exports import FORMATS, Cell, cell_text, local_time

#: Alert types of the default rules (``rules/alerts.yaml``); a type the analysts add
#: shows as its code until it is given words here.
ALERT_TYPES = {
    "agreement_ending": _l("Agreement ending"),
    "prepaid_low_balance": _l("Low prepaid balance"),
    "arrears": _l("Arrears"),
    "zero_traffic": _l("Zero traffic"),
    "suspended_keep_number": _l("Suspended, number kept"),
    "active_disconnection": _l("Active disconnection"),
    "long_distance_churn": _l("Long-distance traffic churn"),
    "local_churn": _l("Local traffic churn"),
    "abnormal_fluctuation": _l("Abnormal fluctuation"),
    "churn_warning": _l("Churn warning"),
}
SEVERITIES = {
    Severity.GREEN: _l("green"), Severity.YELLOW: _l("yellow"), Severity.RED: _l("red"),
    Severity.LEVEL_1: _l("level 1"), Severity.LEVEL_2: _l("level 2"),
    Severity.LEVEL_3: _l("level 3"),
}
#: Bootstrap colour of each severity's badge.
SEVERITY_BADGES = {
    Severity.GREEN: "text-bg-success", Severity.YELLOW: "text-bg-warning",
    Severity.RED: "text-bg-danger", Severity.LEVEL_1: "text-bg-info",
    Severity.LEVEL_2: "text-bg-warning", Severity.LEVEL_3: "text-bg-danger",
}
#: The alert list's status filter.
STATUS_CHOICES = dict(zip(STATUSES, (_l("open"), _l("cleared"), _l("acknowledged"),
                                     _l("open, not acknowledged")), strict=True))
ALERT_COLUMNS = (_l("Raised"), _l("Alert type"), _l("Severity"), _l("Customer code"),
                 _l("Name"), _l("Service number"), _l("Message"), _l("Status"),
                 _l("Cleared"), _l("Acknowledged by"), _l("Acknowledged at"))
#: Position of the customer code in a row of cells (linked to the customer page).
ALERT_CUSTOMER_COLUMN = 3
FILTER_LABELS = {
    "alert_type": _l("Alert type"), "severity": _l("Severity"), "status": _l("Status"),
    "org_unit": _l("Org unit code"), "date_from": _l("From date"), "date_to": _l("To date"),
    "city": _l("City"), "billing_area": _l("Billing area"),
    "statistical_attribute": _l("Statistical attribute"), "service_tier": _l("Service tier"),
    "revenue_basis": _l("Revenue"), "revenue_min": _l("At least (yuan)"),
}
REVENUE_BASES = {"this_month": _l("this month"), "avg_3m": _l("3-month average")}

Parsed = TypeVar("Parsed")


def alert_type_label(kind: str) -> str:
    return str(ALERT_TYPES.get(kind, kind))


def alert_cells(row: AlertRow, zone: ZoneInfo) -> tuple[Cell, ...]:
    """An alert as the cells of :data:`ALERT_COLUMNS`."""
    return (local_time(row.raised_at, zone), alert_type_label(row.alert_type),
            str(SEVERITIES.get(Severity(row.severity), row.severity)), row.customer_code,
            row.customer_name, row.service_number,
            row.message, str(_l("open") if row.open else _l("cleared")),
            local_time(row.cleared_at, zone), row.acknowledged_by,
            local_time(row.acknowledged_at, zone))


def customer_link(code: str) -> str | None:
    """The customer page of ``code``, when the application has customer pages."""
    if "customers.show" not in current_app.view_functions:
        return None
    return url_for("customers.show", code=code)


@dataclass(frozen=True)
class Widget:
    """A filter of a form: a select when it has options, else an input of ``kind``."""

    name: str
    label: str
    kind: str = "text"
    options: Sequence[tuple[str, str]] | None = None


def widgets(conn: Connection, names: Sequence[str], *, alert_types: Sequence[str] = (),
            tiers: Sequence[str] = (), categories: Sequence[str] = ()) -> list[Widget]:
    """The widgets of the filters ``names``, with their choices."""
    choices: dict[str, Callable[[], list[tuple[str, str]]]] = {
        "alert_type": lambda: [(kind, alert_type_label(kind)) for kind in alert_types],
        "severity": lambda: [(key.value, str(label)) for key, label in SEVERITIES.items()],
        "status": lambda: [(key, str(label)) for key, label in STATUS_CHOICES.items()],
        "statistical_attribute": lambda: [(value, value) for value in categories],
        "service_tier": lambda: [(value, value) for value in tiers],
        "revenue_basis": lambda: [(key, str(label)) for key, label in REVENUE_BASES.items()],
        "city": lambda: [(code, f"{code} {name}") for code, name in conn.execute(
            select(OrgUnit.code, OrgUnit.name).where(OrgUnit.kind == OrgKind.CITY)
            .order_by(OrgUnit.code))],
        "billing_area": lambda: [(code, f"{code} {name}") for code, name in conn.execute(
            select(BillingArea.code, BillingArea.name).order_by(BillingArea.code))],
    }
    kinds = {"date_from": "date", "date_to": "date", "revenue_min": "number"}
    return [Widget(name, str(FILTER_LABELS[name]), kinds.get(name, "text"),
                   choices[name]() if name in choices else None) for name in names]


def read_filters(parse: Callable[[], Parsed]) -> tuple[Parsed | None, dict[str, list[str]]]:
    """``parse()`` and no problems, or None and the problems of each bad field."""
    try:
        return parse(), {}
    except ValidationError as error:
        messages = error.messages
        if not isinstance(messages, Mapping):
            messages = {"_schema": list(messages)}
        return None, {str(name): [str(text) for text in texts] if isinstance(texts, list)
                      else [str(texts)] for name, texts in messages.items()}


def export_format(raw: Mapping[str, str]) -> str:
    """The ``format`` of an export request (CSV when not given); ``ValidationError``."""
    chosen = (raw.get("format") or "csv").strip()
    if chosen not in FORMATS:
        raise ValidationError({"format": [f"must be one of: {', '.join(FORMATS)}"]})
    return chosen


def link_query(raw: Mapping[str, str], names: Sequence[str]) -> dict[str, str]:
    """The filters ``names`` of a query string, to carry into links (next page, export):
    nothing else of the query string goes into a URL the page builds."""
    return {key: value for key, value in raw.items() if key in names}


def table_context() -> dict[str, object]:
    """What the table macros of ``alerts/_macros.html`` need."""
    return {"cell": cell_text, "customer_link": customer_link,
            "customer_column": ALERT_CUSTOMER_COLUMN, "severity_badges": SEVERITY_BADGES}
