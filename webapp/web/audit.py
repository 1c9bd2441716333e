"""The adjustment-log browser (auditors, admins): filters, pages, CSV export, and the
hash-chain check."""

from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from marshmallow import ValidationError

from engine.domain import ClassifiedAttribute
from webapp.audit import chain, search
from webapp.database import db
from webapp.web.access import Permission, requires

blueprint = Blueprint("audit", __name__, url_prefix="/audit")


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


@blueprint.route("/")
@requires(Permission.READ_AUDIT)
def index() -> Any:
    raw = request.args.to_dict()
    try:
        filters = search.parse_filters(raw)
    except ValidationError as error:
        return render_template("audit/index.html", raw=raw, rows=[], following=None,
                               problems=error.messages,
                               attributes=list(ClassifiedAttribute)), 400
    rows, following = search.page(db.session.connection(), filters, _zone())
    return render_template("audit/index.html", raw=raw, rows=rows, following=following,
                           problems={}, attributes=list(ClassifiedAttribute))


@blueprint.route("/export.csv")
@requires(Permission.READ_AUDIT)
def export() -> Any:
    try:
        filters = search.parse_filters(request.args.to_dict())
    except ValidationError as error:
        return {"errors": error.messages}, 400
    filters.pop("before", None)
    zone = _zone()

    def rows() -> Any:
        with db.engine.connect() as conn:
            yield from search.export_csv(conn, filters, zone)

    return Response(stream_with_context(rows()), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="adjustment-log.csv"'})


@blueprint.route("/verify", methods=["POST"])
@requires(Permission.READ_AUDIT)
def verify() -> Any:
    with db.engine.connect() as conn:
        report = chain.verify(conn)
    if report.ok:
        flash(_("The chain is intact: %(rows)s rows verified.", rows=f"{report.rows:,}"),
              "success")
    else:
        flash(_("The chain is broken at row %(id)s (position %(seq)s): %(reason)s",
                id=report.broken_id, seq=report.broken_seq, reason=report.reason), "danger")
    return redirect(url_for(".index"))
