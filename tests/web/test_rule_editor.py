"""The rule editor through its pages, as an analyst's browser uses it: forms are read
from the HTML the server sent and posted with the values a browser would send."""

import copy
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from engine.catalog import DEFAULT_CATALOG, FactType, Subject
from engine.domain import StaffRole
from tests.web.helpers import (
    Form,
    alerts,
    find_form,
    page_text,
    redirect_target,
)
from webapp.database import db
from webapp.models import PreviewJob, RulesetChange, RulesetDraft, RulesetVersion, StaffUser
from webapp.rulesets.files import NOT_RULESETS
from webapp.rulesets.store import DEFAULT_RULES

NAME = "service_tier"
EDITOR = f"/rules/{NAME}"
THRESHOLD = "value-r3-revenue_percentile"

Analyst = Callable[[], FlaskClient]


@pytest.fixture
def published(app: Flask, engine: object) -> None:
    result = app.test_cli_runner().invoke(args=["rules", "publish"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def analyst(published: None, client_as: Callable[[StaffRole], FlaskClient]) -> Analyst:
    """``analyst()``: a browser signed in as a new analyst (analyst0, analyst1...)."""
    return lambda: client_as(StaffRole.ANALYST)


# --- reading pages ----------------------------------------------------------------------

def html_of(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def open_page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return html_of(response)


def table_form(html: str) -> Form:
    return find_form(html, form_id="rule-table-form", base=EDITOR)


def open_editor(client: FlaskClient) -> Form:
    return table_form(open_page(client, EDITOR))


def submit(client: FlaskClient, form: Form) -> TestResponse:
    return client.post(form.action, data=form.data())


def cell_html(html: str, row: str, column: str) -> str:
    """The inner HTML of a cell of the decision table (row key, fact column)."""
    match = re.search(rf'<tr data-row="{row}">.*?<td data-column="{column}"[^>]*>(.*?)</td>',
                      html, re.S)
    assert match, f"no cell {row}/{column}"
    return match.group(1)


def follow(client: FlaskClient, response: TestResponse) -> str:
    """The page a redirect leads to."""
    path, _ = redirect_target(response)
    return open_page(client, path)


# --- rows of the table form -------------------------------------------------------------

def row_blocks(form: Form) -> tuple[list[tuple[str, str]], dict[str, list[tuple[str, str]]]]:
    """The fields before the first row, and each row's fields by key (in page order)."""
    head: list[tuple[str, str]] = []
    rows: dict[str, list[tuple[str, str]]] = {}
    current = head
    for name, value in form.fields:
        if name == "row":
            current = rows.setdefault(value, [])
        current.append((name, value))
    return head, rows


def with_rows(form: Form, keys: list[str], extra: dict[str, list[tuple[str, str]]] | None
              = None) -> Form:
    """The form with its rows in the order of ``keys`` (rows left out are removed), as the
    page's script leaves it after moving, adding and removing rows."""
    head, rows = row_blocks(form)
    rows.update(extra or {})
    return Form(form.action, head + [field for key in keys for field in rows[key]],
                form.template)


def new_row(form: Form, key: str, **values: str) -> list[tuple[str, str]]:
    """The fields of a row added with "Add a rule" (the page's row template), filled in
    with ``values`` by field prefix (``rule_id``, ``op-revenue_percentile``...)."""
    fields = []
    for name, value in form.template:
        name, value = name.replace("__KEY__", key), value.replace("__KEY__", key)
        prefix = name.replace(f"-{key}", "", 1)
        fields.append((name, values.pop(prefix, value)))
    assert not values, f"no such fields in the row template: {values}"
    return fields


# --- the database -----------------------------------------------------------------------

def draft() -> RulesetDraft | None:
    db.session.expire_all()
    return db.session.scalar(select(RulesetDraft).where(RulesetDraft.name == NAME))


def draft_rules() -> list[dict[str, Any]]:
    saved = draft()
    assert saved is not None
    return saved.definition["rules"]


def threshold(rules: list[dict[str, Any]]) -> str:
    [rule] = [rule for rule in rules if rule["id"] == "mid_high_end"]
    return str(rule["when"]["all"][1]["value"])


def versions() -> list[RulesetVersion]:
    db.session.expire_all()
    return list(db.session.scalars(select(RulesetVersion).where(RulesetVersion.name == NAME)
                                   .order_by(RulesetVersion.version)))


def changes() -> list[RulesetChange]:
    db.session.expire_all()
    return list(db.session.scalars(select(RulesetChange).where(RulesetChange.name == NAME)
                                   .order_by(RulesetChange.id)))


def staff(username: str) -> StaffUser:
    person = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    assert person is not None
    return person


# --- steps of an analyst ----------------------------------------------------------------

def save_threshold(client: FlaskClient, value: str) -> TestResponse:
    return submit(client, open_editor(client).set(THRESHOLD, value))


def edit_tests(client: FlaskClient, expect: dict[str, str] | None = None,
               given: dict[str, str] | None = None) -> TestResponse:
    """Post the test-cases page with some expectations or given facts changed (by case
    name)."""
    page = f"{EDITOR}/tests"
    form = find_form(open_page(client, page), form_id="test-cases-form", base=page)
    keys = {value: name.removeprefix("name-") for name, value in form.fields
            if name.startswith("name-")}
    for case, value in (expect or {}).items():
        form.set(f"expect-{keys[case]}", value)
    for case, value in (given or {}).items():
        form.set(f"given-{keys[case]}", value)
    return submit(client, form)


#: The cases of the shipped tests that a threshold of 95 changes.
AT_95 = {"no card, percentile exactly 90": "standard",
         "no card, percentile one hundredth above 90": "standard"}


def publish(client: FlaskClient, comment: str) -> TestResponse:
    html = open_page(client, EDITOR)
    form = find_form(html, action=f"{EDITOR}/publish").set("comment", comment)
    return submit(client, form)


# --- the list and the editor ------------------------------------------------------------

def test_list_shows_every_ruleset_with_its_version(analyst: Analyst) -> None:
    html = open_page(analyst(), "/rules/")
    names = [path.stem for path in DEFAULT_RULES.glob("*.yaml")
             if path.name not in NOT_RULESETS]
    assert len(names) >= 6
    body = html.split('data-testid="rulesets"')[1].split("<tbody>")[1].split("</tbody>")[0]
    shown = dict(re.findall(r"<code>(\w+)</code>(.*?)</tr>", body, re.S))
    assert sorted(shown) == sorted(names)
    for name in names:
        assert re.search(r"\bv1\b", page_text(shown[name])), (name, page_text(shown[name]))


def test_editor_shows_the_decision_table(analyst: Analyst) -> None:
    html = open_page(analyst(), EDITOR)
    form = table_form(html)
    assert [value for name, value in form.fields if name == "column"] == [
        "vip_card", "revenue_percentile"]
    assert [form.get(f"rule_id-r{i}") for i in range(4)] == [
        "diamond_card", "gold_card", "silver_card", "mid_high_end"]
    assert form.get("op-r3-vip_card") == "eq" and form.get("value-r3-vip_card") == "none"
    assert form.get("op-r3-revenue_percentile") == "ge" and form.get(THRESHOLD) == "90"
    assert form.get("op-r0-revenue_percentile") == "" and form.get("then-r3") == "mid_high_end"
    assert form.get("default") == "standard"
    assert 'name="op-r3-revenue_percentile"' in cell_html(html, "r3", "revenue_percentile")


# --- saving drafts ----------------------------------------------------------------------

def test_saving_the_table_saves_a_draft(analyst: Analyst) -> None:
    client = analyst()
    response = save_threshold(client, "95")
    assert response.status_code == 200, alerts(html_of(response))
    assert any("revision 1" in message for message in alerts(html_of(response)))
    saved = draft()
    assert saved is not None and saved.revision == 1
    assert threshold(saved.definition["rules"]) == "95"
    assert [change.action for change in changes()] == ["draft_saved"]
    assert changes()[0].staff_id == staff("analyst0").id
    assert "draft r1" in open_page(client, "/rules/")
    assert [version.version for version in versions()] == [1]


def test_the_page_answered_after_a_save_carries_on_from_the_new_revision(
        analyst: Analyst) -> None:
    """Saving again, or publishing, from the page the save answered is not refused as a
    stale draft (the analyst's own save is not someone else's change)."""
    client = analyst()
    html = html_of(save_threshold(client, "95"))
    assert table_form(html).get("revision") == "1"
    assert find_form(html, action=f"{EDITOR}/publish").get("revision") == "1"
    again = submit(client, table_form(html).set(THRESHOLD, "96"))
    assert again.status_code == 200, alerts(html_of(again))
    saved = draft()
    assert saved is not None and saved.revision == 2
    assert threshold(saved.definition["rules"]) == "96"


def test_unreadable_cell_is_saved_marked_in_its_cell_and_blocks_publishing(
        analyst: Analyst) -> None:
    client = analyst()
    response = save_threshold(client, "abc")
    assert response.status_code == 422
    html = html_of(response)
    assert "expected a number" in cell_html(html, "r3", "revenue_percentile")
    assert "expected a number" not in cell_html(html, "r3", "vip_card")
    assert threshold(draft_rules()) == "abc"
    assert table_form(html).get(THRESHOLD) == "abc"

    refused = publish(client, "try anyway")
    assert versions()[-1].version == 1
    messages = alerts(follow(client, refused))
    assert any("cannot be published" in message for message in messages), messages
    assert any("expected a number" in message for message in messages), messages


def test_fixing_an_unreadable_cell_from_the_page_that_marked_it(analyst: Analyst) -> None:
    client = analyst()
    marked = save_threshold(client, "abc")
    assert marked.status_code == 422
    fixed = submit(client, table_form(html_of(marked)).set(THRESHOLD, "95"))
    assert fixed.status_code == 200, alerts(html_of(fixed))
    assert "expected a number" not in html_of(fixed)
    assert threshold(draft_rules()) == "95"


def test_second_analyst_saving_an_older_revision_is_refused(analyst: Analyst) -> None:
    first, second = analyst(), analyst()
    first_form, second_form = open_editor(first), open_editor(second)
    assert first_form.get("revision") == second_form.get("revision") == "0"
    assert submit(first, first_form.set(THRESHOLD, "95")).status_code == 200

    refused = submit(second, second_form.set(THRESHOLD, "80"))
    assert refused.status_code == 409
    message = " ".join(alerts(html_of(refused)))
    assert "analyst0" in message and "revision 1" in message, message
    saved = draft()
    assert saved is not None and saved.revision == 1
    assert threshold(saved.definition["rules"]) == "95"
    assert saved.updated_by_id == staff("analyst0").id


def test_moving_rows_changes_their_priority(analyst: Analyst) -> None:
    client = analyst()
    form = with_rows(open_editor(client), ["r3", "r0", "r1", "r2"])
    response = submit(client, form)
    assert response.status_code in (200, 422), alerts(html_of(response))
    assert [rule["id"] for rule in draft_rules()] == [
        "mid_high_end", "diamond_card", "gold_card", "silver_card"]
    assert table_form(html_of(response)).get("rule_id-r0") == "mid_high_end"


def test_adding_and_removing_rows(analyst: Analyst) -> None:
    client = analyst()
    form = open_editor(client)
    added = new_row(form, "n1", rule_id="upper_band", title="No card, percentile 80 to 90",
                    **{"op-vip_card": "eq", "value-vip_card": "none",
                       "op-revenue_percentile": "ge", "value-revenue_percentile": "80",
                       "then": "mid_high_end"})
    response = submit(client, with_rows(form, ["r0", "r1", "r3", "n1"], {"n1": added}))
    assert response.status_code in (200, 422), alerts(html_of(response))
    rules = draft_rules()
    assert [rule["id"] for rule in rules] == [
        "diamond_card", "gold_card", "mid_high_end", "upper_band"]
    assert rules[3]["when"] == {"all": [{"fact": "vip_card", "op": "eq", "value": "none"},
                                        {"fact": "revenue_percentile", "op": "ge",
                                         "value": "80"}]}
    assert rules[3]["then"] == "mid_high_end"


def test_every_form_of_the_editor_carries_the_draft_revision(analyst: Analyst) -> None:
    """A save names the revision it was made from: the pages must send it."""
    client = analyst()
    assert open_editor(client).get("revision") == "0"
    tests_page = open_page(client, f"{EDITOR}/tests")
    assert find_form(tests_page, form_id="test-cases-form").get("revision") == "0"


# --- publishing, history, diff, rollback ------------------------------------------------

def test_publishing_needs_a_comment(analyst: Analyst) -> None:
    client = analyst()
    assert save_threshold(client, "95").status_code == 200
    assert edit_tests(client, expect=AT_95).status_code == 200
    refused = publish(client, "")
    messages = alerts(follow(client, refused))
    assert any("comment" in message for message in messages), messages
    assert [version.version for version in versions()] == [1]
    assert draft() is not None


def test_publish_history_diff_and_rollback(analyst: Analyst) -> None:
    client = analyst()
    assert save_threshold(client, "95").status_code == 200
    assert edit_tests(client, expect=AT_95).status_code == 200

    response = publish(client, "top 5 % only from next month")
    assert redirect_target(response)[0] == f"{EDITOR}/history", alerts(follow(client, response))
    v1, v2 = versions()
    assert v2.version == 2 and v2.comment == "top 5 % only from next month"
    assert v2.created_by_id == staff("analyst0").id
    assert threshold(v2.definition["rules"]) == "95"
    assert draft() is None
    published = [change for change in changes() if change.action == "published"]
    assert len(published) == 1 and published[0].version == 2

    history = open_page(client, f"{EDITOR}/history")
    versions_table = history.split('data-testid="versions"')[1].split("</table>")[0]
    assert "v2" in versions_table and "top 5 % only from next month" in versions_table

    diff = open_page(client, f"{EDITOR}/diff?old=1&new=2")
    assert re.search(r"<td>revenue_percentile</td>\s*<td class=\"diff-old\">ge 90</td>"
                     r"\s*<td class=\"diff-new\">ge 95</td>", diff), diff

    rollback = find_form(history, action=f"{EDITOR}/rollback/1")
    response = submit(client, rollback)
    assert redirect_target(response)[0] == f"{EDITOR}/history"
    v3 = versions()[-1]
    assert v3.version == 3 and v3.checksum == v1.checksum
    assert {key: value for key, value in v3.definition.items() if key != "version"} == {
        key: value for key, value in v1.definition.items() if key != "version"}
    assert changes()[-1].action == "rolled_back"
    assert "v3" in open_page(client, f"{EDITOR}/history")


def test_failing_test_case_blocks_publishing(analyst: Analyst) -> None:
    client = analyst()
    response = edit_tests(client, expect={"gold card": "silver"})
    assert response.status_code == 200, alerts(html_of(response))
    assert "11 of 12 test cases pass" in page_text(html_of(response))
    assert draft() is not None

    refused = publish(client, "gold is silver now")
    messages = alerts(follow(client, refused))
    assert any("cannot be published" in message for message in messages), messages
    assert any("gold card" in message and "expected silver" in message
               for message in messages), messages
    assert [version.version for version in versions()] == [1]


def test_test_cases_page_after_a_save_carries_on_from_the_new_revision(
        analyst: Analyst) -> None:
    client = analyst()
    saved = edit_tests(client, expect={"gold card": "silver"})
    assert saved.status_code == 200
    page = f"{EDITOR}/tests"
    form = find_form(html_of(saved), form_id="test-cases-form", base=page)
    assert form.get("revision") == "1"
    assert (form.get("name-c1"), form.get("expect-c1")) == ("gold card", "silver")
    again = submit(client, form.set("expect-c1", "gold"))
    assert again.status_code == 200, alerts(html_of(again))
    current = draft()
    assert current is not None and current.revision == 2
    assert current.definition["tests"][1]["expect"] == "gold"


def test_discarding_the_draft(analyst: Analyst) -> None:
    client = analyst()
    html = html_of(save_threshold(client, "95"))
    response = submit(client, find_form(html, action=f"{EDITOR}/discard"))
    assert redirect_target(response)[0] == f"{EDITOR}/history"
    assert draft() is None
    assert changes()[-1].action == "draft_discarded"
    assert open_editor(client).get(THRESHOLD) == "90"


def test_bad_yaml_in_given_names_the_case_and_is_not_saved(analyst: Analyst) -> None:
    client = analyst()
    response = edit_tests(client, given={"silver card": "vip_card: [silver"})
    assert response.status_code == 422
    messages = alerts(html_of(response))
    assert any(message.startswith("test case 3 (silver card)") for message in messages), \
        messages
    assert draft() is None


# --- import and export ------------------------------------------------------------------

def import_file(client: FlaskClient, content: bytes) -> TestResponse:
    """Post the import form with ``content`` as the chosen file. The body is encoded in
    memory (the test client would spool a large one to a file it never closes)."""
    form = find_form(open_page(client, "/rules/import"), action="", base="/rules/import")
    upload = FileStorage(io.BytesIO(content), "rules.yaml", content_type="application/x-yaml")
    boundary, body = encode_multipart({**form.data(), "file": upload})
    return client.post(form.action, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


SERVICE_TIER = (DEFAULT_RULES / "service_tier.yaml").read_text(encoding="utf-8")


def test_importing_a_file_makes_it_the_draft(analyst: Analyst) -> None:
    client = analyst()
    text = SERVICE_TIER.replace("title: Service tier (differentiated service)",
                                "title: Service tier, imported")
    response = import_file(client, text.encode())
    assert redirect_target(response)[0] == EDITOR
    saved = draft()
    assert saved is not None and saved.definition["title"] == "Service tier, imported"
    assert "version" not in saved.definition
    assert "imported" in [change.action for change in changes()]


ALIAS_BOMB = "\n".join(["name: service_tier", "a: &a [x, x, x, x, x, x, x, x, x, x]"] + [
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
    for i in range(9)]).encode()


@pytest.mark.parametrize(("content", "expected"), [
    (b"name: service_tier\ntitle: [unclosed\nrules: x\n", "line 3"),
    (b"name: service_tier\ntitle: caf\xe9\n", "Line 2 is not UTF-8"),
    (ALIAS_BOMB, "aliases"),
    (SERVICE_TIER.encode() + b"#" * 1_000_001, "larger than 1,000,000"),
    (SERVICE_TIER.replace("name: service_tier", "name: ../etc").encode(),
     "no valid ruleset name"),
], ids=["malformed", "not-utf8", "alias-bomb", "too-large", "path-name"])
def test_import_refuses_bad_files(analyst: Analyst, content: bytes, expected: str) -> None:
    response = import_file(analyst(), content)
    assert response.status_code == 400
    messages = " ".join(alerts(html_of(response)))
    assert expected in messages, messages
    assert draft() is None
    db.session.expire_all()
    assert db.session.scalar(select(RulesetDraft)) is None


#: Nested deeper than the YAML parser can recurse.
DEEP = "[" * 3000 + "]" * 3000


@pytest.mark.parametrize("text", [
    "name: service_tier\nrules: " + DEEP + "\n",
    "name: service_tier\nrules: 5\n",
    "name: service_tier\nrules: [just a string]\n",
    "name: service_tier\ntests: [just a string]\n",
    "name: service_tier\ntitle: [not, text]\n",
], ids=["deep", "rules-number", "rules-strings", "tests-strings", "title-list"])
def test_import_of_a_document_that_is_no_ruleset_never_breaks_the_editor(
        analyst: Analyst, text: str) -> None:
    """Refused (400), or taken as a draft that the editor's pages can still show (so it
    can be fixed or discarded there)."""
    client = analyst()
    response = import_file(client, text.encode())
    assert response.status_code in (302, 400)
    for url in (EDITOR, f"{EDITOR}/tests", f"{EDITOR}/history", "/rules/"):
        assert client.get(url).status_code == 200, url


def test_export_is_the_yaml_of_the_document(analyst: Analyst) -> None:
    response = analyst().get(f"{EDITOR}/export")
    assert response.status_code == 200
    assert f'filename="{NAME}-live.yaml"' in response.headers["Content-Disposition"]
    assert yaml.safe_load(response.get_data(as_text=True)) == versions()[0].definition


def test_export_of_a_version(analyst: Analyst) -> None:
    client = analyst()
    assert save_threshold(client, "95").status_code == 200
    response = client.get(f"{EDITOR}/export?version=1")
    assert response.status_code == 200
    assert threshold(yaml.safe_load(response.get_data(as_text=True))["rules"]) == "90"
    exported = yaml.safe_load(client.get(f"{EDITOR}/export").get_data(as_text=True))
    assert threshold(exported["rules"]) == "95"


# --- hostile input ----------------------------------------------------------------------

def test_tampered_row_key_is_refused(analyst: Analyst) -> None:
    client = analyst()
    form = open_editor(client)
    _, rows = row_blocks(form)
    hostile = [(name.replace("r3", 'x"><script>'), value.replace("r3", 'x"><script>'))
               for name, value in rows["r3"]]
    response = submit(client, with_rows(form, ["r0", "x"], {"x": hostile}))
    assert response.status_code == 400
    assert "<script>" not in html_of(response)
    assert draft() is None


def test_two_thousand_rows_are_refused_cleanly(analyst: Analyst) -> None:
    client = analyst()
    form = open_editor(client)
    extra = {f"n{i}": new_row(form, f"n{i}", rule_id=f"rule_{i}", then="standard")
             for i in range(2000)}
    response = submit(client, with_rows(form, list(extra), extra))
    assert response.status_code == 400
    assert "at most 1000 rules" in page_text(html_of(response))
    assert draft() is None


def test_a_table_of_150_rules_can_be_saved(analyst: Analyst) -> None:
    """Well under the editor's own limit (1,000 rules)."""
    client = analyst()
    form = open_editor(client)
    extra = {f"n{i}": new_row(form, f"n{i}", rule_id=f"band_{i}", title=f"band {i}",
                              **{"op-vip_card": "eq", "value-vip_card": "none",
                                 "op-revenue_percentile": "ge",
                                 "value-revenue_percentile": str(99 - i / 2),
                                 "then": "mid_high_end"})
             for i in range(150)}
    response = submit(client, with_rows(form, ["r0", "r1", "r2", *extra], extra))
    assert response.status_code in (200, 422), response.status_code
    assert len(draft_rules()) == 153


def test_markup_in_cells_is_kept_as_text(analyst: Analyst) -> None:
    client = analyst()
    hostile = '"><script>alert(1)</script>'
    response = submit(client, open_editor(client).set("title-r0", hostile))
    assert response.status_code in (200, 422)
    html = html_of(response)
    assert "<script>alert(1)" not in html
    assert table_form(html).get("title-r0") == hostile
    assert draft_rules()[0]["title"] == hostile


def test_deeply_nested_yaml_in_a_cell_is_a_problem_not_a_crash(analyst: Analyst) -> None:
    client = analyst()
    response = submit(client, open_editor(client).set("more-r0", DEEP))
    assert response.status_code in (400, 422)


def test_deeply_nested_yaml_in_a_test_case_is_a_problem_not_a_crash(
        analyst: Analyst) -> None:
    response = edit_tests(analyst(), given={"gold card": "vip_card: " + DEEP})
    assert response.status_code in (400, 422)
    assert draft() is None


def test_oversized_cell_is_refused(analyst: Analyst) -> None:
    client = analyst()
    response = submit(client, open_editor(client).set(THRESHOLD, "9" * 20_000))
    assert response.status_code == 400
    assert draft() is None


# --- who sees what ----------------------------------------------------------------------

def test_viewer_reads_history_and_diff_but_cannot_edit(
        published: None, client_as: Callable[[StaffRole], FlaskClient]) -> None:
    viewer = client_as(StaffRole.VIEWER)
    assert viewer.get(EDITOR).status_code == 403
    assert viewer.get(f"{EDITOR}/tests").status_code == 403
    history = open_page(viewer, f"{EDITOR}/history")
    assert "Roll back" not in history
    assert viewer.get(f"{EDITOR}/diff?old=1&new=1").status_code == 200
    assert viewer.get(f"{EDITOR}/export").status_code == 200


# --- impact preview ---------------------------------------------------------------------

def test_preview_status_page(analyst: Analyst) -> None:
    client = analyst()
    job = PreviewJob(name=NAME, revision=1, status="running", done=10, total=40,
                     created_at=datetime.now(UTC))
    db.session.add(job)
    db.session.commit()
    status = client.get(f"{EDITOR}/preview/{job.id}?format=json")
    assert status.get_json() == {"status": "running", "done": 10, "total": 40}
    assert client.get(f"/rules/attribution/preview/{job.id}").status_code == 404
    assert client.get(f"{EDITOR}/preview/{job.id}").status_code == 200


def _large_ruleset(rules: int) -> dict[str, Any]:
    """A service-tier ruleset of ``rules`` rules over 20 customer facts, every cell set."""
    numeric = ["revenue_percentile", "revenue_avg_3m", "revenue_avg_12m", "tenure_months",
               "lines_total", "lines_active", "revenue_12m", "revenue_this_month"]
    facts = DEFAULT_CATALOG.facts[Subject.CUSTOMER]
    numeric = [name for name in numeric if name in facts]
    enums = [name for name, fact in facts.items() if fact.type is FactType.ENUM]
    columns = (numeric + enums + [name for name in facts if name not in numeric + enums])[:20]
    body = []
    for index in range(rules):
        when = []
        for column in columns:
            fact = facts[column]
            if fact.type is FactType.ENUM:
                when.append({"fact": column, "op": "in", "value": list(fact.values[:2])})
            elif fact.type is FactType.INTEGER:
                when.append({"fact": column, "op": "ge", "value": index})
            elif fact.type in (FactType.MONEY, FactType.DECIMAL):
                when.append({"fact": column, "op": "between", "value": [f"{index}.50", "99999"]})
            elif fact.type is FactType.DATE:
                when.append({"fact": column, "op": "le", "value": "today-30d"})
            else:
                when.append({"not": {"fact": column, "op": "is_empty"}})
        body.append({"id": f"rule_{index}", "title": f"Rule {index}", "when": {"all": when},
                     "then": "standard" if index % 2 else "mid_high_end"})
    return {"name": NAME, "title": "Large tier table", "subject": "customer",
            "output": "service_tier", "hit_policy": "first", "rules": body,
            "default": "standard"}


def test_a_table_of_120_rules_and_20_columns_opens_and_saves_unchanged(
        analyst: Analyst) -> None:
    client = analyst()
    document = _large_ruleset(120)
    response = import_file(client, yaml.safe_dump(document, allow_unicode=True).encode())
    assert response.status_code == 302, html_of(response)[:2000]
    stored = draft()
    assert stored is not None
    revision, rules = stored.revision, copy.deepcopy(stored.definition["rules"])
    html = open_page(client, EDITOR)
    form = table_form(html)
    assert len(form.data().getlist("row")) == 120
    assert len(form.data().getlist("column")) == 20
    saved = submit(client, form)
    assert saved.status_code in (200, 422), html_of(saved)[:2000]
    again = draft()
    assert again is not None and again.revision == revision + 1
    assert again.definition["rules"] == rules
