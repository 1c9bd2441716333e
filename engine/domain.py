"""Vocabulary of the product: the closed sets of values the spec names.

Values are lower-case ASCII codes, stable across releases: they are stored in the
database, written in feed files and referenced by rules.
"""

from enum import StrEnum


class OrgKind(StrEnum):
    """Level of an organisation unit, from the root down."""

    PROVINCE = "province"
    CITY = "city"
    CENTRE = "centre"
    DEPARTMENT = "department"
    AREA = "area"
    COMMUNITY = "community"


#: The only kind allowed directly above each kind (the province is the root).
PARENT_KIND: dict[OrgKind, OrgKind | None] = {
    OrgKind.PROVINCE: None,
    OrgKind.CITY: OrgKind.PROVINCE,
    OrgKind.CENTRE: OrgKind.CITY,
    OrgKind.DEPARTMENT: OrgKind.CENTRE,
    OrgKind.AREA: OrgKind.DEPARTMENT,
    OrgKind.COMMUNITY: OrgKind.AREA,
}

#: Kinds that belong to exactly one sales channel.
CHANNEL_KINDS = frozenset({OrgKind.DEPARTMENT, OrgKind.AREA, OrgKind.COMMUNITY})


class Channel(StrEnum):
    """Sales channel responsible for a community."""

    PUBLIC = "public"
    BUSINESS = "business"
    KEY_ACCOUNT = "key_account"
    BUNDLED = "bundled"
    TRANSIENT = "transient"


class SubscriberStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    SUSPENDED_KEEP_NUMBER = "suspended_keep_number"
    DISCONNECTED = "disconnected"
    CLOSED = "closed"


class VipCard(StrEnum):
    NONE = "none"
    SILVER = "silver"
    GOLD = "gold"
    DIAMOND = "diamond"


class StatisticalAttribute(StrEnum):
    """How a customer is counted in reports to the group company."""

    KEY_ACCOUNT = "key_account"
    BUSINESS = "business"
    PUBLIC = "public"
    BUNDLED = "bundled"
    TRANSIENT = "transient"


class LifecycleStage(StrEnum):
    ACQUISITION = "A"
    BUILD_UP = "B"
    MATURITY = "C"
    DECLINE = "D"
    EXIT = "E"


class ClassifiedAttribute(StrEnum):
    """Classification values a ruleset or a manual pin decides."""

    STATISTICAL_ATTRIBUTE = "statistical_attribute"
    MARKETING_ATTRIBUTE = "marketing_attribute"
    COMMUNITY = "community"
    SERVICE_TIER = "service_tier"
    LIFECYCLE_STAGE = "lifecycle_stage"


class Severity(StrEnum):
    """Three-colour severity, or churn-warning level 1-3."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    LEVEL_1 = "level_1"
    LEVEL_2 = "level_2"
    LEVEL_3 = "level_3"


class StaffRole(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    CHANNEL_MANAGER = "channel_manager"
    AUDITOR = "auditor"
    VIEWER = "viewer"


class DecisionSource(StrEnum):
    """Where a stored classification value came from."""

    RULE = "rule"
    PIN = "pin"


class RunKind(StrEnum):
    """Why a classification run evaluates what it evaluates."""

    FULL = "full"  # every customer
    CHANGED = "changed"  # queued by imports, manual changes and expired pins
    DUE = "due"  # whose outcome may change with the date alone, and the queue
    PUBLISHED = "published"  # every customer, after a ruleset version was published


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    #: Found running by a later run whose process was gone (killed, crashed).
    INTERRUPTED = "interrupted"
