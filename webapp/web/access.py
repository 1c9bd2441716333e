"""Who may do what: permissions per role, checked on the server for every route.

Deny by default: a view of the web UI that declares no permission with :func:`requires`
(and is not :func:`public`) answers 403 to everyone, so a new route cannot be left open
by forgetting a decorator.
"""

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request
from flask_login import current_user

from engine.domain import StaffRole


class Permission(StrEnum):
    #: See the home page (everyone signed in).
    HOME = "home"
    #: Read rulesets: list, versions, diff, export.
    READ_RULES = "read_rules"
    #: Edit drafts, their test cases, run impact previews, import.
    EDIT_RULES = "edit_rules"
    #: Publish a draft, roll back to an old version.
    PUBLISH_RULES = "publish_rules"
    #: Browse and export the adjustment log, verify its hash chain.
    READ_AUDIT = "read_audit"
    #: Search customers in one's org scope and read why they are classified so.
    READ_CUSTOMERS = "read_customers"
    #: Monthly division review: move customers to communities, pin and unpin values.
    ADJUST_CUSTOMERS = "adjust_customers"
    #: Alerts and target lists in one's org scope, with their exports.
    READ_ALERTS = "read_alerts"
    #: Acknowledge an alert (front-line staff have dealt with it).
    ACKNOWLEDGE_ALERTS = "acknowledge_alerts"
    #: Start a scheduler run from the dashboard.
    RUN_PIPELINE = "run_pipeline"
    #: Issue and revoke API tokens.
    MANAGE_API_TOKENS = "manage_api_tokens"
    #: Send subscriber records through the API (billing's feed, one record at a time).
    SUBMIT_RECORDS = "submit_records"
    #: The organisation tree: add, rename, move and retire units, billing areas.
    MANAGE_ORG = "manage_org"
    #: Staff accounts: create, edit, deactivate, role and org scope, password reset.
    MANAGE_STAFF = "manage_staff"
    #: Read the log of changes made on the admin pages (org tree, staff, line plant, groups).
    READ_ADMIN_LOG = "read_admin_log"
    #: Line plant: junction boxes and number segments and the communities they map to
    #: (channel managers within their org scope).
    MANAGE_LINE_PLANT = "manage_line_plant"
    #: Customer groups and their types: create, rename, delete, members.
    MANAGE_GROUPS = "manage_groups"
    #: The fixed reports, limited to one's org scope.
    READ_REPORTS = "read_reports"


ROLE_PERMISSIONS: dict[StaffRole, frozenset[Permission]] = {
    StaffRole.ADMIN: frozenset(Permission),
    StaffRole.ANALYST: frozenset({Permission.HOME, Permission.READ_RULES, Permission.EDIT_RULES,
                                  Permission.PUBLISH_RULES, Permission.READ_CUSTOMERS,
                                  Permission.READ_ALERTS, Permission.MANAGE_GROUPS,
                                  Permission.READ_REPORTS}),
    StaffRole.AUDITOR: frozenset({Permission.HOME, Permission.READ_RULES,
                                  Permission.READ_AUDIT, Permission.READ_CUSTOMERS,
                                  Permission.READ_ALERTS, Permission.READ_ADMIN_LOG,
                                  Permission.READ_REPORTS}),
    StaffRole.CHANNEL_MANAGER: frozenset({Permission.HOME, Permission.READ_CUSTOMERS,
                                          Permission.ADJUST_CUSTOMERS, Permission.READ_ALERTS,
                                          Permission.ACKNOWLEDGE_ALERTS,
                                          Permission.MANAGE_LINE_PLANT,
                                          Permission.MANAGE_GROUPS, Permission.READ_REPORTS}),
    # Front-line staff: read customers, work their alerts and target lists.
    StaffRole.VIEWER: frozenset({Permission.HOME, Permission.READ_RULES,
                                 Permission.READ_CUSTOMERS, Permission.READ_ALERTS,
                                 Permission.ACKNOWLEDGE_ALERTS, Permission.READ_REPORTS}),
}

View = TypeVar("View", bound=Callable[..., Any])
_PERMISSION = "_required_permission"
_PUBLIC = "_public_view"


def can(permission: Permission) -> bool:
    """Whether the signed-in person has ``permission`` (templates use it for links)."""
    return bool(current_user.is_authenticated
                and permission in ROLE_PERMISSIONS[current_user.role])


def requires(permission: Permission) -> Callable[[View], View]:
    """Mark a view as needing ``permission``; :func:`check_access` enforces it."""
    def mark(view: View) -> View:
        setattr(view, _PERMISSION, permission)
        return view
    return mark


def public(view: View) -> View:
    """Mark a view as open to people not signed in (sign-in page, language switch)."""
    setattr(view, _PUBLIC, True)
    return view


#: ``app.extensions`` key: blueprints that check every request themselves.
_SELF_CHECKED = "custclass.self_checked_blueprints"


def checks_own_access(app: Flask, blueprint: str) -> None:
    """Leave ``blueprint`` out of the sign-in check: it authenticates and authorises each
    request itself, deny by default too (the JSON API, with bearer tokens)."""
    app.extensions.setdefault(_SELF_CHECKED, set()).add(blueprint)


def check_access() -> Any:
    """``before_request`` hook: sign-in first, then the view's permission, else 403."""
    if request.endpoint is None or request.endpoint == "static" \
            or request.endpoint.startswith("bootstrap.") \
            or request.blueprint in current_app.extensions.get(_SELF_CHECKED, ()):
        return None
    view = current_app.view_functions[request.endpoint]
    if getattr(view, _PUBLIC, False):
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    permission = getattr(view, _PERMISSION, None)
    if permission is None or not can(permission):
        abort(403)
    return None

