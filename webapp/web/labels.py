"""Words for codes shown in the UI (roles, kinds of change), marked for translation."""

from flask_babel import lazy_gettext as _l

from engine.domain import StaffRole

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
