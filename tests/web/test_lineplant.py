"""Line plant: search, a mapping change previewed, confirmed, logged and queued, the
run that re-attributes the lines, bulk uploads and every refusal changing nothing. The
numbers are checked against SQL written here, independent of ``webapp.lineplant``."""

import csv
import io
import json
import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import Engine, func, select, update

from engine.domain import ClassifiedAttribute, DecisionSource, OrgKind, StaffRole
from tests.web.conftest import login
from tests.web.helpers import alerts, find_form, page_text
from tests.web.test_customers import AS_OF, _codes_under
from webapp.database import db
from webapp.lineplant.changes import MAX_CHANGES
from webapp.models import (
    AdjustmentLogEntry,
    AdminChange,
    BillingArea,
    JunctionBox,
    NumberSegment,
    OrgUnit,
    StaffUser,
    Subscriber,
    SubscriberDecision,
)
from webapp.models.changes import PendingChange

COMMUNITY = ClassifiedAttribute.COMMUNITY


@pytest.fixture
def province(app: Flask, engine: Engine) -> Iterator[None]:
    result = app.test_cli_runner().invoke(args=["demo", "-n", "400", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    db.session.execute(PendingChange.__table__.delete())
    db.session.commit()
    yield


# ---- independent reads ----------------------------------------------------------

def _city(code: str) -> int:
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    while unit.kind != OrgKind.CITY:
        unit = unit.parent
    return unit.id


def _box_community(code: str) -> str:
    return db.session.scalar(select(OrgUnit.code).join(
        JunctionBox, JunctionBox.community_id == OrgUnit.id).where(JunctionBox.code == code))


def _lines_on(box: str) -> set[int]:
    return set(db.session.scalars(select(Subscriber.id).where(
        Subscriber.junction_box_code == box)))


def _decisions(ids: set[int]) -> dict[int, tuple[str, DecisionSource, str | None, int]]:
    return {row[0]: tuple(row[1:]) for row in db.session.execute(
        select(SubscriberDecision.subscriber_id, SubscriberDecision.value,
               SubscriberDecision.source, SubscriberDecision.rule_value, Subscriber.customer_id)
        .join(Subscriber, Subscriber.id == SubscriberDecision.subscriber_id)
        .where(SubscriberDecision.attribute == COMMUNITY,
               SubscriberDecision.subscriber_id.in_(ids)))}


def _queued() -> set[int]:
    return set(db.session.scalars(select(PendingChange.subject_id).where(
        PendingChange.subject == "subscriber")))


def _snapshot() -> tuple:
    """Everything a refused change must leave as it was."""
    db.session.expire_all()
    return (sorted(db.session.execute(select(JunctionBox.code, JunctionBox.community_id))),
            sorted(db.session.execute(select(NumberSegment.range_start, NumberSegment.range_end,
                                             NumberSegment.community_id))),
            db.session.scalar(select(func.count()).select_from(AdminChange)),
            sorted(_queued()))


def _busiest_box(communities: list[str] | None = None) -> tuple[str, str]:
    """The box with the most lines (in ``communities``) and another community of the
    same city (in ``communities``) to move it to."""
    query = (select(JunctionBox.code, OrgUnit.code).join(
        OrgUnit, OrgUnit.id == JunctionBox.community_id)
        .join(Subscriber, Subscriber.junction_box_code == JunctionBox.code)
        .group_by(JunctionBox.code, OrgUnit.code)
        .order_by(func.count().desc(), JunctionBox.code))
    if communities is not None:
        query = query.where(OrgUnit.code.in_(communities))
    box, current = db.session.execute(query.limit(1)).one()
    candidates = select(OrgUnit.code).where(
        OrgUnit.kind == OrgKind.COMMUNITY, OrgUnit.unassigned_billing_area_id.is_(None),
        OrgUnit.code != current).order_by(OrgUnit.code)
    if communities is not None:
        candidates = candidates.where(OrgUnit.code.in_(communities))
    target = next(code for code in db.session.scalars(candidates)
                  if _city(code) == _city(current))
    return box, target


def _box_manager(app: Flask, create_user: Callable[..., StaffUser]
                 ) -> tuple[FlaskClient, OrgUnit]:
    """A channel manager of the department with the most lines on its boxes."""
    counts: dict[int, int] = {}
    for community, lines in db.session.execute(
            select(JunctionBox.community_id, func.count()).join(
                Subscriber, Subscriber.junction_box_code == JunctionBox.code)
            .group_by(JunctionBox.community_id)):
        unit = db.session.get(OrgUnit, community)
        while unit is not None and unit.kind != OrgKind.DEPARTMENT:
            unit = unit.parent
        if unit is not None:
            counts[unit.id] = counts.get(unit.id, 0) + lines
    department = db.session.get(OrgUnit, max(counts, key=lambda unit: (counts[unit], -unit)))
    user = create_user(StaffRole.CHANNEL_MANAGER, "qian")
    user.org_unit_id = department.id
    db.session.commit()
    client = app.test_client()
    login(client, "qian")
    return client, department


def _movement(html: str) -> tuple[int, int, int, int]:
    text = page_text(html)
    found = re.search(r"(\d+) lines of (\d+) customers will move.*?(\d+) pinned lines.*?"
                      r"(\d+) lines are queued", text)
    assert found, text[-1500:]
    subscribers, customers, pinned, affected = map(int, found.groups())
    return subscribers, customers, pinned, affected


def _preview(client: FlaskClient, path: str, **fields: str):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    form = find_form(page.get_data(as_text=True), form_id="change-form", base=path)
    for name, value in fields.items():
        form.set(name, value)
    return client.post(form.action, data=form.data())


def _confirm(client: FlaskClient, preview_html: str):
    form = find_form(preview_html, form_id="confirm-form")
    return client.post(form.action, data=form.data())


def _pin(line: int) -> None:
    """Pin a line where it is (as a manager's pin would), the rules' value kept."""
    db.session.execute(update(SubscriberDecision).where(
        SubscriberDecision.subscriber_id == line, SubscriberDecision.attribute == COMMUNITY)
        .values(source=DecisionSource.PIN, pin_reason="surveyed",
                rule_value=SubscriberDecision.value))
    db.session.commit()


# ---- search ---------------------------------------------------------------------

def test_search_shows_each_mapping_its_community_and_lines(
        province: None, client_as: Callable[[StaffRole], FlaskClient]) -> None:
    admin = client_as(StaffRole.ADMIN)
    box, _target = _busiest_box()
    html = admin.get("/line-plant/", query_string={"code": box[:-1]}).get_data(as_text=True)
    assert box in html
    row = re.search(rf'>{re.escape(box)}</a></td>\s*<td>[^<]*</td><td><code>([^<]+)</code>'
                    rf'[^<]*</td><td>(\d+)</td>', html)
    assert row and row.groups() == (_box_community(box), str(len(_lines_on(box))))
    expected = sorted(db.session.scalars(select(JunctionBox.code).where(
        JunctionBox.code.startswith(box[:-1]))))
    assert re.findall(r'/line-plant/boxes/([^"]+)"', html) == expected[:50]

    segment = db.session.execute(select(NumberSegment).order_by(NumberSegment.range_start)
                                 .limit(1)).scalar_one()
    number = str(int(segment.range_start) + 5).zfill(len(segment.range_start))
    html = admin.get("/line-plant/", query_string={"kind": "segment", "number": number}
                     ).get_data(as_text=True)
    assert re.findall(r'/line-plant/segments/([^"]+)"', html) == [segment.range_start]
    lines = db.session.scalar(select(func.count()).where(
        func.length(Subscriber.service_number) == len(segment.range_start),
        Subscriber.service_number.between(segment.range_start, segment.range_end)))
    assert f"<td>{lines}</td>" in html

    community = _box_community(box)
    area = db.session.scalar(select(BillingArea.code).join(
        JunctionBox, JunctionBox.billing_area_id == BillingArea.id).where(JunctionBox.code == box))
    for query, expected_boxes in (
            ({"community": community}, select(JunctionBox.code).join(
                OrgUnit, OrgUnit.id == JunctionBox.community_id).where(OrgUnit.code == community)),
            ({"area": area}, select(JunctionBox.code).join(
                BillingArea, BillingArea.id == JunctionBox.billing_area_id)
             .where(BillingArea.code == area))):
        html = admin.get("/line-plant/", query_string=query).get_data(as_text=True)
        assert re.findall(r'/line-plant/boxes/([^"]+)"', html) == sorted(
            db.session.scalars(expected_boxes))[:50]

    # Keyset pages: every box once, in code order.
    seen, after = [], None
    while True:
        query = {"after": after} if after else {}
        html = admin.get("/line-plant/", query_string=query).get_data(as_text=True)
        seen += re.findall(r'/line-plant/boxes/([^"]+)"', html)
        following = re.search(r'after=([^&"]+)', html)
        if not following:
            break
        after = following.group(1)
    assert seen == sorted(db.session.scalars(select(JunctionBox.code)))
    for bad in ({"kind": "x"}, {"code": "' OR 1=1"}, {"number": "12ab"},
                {"community": "x" * 10_000}):
        assert admin.get("/line-plant/", query_string=bad).status_code == 400


# ---- one change, end to end ------------------------------------------------------

def test_a_box_change_previews_the_moves_then_logs_queues_and_reattributes(
        app: Flask, province: None, client_as: Callable[[StaffRole], FlaskClient]) -> None:
    admin = client_as(StaffRole.ADMIN)
    box, target = _busiest_box()
    old = _box_community(box)
    lines = _lines_on(box)
    pinned_line = min(lines)
    _pin(pinned_line)
    before = _decisions(lines)
    moving = {line for line, (value, source, _rv, _c) in before.items()
              if source != DecisionSource.PIN and value != target}
    assert len(moving) >= 2
    expected = (len(moving), len({before[line][3] for line in moving}),
                sum(1 for value, source, rule_value, _c in before.values()
                    if source == DecisionSource.PIN and rule_value != target), len(lines))
    untouched = _snapshot()
    last_logged = db.session.scalar(select(func.max(AdjustmentLogEntry.id)))

    shown = _preview(admin, f"/line-plant/boxes/{box}", community=target)
    assert shown.status_code == 200, page_text(shown.get_data(as_text=True))[-800:]
    assert _movement(shown.get_data(as_text=True)) == expected
    assert _snapshot() == untouched  # the preview wrote nothing

    saved = _confirm(admin, shown.get_data(as_text=True))
    assert saved.status_code == 303
    page = admin.get(saved.headers["Location"]).get_data(as_text=True)
    assert "1 mappings changed" in " ".join(alerts(page))
    db.session.expire_all()
    assert _box_community(box) == target
    assert _queued() == lines  # exactly the lines on the box
    change = db.session.execute(select(AdminChange).where(
        AdminChange.subject == "junction_box")).scalar_one()
    assert (change.subject_key, change.action, change.old, change.new) == (
        box, "updated", {"community": old}, {"community": target})

    run = app.test_cli_runner().invoke(args=["reclassify", "--changed", "--as-of", AS_OF])
    assert run.exit_code == 0, run.output
    after = _decisions(lines)
    assert {line for line, (value, *_rest) in after.items() if value == target} == \
        lines - {pinned_line}
    assert after[pinned_line][:3] == (before[pinned_line][0], DecisionSource.PIN, target)
    logged = set(db.session.scalars(select(AdjustmentLogEntry.subscriber_id).where(
        AdjustmentLogEntry.id > last_logged, AdjustmentLogEntry.subscriber_id.is_not(None),
        AdjustmentLogEntry.attribute == COMMUNITY, AdjustmentLogEntry.run_id.is_not(None))))
    assert logged == moving
    assert {entry.new_value for entry in db.session.scalars(select(AdjustmentLogEntry).where(
        AdjustmentLogEntry.id > last_logged, AdjustmentLogEntry.subscriber_id.in_(moving),
        AdjustmentLogEntry.attribute == COMMUNITY))} == {target}


def test_a_segment_change_and_its_range_edits(
        province: None, client_as: Callable[[StaffRole], FlaskClient]) -> None:
    admin = client_as(StaffRole.ADMIN)
    number = Subscriber.service_number
    segment = db.session.execute(
        select(NumberSegment).join(Subscriber, (func.length(number) == func.length(
            NumberSegment.range_start)) & number.between(NumberSegment.range_start,
                                                        NumberSegment.range_end))
        .group_by(NumberSegment.id).order_by(func.count().desc()).limit(1)).scalar_one()
    start, end = segment.range_start, segment.range_end
    current = db.session.get(OrgUnit, segment.community_id).code
    target = next(code for code in db.session.scalars(select(OrgUnit.code).where(
        OrgUnit.kind == OrgKind.COMMUNITY, OrgUnit.unassigned_billing_area_id.is_(None),
        OrgUnit.code != current).order_by(OrgUnit.code)) if _city(code) == _city(current))
    path = f"/line-plant/segments/{start}"
    untouched = _snapshot()
    other = db.session.execute(select(NumberSegment).where(
        NumberSegment.id != segment.id, func.length(NumberSegment.range_start) == len(start))
        .order_by(NumberSegment.range_start).limit(1)).scalar_one()
    for fields, why in (
            ({"start": start, "end": end[:-1]}, "as many digits"),
            ({"start": end, "end": start}, "is after its end"),
            ({"start": start, "end": end[:-2] + "x9"}, "service number"),
            ({"start": other.range_start, "end": other.range_end}, "overlaps the segment")):
        refused = _preview(admin, path, community=target, **fields)
        assert refused.status_code == 409, fields
        assert why in " ".join(alerts(refused.get_data(as_text=True))), fields
    assert _snapshot() == untouched

    # Lines in the segment without a box go to the target; the others keep their box.
    in_range = set(db.session.scalars(select(Subscriber.id).where(
        func.length(number) == len(start), number.between(start, end))))
    db.session.execute(update(Subscriber).where(Subscriber.id.in_(sorted(in_range)[:3]))
                       .values(junction_box_code=None))
    db.session.commit()
    boxless = set(db.session.scalars(select(Subscriber.id).outerjoin(
        JunctionBox, JunctionBox.code == Subscriber.junction_box_code).where(
        Subscriber.id.in_(in_range), JunctionBox.id.is_(None))))
    assert boxless
    before = _decisions(in_range)
    moving = {line for line in boxless if before[line][0] != target}
    shown = _preview(admin, path, community=target)
    assert _movement(shown.get_data(as_text=True)) == (
        len(moving), len({before[line][3] for line in moving}), 0, len(in_range))
    assert _confirm(admin, shown.get_data(as_text=True)).status_code == 303
    assert _queued() == in_range

    # Shrinking the range: the lines left outside are queued too.
    shrunk = str(int(start) + 4).zfill(len(start))
    shown = _preview(admin, path, community=target, end=shrunk)
    assert shown.status_code == 200, alerts(shown.get_data(as_text=True))
    assert _confirm(admin, shown.get_data(as_text=True)).status_code == 303
    db.session.expire_all()
    assert (db.session.get(NumberSegment, segment.id).range_end) == shrunk
    rows = db.session.scalars(select(AdminChange).where(
        AdminChange.subject == "number_segment").order_by(AdminChange.id)).all()
    assert [(row.old, row.new) for row in rows] == [
        ({"community": current}, {"community": target}),
        ({"range_end": end}, {"range_end": shrunk})]


# ---- bulk uploads ---------------------------------------------------------------

def _upload(client: FlaskClient, name: str, data: bytes, kind: str = "box"):
    html = client.get("/line-plant/").get_data(as_text=True)
    form = find_form(html, form_id="upload-form")
    payload = form.data().to_dict()
    payload["upload-kind"] = kind
    payload["upload-file"] = (io.BytesIO(data), name)
    return client.post(form.action, data=payload, content_type="multipart/form-data")


def _xlsx(rows: list[list[object]], extra_sheets: int = 0) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for number in range(extra_sheets):
        book.create_sheet(f"other{number}").append(["ignored", "x"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_bulk_upload_previews_then_changes_every_box_at_once(
        province: None, client_as: Callable[[StaffRole], FlaskClient]) -> None:
    admin = client_as(StaffRole.ADMIN)
    box, target = _busiest_box()
    second = db.session.scalar(select(JunctionBox.code).where(JunctionBox.code != box)
                               .order_by(JunctionBox.code).limit(1))
    second_target = next(code for code in db.session.scalars(select(OrgUnit.code).where(
        OrgUnit.kind == OrgKind.COMMUNITY, OrgUnit.unassigned_billing_area_id.is_(None),
        OrgUnit.code != _box_community(second)).order_by(OrgUnit.code))
        if _city(code) == _city(_box_community(second)))
    text = f"交接箱号,社区\r\n{box},{target}\r\n{second},{second_target}\r\n"
    shown = _upload(admin, "boxes.csv", text.encode("gbk"))
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200, page_text(html)[-1500:]
    assert "GB" in " ".join(alerts(html))  # read as GBK, and said so
    lines = _lines_on(box) | _lines_on(second)
    before = _decisions(lines)
    moving = {line for line, (value, *_rest) in before.items()
              if value != (target if line in _lines_on(box) else second_target)}
    assert _movement(html) == (len(moving), len({before[line][3] for line in moving}), 0,
                               len(lines))
    workbook = _upload(admin, "boxes.xlsx", _xlsx([["box", "community"], [box, target]],
                                                  extra_sheets=2))
    assert "ignored: other0, other1" in " ".join(alerts(workbook.get_data(as_text=True)))
    # Retired between the preview and the confirmation: the whole batch is refused, the
    # good line included.
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == second_target))
    unit.retired = True
    db.session.commit()
    untouched = _snapshot()
    refused = _confirm(admin, html)
    assert refused.status_code == 400
    assert f"line 3: community {second_target} is retired" in page_text(
        refused.get_data(as_text=True))
    assert _snapshot() == untouched
    unit.retired = False
    db.session.commit()

    assert _confirm(admin, html).status_code == 303
    db.session.expire_all()
    assert (_box_community(box), _box_community(second)) == (target, second_target)
    assert _queued() == lines
    assert db.session.scalar(select(func.count()).select_from(AdminChange)) == 2


def test_every_bad_line_of_an_upload_is_reported_and_nothing_is_saved(
        province: None, client_as: Callable[[StaffRole], FlaskClient]) -> None:
    admin = client_as(StaffRole.ADMIN)
    box, target = _busiest_box()
    area = db.session.scalar(select(JunctionBox.billing_area_id).where(JunctionBox.code == box))
    boxes = list(db.session.scalars(select(JunctionBox.code).order_by(JunctionBox.code)))
    department = db.session.scalar(select(OrgUnit.code).where(
        OrgUnit.kind == OrgKind.DEPARTMENT).limit(1))
    retired = db.session.scalar(select(OrgUnit).where(
        OrgUnit.kind == OrgKind.COMMUNITY, OrgUnit.code != target,
        OrgUnit.unassigned_billing_area_id.is_(None)).order_by(OrgUnit.code.desc()).limit(1))
    retired.retired = True
    foreign_ua = db.session.scalar(select(OrgUnit.code).where(
        OrgUnit.unassigned_billing_area_id.is_not(None),
        OrgUnit.unassigned_billing_area_id != area).limit(1))
    other_city = next(code for code in db.session.scalars(select(OrgUnit.code).where(
        OrgUnit.kind == OrgKind.COMMUNITY, OrgUnit.unassigned_billing_area_id.is_(None)))
        if _city(code) != db.session.scalar(select(BillingArea.city_id).where(
            BillingArea.id == area)))
    db.session.commit()
    rows = [
        ["box", "community"],                  # 1 header
        [box, target],                         # 2 fine
        ["NO-SUCH-BOX", target],               # 3
        [box, target],                         # 4 repeated
        [boxes[1], "NO-SUCH-UNIT"],            # 5
        [boxes[2], retired.code],              # 6
        [boxes[3], department],                # 7
        [boxes[4], "x" * 10_000],              # 8
        ["=HYPERLINK(\"http://x\")", target],  # 9
        [boxes[5], ""],                        # 10
        [box.replace(box[0], box[0]), foreign_ua],  # 11 repeated as well
        [boxes[6], other_city],                # 12
        [boxes[7], "<script>alert(1)</script>"],  # 13
    ]
    untouched = _snapshot()
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    for name, data in (("changes.csv", text.getvalue().encode()), ("changes.xlsx", _xlsx(rows))):
        refused = _upload(admin, name, data)
        assert refused.status_code == 400
        html = refused.get_data(as_text=True)
        problems = dict(re.findall(r"<li>line (\d+): (.*?)</li>", html, re.S))
        assert sorted(map(int, problems)) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], problems
        assert "unknown junction box NO-SUCH-BOX" in problems["3"]
        assert "repeated (first on line 2)" in problems["4"]
        assert "unknown community NO-SUCH-UNIT" in problems["5"]
        assert "retired" in problems["6"]
        assert "not a community" in problems["7"]
        assert "10000 characters" in problems["8"]
        # A formula: its text in a CSV; a workbook stores no value for it (read as empty).
        assert ("not a code" if name.endswith(".csv") else "empty") in problems["9"]
        assert "empty" in problems["10"]
        assert "repeated" in problems["11"]
        assert "not in the city" in problems["12"]
        assert "&lt;script&gt;" in problems["13"] and "<script>" not in html
        assert _snapshot() == untouched
    foreign = _upload(admin, "one.csv", f"{boxes[6]},{foreign_ua}\n".encode())
    assert "unassigned community of another billing area" in foreign.get_data(as_text=True)
    for name, data, why in (
            ("empty.csv", b"", "holds no change"),
            ("blank.csv", b"\r\n ,\r\n", "holds no change"),
            ("utf16.csv", "box,社区\n".encode("utf-16"), "neither UTF-8 nor GBK"),
            ("nul.csv", b"box\x00,x\n", "NUL"),
            ("bad.csv", b"\xff\xfe\xfa\x80 box\n", "neither UTF-8 nor GBK"),
            ("changes.pdf", b"%PDF", "expected a .csv or .xlsx"),
            ("broken.xlsx", b"PK\x03\x04 not a zip", "not a readable XLSX")):
        refused = _upload(admin, name, data)
        assert refused.status_code == 400, name
        assert why in " ".join(alerts(refused.get_data(as_text=True))), name
    assert _snapshot() == untouched


def test_the_largest_batch_fits_the_confirmation_and_a_larger_one_is_refused(
        province: None, client_as: Callable[[StaffRole], FlaskClient]) -> None:
    admin = client_as(StaffRole.ADMIN)
    too_many = "".join(f"JB-NONE-{number:05d},X\n" for number in range(MAX_CHANGES + 1))
    refused = _upload(admin, "many.csv", too_many.encode())
    assert f"line {MAX_CHANGES + 1}: more than {MAX_CHANGES} changes" in page_text(
        refused.get_data(as_text=True))
    # Every field at its longest: the form still reaches the checks (no 413).
    box, target = _busiest_box()
    shown = _preview(admin, f"/line-plant/boxes/{box}", community=target)
    form = find_form(shown.get_data(as_text=True), form_id="confirm-form")
    longest = {"line": 99_999, "key": "K" * 32, "community": "C" * 40, "start": "1" * 20,
               "end": "9" * 20, "seen": ["S" * 40, "1" * 20, "9" * 20]}
    form.set("changes", json.dumps({"kind": "segment", "changes": [
        {**longest, "key": f"{number:032d}"} for number in range(MAX_CHANGES)]}))
    untouched = _snapshot()
    answer = admin.post(form.action, data=form.data())
    assert answer.status_code == 400
    assert "no number segment starts at" in answer.get_data(as_text=True)
    assert _snapshot() == untouched


# ---- scope and tampering --------------------------------------------------------

def test_a_manager_changes_only_mappings_inside_their_scope(
        app: Flask, province: None, create_user: Callable[..., StaffUser]) -> None:
    client, department = _box_manager(app, create_user)
    mine = _codes_under(department)
    box, target = _busiest_box(mine)
    outside = next(code for code in db.session.scalars(select(OrgUnit.code).where(
        OrgUnit.kind == OrgKind.COMMUNITY, OrgUnit.unassigned_billing_area_id.is_(None))
        .order_by(OrgUnit.code)) if code not in mine and _city(code) == _city(target))
    theirs = db.session.scalar(select(JunctionBox.code).join(
        OrgUnit, OrgUnit.id == JunctionBox.community_id).where(OrgUnit.code.not_in(mine))
        .order_by(JunctionBox.code).limit(1))
    listed = re.findall(r'/line-plant/boxes/([^"]+)"',
                        client.get("/line-plant/").get_data(as_text=True))
    assert listed and all(_box_community(code) in mine for code in listed)
    assert client.get(f"/line-plant/boxes/{theirs}").status_code == 404
    untouched = _snapshot()
    refused = _preview(client, f"/line-plant/boxes/{box}", community=outside)
    assert refused.status_code == 409
    assert f"community {outside} is outside your org scope" in " ".join(
        alerts(refused.get_data(as_text=True)))
    uploaded = _upload(client, "mine.csv", f"{theirs},{target}\n".encode())
    assert "current community" in uploaded.get_data(as_text=True)
    assert "outside your org scope" in uploaded.get_data(as_text=True)

    # A confirmation edited by hand is checked again, and refused whole.
    shown = _preview(client, f"/line-plant/boxes/{box}", community=target)
    assert shown.status_code == 200
    form = find_form(shown.get_data(as_text=True), form_id="confirm-form")
    tampered = form.get("changes").replace(f'"community":"{target}"',
                                           f'"community":"{outside}"')
    form.set("changes", tampered)
    assert client.post(form.action, data=form.data()).status_code == 400
    form.set("changes", '{"kind": "box", "changes": "x\' OR 1=1"}')
    assert client.post(form.action, data=form.data()).status_code == 400
    assert _snapshot() == untouched

    # The mapping changed by someone else after the preview: refused, not overwritten.
    db.session.execute(update(JunctionBox).where(JunctionBox.code == box).values(
        community_id=db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == target))))
    db.session.commit()
    stale = _confirm(client, shown.get_data(as_text=True))
    assert stale.status_code == 400
    assert "since the preview" in stale.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AdminChange)) == 0
