"""All models, imported here so that the metadata knows every table."""

from webapp.models.admin_changes import AdminChange
from webapp.models.alerts import Alert
from webapp.models.audit import AdjustmentLogEntry, AuditChainHead
from webapp.models.changes import PendingChange
from webapp.models.customers import (
    Customer,
    CustomerDecision,
    CustomerGroup,
    GroupType,
    SubscriberDecision,
    customer_group_member,
)
from webapp.models.imports import ImportRun
from webapp.models.org import BillingArea, JunctionBox, NumberSegment, OrgUnit
from webapp.models.reports import (
    ReportArrival,
    ReportGroup,
    ReportPopulation,
    ReportRefresh,
    ReportRuleChange,
    ReportRuleDecision,
    ReportStock,
)
from webapp.models.rulesets import PreviewJob, RulesetChange, RulesetDraft, RulesetVersion
from webapp.models.runs import ClassificationRun
from webapp.models.scheduler import scheduler_job
from webapp.models.staff import StaffUser
from webapp.models.subscribers import Subscriber, SubscriberMonth
from webapp.models.tokens import ApiToken

__all__ = [
    "AdjustmentLogEntry",
    "AdminChange",
    "Alert",
    "ApiToken",
    "AuditChainHead",
    "BillingArea",
    "ClassificationRun",
    "Customer",
    "CustomerDecision",
    "CustomerGroup",
    "GroupType",
    "ImportRun",
    "JunctionBox",
    "NumberSegment",
    "OrgUnit",
    "PendingChange",
    "PreviewJob",
    "ReportArrival",
    "ReportGroup",
    "ReportPopulation",
    "ReportRefresh",
    "ReportRuleChange",
    "ReportRuleDecision",
    "ReportStock",
    "RulesetChange",
    "RulesetDraft",
    "RulesetVersion",
    "StaffUser",
    "Subscriber",
    "SubscriberDecision",
    "SubscriberMonth",
    "customer_group_member",
    "scheduler_job",
]
