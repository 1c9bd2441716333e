"""Words for codes shown in the UI (roles, kinds of change), marked for translation."""

from flask_babel import lazy_gettext as _l

from engine.domain import ClassifiedAttribute, RunKind, RunStatus, Severity, StaffRole

ROLES = {
    StaffRole.ADMIN: _l("administrator"),
    StaffRole.ANALYST: _l("business analyst"),
    StaffRole.CHANNEL_MANAGER: _l("channel manager"),
    StaffRole.AUDITOR: _l("auditor"),
    StaffRole.VIEWER: _l("viewer"),
}

#: Kinds of row change in a diff of two ruleset versions.
ROW_CHANGES = {"added": _l("added"), "removed": _l("removed"), "changed": _l("changed"),
               "moved": _l("moved")}

#: What a ``ruleset_change`` row records.
CHANGE_ACTIONS = {"draft_saved": _l("draft saved"), "published": _l("published"),
                  "rolled_back": _l("rolled back"), "imported": _l("imported"),
                  "draft_discarded": _l("draft discarded")}

#: Kinds and states of a classification run (dashboard).
RUN_KINDS = {RunKind.FULL: _l("full (everyone)"), RunKind.CHANGED: _l("changed (the queue)"),
             RunKind.DUE: _l("due (daily)"), RunKind.PUBLISHED: _l("published (new rules)")}
RUN_STATUSES = {RunStatus.RUNNING: _l("running"), RunStatus.FINISHED: _l("finished"),
                RunStatus.FAILED: _l("failed"), RunStatus.INTERRUPTED: _l("interrupted")}

#: Names of the classified attributes.
ATTRIBUTES = {
    ClassifiedAttribute.STATISTICAL_ATTRIBUTE: _l("Statistical attribute"),
    ClassifiedAttribute.MARKETING_ATTRIBUTE: _l("Marketing attribute"),
    ClassifiedAttribute.COMMUNITY: _l("Community"),
    ClassifiedAttribute.SERVICE_TIER: _l("Service tier"),
    ClassifiedAttribute.LIFECYCLE_STAGE: _l("Lifecycle stage"),
}

#: Severities of an alert: three colours, or churn-warning levels.
SEVERITIES = {Severity.GREEN: _l("green"), Severity.YELLOW: _l("yellow"), Severity.RED: _l("red"),
              Severity.LEVEL_1: _l("level 1"), Severity.LEVEL_2: _l("level 2"),
              Severity.LEVEL_3: _l("level 3")}
