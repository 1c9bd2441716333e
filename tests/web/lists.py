"""Helpers of the alert and target-list tests: one classified demo province shared by a
test module, staff of every role, and the rows of a page or an export read back."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from html.parser import HTMLParser

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

import tests.conftest
from engine.domain import Channel, OrgKind, StaffRole
from tests.web.conftest import FAST_HASH, PASSWORD, login
from webapp.database import db
from webapp.models import Customer, OrgUnit, StaffUser, Subscriber, SubscriberDecision

AS_OF = "2026-11-23"
#: The channel manager scoped to a public-customer department (the first with customers
#: of its own and customers waiting in its city's unassigned communities).
SCOPED = "scoped-manager"


@dataclass(frozen=True)
class Province:
    """The demo province of a test module and the department of the scoped manager."""

    department: str


def classified_province(app: Flask) -> Iterator[Province]:
    """Body of a module-scoped fixture: the demo province (400 lines, classified, alerts
    raised), an account of every role seeing the whole province (username = the role)
    and a channel manager scoped to one department (:data:`SCOPED`). At the end of the
    module every table is emptied by the ``engine`` fixture's own clean-up, as after any
    database test."""
    cleanup = tests.conftest.engine.__wrapped__(app)
    next(cleanup)
    # The pages' "today" is the demo's day: its latest complete month of revenue is the
    # month before AS_OF, whatever the date the suite runs on.
    app.config["FROZEN_NOW"] = datetime.combine(date.fromisoformat(AS_OF), time(12), UTC)
    try:
        result = app.test_cli_runner().invoke(args=["demo", "-n", "400", "--as-of", AS_OF])
        assert result.exit_code == 0, result.output
        department = next(unit for unit in db.session.scalars(
            select(OrgUnit).where(OrgUnit.kind == OrgKind.DEPARTMENT,
                                  OrgUnit.channel == Channel.PUBLIC).order_by(OrgUnit.code))
            if _own_and_waiting(unit.code))
        for role in StaffRole:
            _account(role.value, role, None)
        _account(SCOPED, StaffRole.CHANNEL_MANAGER, department.id)
        db.session.commit()
        yield Province(department.code)
    finally:
        app.config.pop("FROZEN_NOW", None)
        next(cleanup, None)


def _own_and_waiting(department: str) -> bool:
    """Whether the department has customers of its own and customers waiting in its
    city's unassigned communities."""
    seen = communities_seen_by(department)
    unassigned = {code for code in seen if code.startswith("UA-")}
    return bool(customers_with_lines_in(seen - unassigned)) \
        and bool(customers_with_lines_in(unassigned))


def _account(username: str, role: StaffRole, org_unit_id: int | None) -> None:
    db.session.add(StaffUser(username=username, display_name=f"{username} person", role=role,
                             org_unit_id=org_unit_id, locale="en",
                             password_hash=generate_password_hash(PASSWORD, FAST_HASH)))


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    login(client, username)
    return client


def communities_under(code: str) -> set[str]:
    """The communities of the subtree of the org unit ``code``, found by walking up from
    every community (the application walks down, in SQL)."""
    units = db.session.scalars(select(OrgUnit)).all()
    by_id = {unit.id: unit for unit in units}
    found = set()
    for unit in units:
        if unit.kind != OrgKind.COMMUNITY:
            continue
        ancestor: OrgUnit | None = unit
        while ancestor is not None and ancestor.code != code:
            ancestor = by_id[ancestor.parent_id] if ancestor.parent_id else None
        if ancestor is not None:
            found.add(unit.code)
    return found


def communities_seen_by(department_code: str) -> set[str]:
    """The communities a person of ``department_code`` may see, worked out here from the
    org tree: the department's subtree, and the unassigned communities of its city in its
    channel."""
    units = db.session.scalars(select(OrgUnit)).all()
    by_id = {unit.id: unit for unit in units}
    home = next(unit for unit in units if unit.code == department_code)
    city = home
    while city.kind != OrgKind.CITY:
        city = by_id[city.parent_id]
    return communities_under(department_code) | {
        unit.code for unit in units if unit.parent_id == city.id
        and unit.unassigned_billing_area_id is not None and unit.channel == home.channel}


def customers_with_lines_in(communities: set[str]) -> set[str]:
    """Codes of the customers with a line attributed to one of ``communities``."""
    return set(db.session.scalars(
        select(Customer.code).join(Subscriber, Subscriber.customer_id == Customer.id)
        .join(SubscriberDecision, SubscriberDecision.subscriber_id == Subscriber.id)
        .where(SubscriberDecision.attribute == "community",
               SubscriberDecision.value.in_(communities))))


class _TableReader(HTMLParser):
    """The data cells (text) of the ``list-rows`` table's body, and each row's
    ``data-alert`` id; the actions column is left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inside = self.in_body = False
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self.ids: list[int] = []
        self.cell: list[str] | None = None
        self.in_th = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "table" and attr.get("data-testid") == "list-rows":
            self.inside = True
        elif self.inside and tag == "tbody":
            self.in_body = True
        elif self.inside and tag == "th" and "row-actions" not in attr.get("class", ""):
            self.in_th, self.cell = True, []
        elif self.in_body and tag == "tr":
            self.rows.append([])
            if "data-alert" in attr:
                self.ids.append(int(attr["data-alert"]))
        elif self.in_body and tag == "td" and "row-actions" not in attr.get("class", ""):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.inside:
            self.inside = self.in_body = False
        elif tag in ("td", "th") and self.cell is not None:
            text = " ".join("".join(self.cell).split())
            if self.in_th:
                self.header.append(text)
            else:
                self.rows[-1].append(text)
            self.cell, self.in_th = None, False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    #: The alert id of each row (alert tables).
    ids: list[int]


def page_table(html: str) -> Table:
    """The table of a list page (an empty body row, "No row matches", is dropped)."""
    reader = _TableReader()
    reader.feed(html)
    rows = [row for row in reader.rows if len(row) == len(reader.header)]
    return Table(reader.header, rows, reader.ids)


def every_page(client: FlaskClient, url: str, query: dict[str, str]) -> Table:
    """The rows of every page of a list, following its "next"/"older" links."""
    response = client.get(url, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    html = response.get_data(as_text=True)
    table = page_table(html)
    while (link := _following(html)) is not None:
        response = client.get(link)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        more = page_table(html)
        table.rows += more.rows
        table.ids += more.ids
    return table


def _following(html: str) -> str | None:
    for marker in ('id="older" href="', 'id="next" href="'):
        start = html.find(marker)
        if start >= 0:
            start += len(marker)
            return html[start:html.index('"', start)].replace("&amp;", "&")
    return None


def csv_table(response: TestResponse) -> Table:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text[1:])))
    return Table(header, rows, [])


def xlsx_table(response: TestResponse) -> tuple[list[str], list[tuple[object, ...]]]:
    """Header and rows of an XLSX answer, as openpyxl reads them back."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    # A read-only sheet leaves out the empty cells at the end of a row.
    return [str(title) for title in header], [
        tuple(row) + (None,) * (len(header) - len(row)) for row in rows]


def same_cell(shown: str, stored: object) -> bool:
    """Whether a workbook cell holds what the page shows."""
    if stored is None:
        return shown == ""
    if isinstance(stored, datetime):
        return shown in (stored.strftime("%Y-%m-%d %H:%M"), stored.date().isoformat())
    if isinstance(stored, date):
        return shown == stored.isoformat()
    if isinstance(stored, int | float):
        return Decimal(shown) == Decimal(str(stored)).quantize(Decimal(shown))
    return shown == stored
