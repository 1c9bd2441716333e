"""The admin change log (auditors, administrators): who changed what on the admin pages
(org tree, billing areas, staff, line plant, customer groups), from what to what."""

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from webapp.clock import zone
from webapp.database import db
from webapp.orgtree import changelog
from webapp.web.access import Permission, requires

blueprint = Blueprint("adminlog", __name__, url_prefix="/admin-log")

SUBJECTS = {"org_unit": _l("org unit"), "billing_area": _l("billing area"),
            "staff_user": _l("staff account"), "junction_box": _l("junction box"),
            "number_segment": _l("number segment"), "group_type": _l("group type"),
            "customer_group": _l("customer group")}
ACTIONS = {"created": _l("created"), "updated": _l("updated"), "renamed": _l("renamed"),
           "moved": _l("moved"), "retired": _l("retired"), "deleted": _l("deleted"),
           "deactivated": _l("deactivated"), "reactivated": _l("reactivated"),
           "password_reset": _l("password reset"), "members_added": _l("members added"),
           "members_removed": _l("members removed")}


@blueprint.route("/")
@requires(Permission.READ_ADMIN_LOG)
def index() -> Any:
    raw = {key: value for key, value in request.args.items() if key != "before"}
    try:
        filters = changelog.parse_filters(request.args.to_dict())
    except ValidationError as error:
        return render_template("orgtree/change_log.html", raw=raw, rows=[], following=None,
                               problems=error.messages, subjects=SUBJECTS,
                               actions=ACTIONS), 400
    rows, following = changelog.page(db.session.connection(), filters, zone())
    return render_template("orgtree/change_log.html", raw=raw, rows=rows, following=following,
                           problems={}, subjects=SUBJECTS, actions=ACTIONS)
