"""The home page: what the signed-in person can open, and the state of the data."""

from typing import Any

from flask import Blueprint, render_template
from sqlalchemy import func, select

from webapp.database import db
from webapp.models import ClassificationRun, Customer, Subscriber
from webapp.web.access import Permission, requires

blueprint = Blueprint("home", __name__)


@blueprint.route("/")
@requires(Permission.HOME)
def index() -> Any:
    counts = {
        "customers": db.session.scalar(select(func.count()).select_from(Customer)),
        "subscribers": db.session.scalar(select(func.count()).select_from(Subscriber)),
    }
    runs = db.session.scalars(select(ClassificationRun)
                              .order_by(ClassificationRun.id.desc()).limit(5)).all()
    return render_template("home.html", counts=counts, runs=runs)
