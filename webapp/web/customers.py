"""Customer search and the customer page: every value with its source and reason, the
lines, the alerts and the adjustment history; pins for those who may adjust."""

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from engine.domain import ClassifiedAttribute
from webapp.audit import search as log_search
from webapp.classification.why import explain_customer
from webapp.clock import now
from webapp.database import db
from webapp.models import Customer, Subscriber
from webapp.pipeline.adjust import AdjustmentRefusedError, pin, unpin
from webapp.scope import scope_of
from webapp.web.access import Permission, can, requires
from webapp.web.adjusting import (
    CUSTOMER_ATTRIBUTES,
    PinForm,
    UnpinForm,
    end_of_day,
    form_problems,
    policy,
    refused,
    window_state,
)

blueprint = Blueprint("customers", __name__, url_prefix="/customers")

#: Search results shown (a name prefix can match many customers).
RESULTS = 50
MAX_QUERY = 100


@blueprint.route("/")
@requires(Permission.READ_CUSTOMERS)
def index() -> Any:
    query = request.args.get("q", "").strip()
    if len(query) > MAX_QUERY:
        flash(_("The search text is longer than %(max)s characters.", max=MAX_QUERY), "danger")
        return render_template("customers/index.html", query=query[:MAX_QUERY],
                               results=[]), 400
    results = _search(query) if query else []
    if len(results) == 1:
        return redirect(url_for(".show", code=results[0].code))
    return render_template("customers/index.html", query=query, results=results)


def _search(query: str) -> list[Customer]:
    """Customers in the person's scope whose code, contract number or one line's service
    number is ``query``, or whose name starts with it."""
    lines = select(Subscriber.customer_id).where(Subscriber.service_number == query)
    found = select(Customer).where(
        or_(Customer.code == query, Customer.contract_number == query,
            Customer.id.in_(lines), Customer.name.startswith(query, autoescape=True)),
        scope_of(db.session.connection(), current_user).customers())
    return list(db.session.scalars(found.order_by(Customer.code).limit(RESULTS)))


def _customer_or_404(code: str) -> Customer:
    """The customer, if it is in the person's scope (else 404: its existence is not
    disclosed)."""
    customer = db.session.scalar(select(Customer).where(
        Customer.code == code[:40], scope_of(db.session.connection(), current_user).customers()))
    if customer is None:
        abort(404, _("No customer %(code)s in your org scope.", code=code[:40]))
    return customer


@blueprint.route("/<code>")
@requires(Permission.READ_CUSTOMERS)
def show(code: str) -> Any:
    customer = _customer_or_404(code)
    explanation = explain_customer(db.session, customer)
    history, older = log_search.page(db.session.connection(), {"customer": customer.code},
                                     ZoneInfo(current_app.config["TIMEZONE"]))
    form = PinForm() if can(Permission.ADJUST_CUSTOMERS) else None
    return render_template("customers/show.html", customer=customer, explained=explanation,
                           history=history, older=older, pin_form=form,
                           unpin_form=UnpinForm() if form else None,
                           window=window_state() if form else None)


@blueprint.route("/<code>/pin", methods=["POST"])
@requires(Permission.ADJUST_CUSTOMERS)
def pin_value(code: str) -> Any:
    customer = _customer_or_404(code)
    form = PinForm()
    if not form.validate_on_submit():
        form_problems(form)
        return redirect(url_for(".show", code=customer.code)), 303
    try:
        changed = pin(db.session, current_user, customer,
                      ClassifiedAttribute(form.attribute.data), form.value.data,
                      form.reason.data, now(), policy(), end_of_day(form.expires.data))
    except AdjustmentRefusedError as error:
        refused(error)
    else:
        flash(_("%(attribute)s pinned to %(value)s (%(changed)s values changed).",
                attribute=form.attribute.data, value=form.value.data.strip(),
                changed=changed), "success")
    return redirect(url_for(".show", code=customer.code)), 303


@blueprint.route("/<code>/unpin", methods=["POST"])
@requires(Permission.ADJUST_CUSTOMERS)
def unpin_value(code: str) -> Any:
    customer = _customer_or_404(code)
    form = UnpinForm()
    if not form.validate_on_submit() or form.attribute.data not in CUSTOMER_ATTRIBUTES:
        form_problems(form)
        return redirect(url_for(".show", code=customer.code)), 303
    try:
        unpin(db.session, current_user, customer, ClassifiedAttribute(form.attribute.data),
              form.reason.data, now(), policy())
    except AdjustmentRefusedError as error:
        refused(error)
    else:
        flash(_("%(attribute)s is decided by the rules again.",
                attribute=form.attribute.data), "success")
    return redirect(url_for(".show", code=customer.code)), 303
