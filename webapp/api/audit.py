"""``GET /api/v1/audit``: the adjustment log (:mod:`webapp.audit.search`), newest first,
in keyset pages, limited to the customers of the caller's org scope and their lines."""

from typing import Any

from marshmallow import Schema, fields

from webapp import clock
from webapp.api import PREFIX
from webapp.api.access import caller_scope
from webapp.api.base import ApiBlueprint
from webapp.api.schemas import QuerySchema, Timestamp, limit_field
from webapp.audit import search
from webapp.database import db
from webapp.web.access import Permission

blueprint = ApiBlueprint("api-audit", __name__, url_prefix=f"{PREFIX}/audit",
                         description="The adjustment log: every change of a "
                                     "classification value, who made it and why.")


class LogQuerySchema(QuerySchema, search.LogFilterSchema):
    """The log browser's filters."""

    limit = limit_field(search.PAGE)


class LogEntrySchema(Schema):
    id = fields.Integer()
    #: Position in the hash chain: the paging key.
    seq = fields.Integer()
    logged_at = Timestamp()
    subject = fields.String(metadata={"description": "customer or line"})
    customer_code = fields.String(allow_none=True)
    service_number = fields.String(allow_none=True)
    attribute = fields.String()
    old_value = fields.String(allow_none=True)
    new_value = fields.String(allow_none=True)
    actor = fields.String(metadata={"description": "system (run #N) or a username"})
    why = fields.String(metadata={"description": "rule and ruleset version, or the "
                                                 "person's reason"})
    facts = fields.Dict(keys=fields.String(), allow_none=True,
                        metadata={"description": "the facts the rule read"})


class LogPageSchema(Schema):
    items = fields.List(fields.Nested(LogEntrySchema))
    next_before = fields.Integer(allow_none=True, metadata={
        "description": "pass as `before` for the next page; null on the last page"})


@blueprint.route("", methods=["GET"])
@blueprint.guard(Permission.READ_AUDIT)
@blueprint.arguments(LogQuerySchema, location="query")
@blueprint.response(200, LogPageSchema)
def list_entries(query: dict[str, Any]) -> dict[str, Any]:
    """Log entries, newest first: filter by customer code (its own and its lines'
    entries), service number, attribute, old or new value, rule id, ruleset, version,
    actor (`system` or a username), run and the days logged."""
    limit = query.pop("limit")
    rows, following = search.page(db.session.connection(), query, clock.zone(), limit,
                                  scope=caller_scope())
    return {"items": rows, "next_before": following}
