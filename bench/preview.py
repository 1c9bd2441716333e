"""Impact preview of a draft on the demo province: seconds per draft, against one
evaluation pass of the whole population with the published rules (the least a preview
that evaluates the published side can cost).

    .venv/bin/python bench/preview.py                       # SQLite, 50,000 subscribers
    scripts/with-postgres.sh .venv/bin/python bench/preview.py --postgres

Target (rule-editor issue): seconds on the demo province of 50,000 subscribers.
"""

import argparse
import copy
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.demo_database import AS_OF, CUSTCLASS, ROOT, fresh_postgres_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=50_000)
    parser.add_argument("--postgres", action="store_true",
                        help="on a fresh database of $TEST_DATABASE_URL's server")
    args = parser.parse_args()
    instance = ROOT / "bench" / ".data" / f"preview-{args.subscribers}"
    instance.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CUSTCLASS_INSTANCE": str(instance)}
    if args.postgres:
        env["DATABASE_URL"] = fresh_postgres_database(os.environ["TEST_DATABASE_URL"],
                                                      "custclass_bench_preview")
    else:
        (instance / "custclass.db").unlink(missing_ok=True)
        env.pop("DATABASE_URL", None)
    print(f"demo province of {args.subscribers:,} subscribers "
          f"({'PostgreSQL' if args.postgres else 'SQLite'}) ...", flush=True)
    subprocess.run([CUSTCLASS, "demo", "-n", str(args.subscribers), "--as-of",
                    AS_OF.isoformat()], env=env, check=True, stdout=subprocess.DEVNULL)
    os.environ.update(env)
    measure()


def measure() -> None:
    from webapp import create_app
    from webapp.classification.reference import load_reference
    from webapp.classification.run import Plan, all_customers, evaluate_range
    from webapp.database import db
    from webapp.rulesets.preview import preview_impact
    from webapp.rulesets.store import latest_published, live_rulesets, validate_with_live

    app = create_app()
    with app.app_context():
        conn = db.session.connection()
        published = live_rulesets(db.session)
        started = time.perf_counter()
        reference = load_reference(conn, AS_OF)
        evaluators = Plan.of(published).evaluators()
        for chunk in all_customers(conn):
            evaluate_range(conn, reference, evaluators, chunk)
        one_pass = time.perf_counter() - started
        print(f"baseline: one evaluation pass with the published rules, in process: "
              f"{one_pass:.1f} s", flush=True)
        documents = {row.name: row.definition for row in latest_published(db.session)}
        for label, change in DRAFTS.items():
            document = change(copy.deepcopy(documents))
            report = validate_with_live(db.session, {"draft": document})[0]
            assert report.ok and report.ruleset is not None, report.errors
            candidate = [r for r in published if r.name != report.ruleset.name]
            candidate.append(report.ruleset)
            for processes in (0, os.cpu_count() or 1):
                started = time.perf_counter()
                impact = preview_impact(conn, published, candidate, AS_OF,
                                        processes=processes)
                seconds = time.perf_counter() - started
                print(f"{label}, {processes} worker processes: {seconds:.1f} s = "
                      f"{seconds / one_pass:.2f}x one pass; {impact.affected_customers:,} "
                      f"of {impact.customers:,} customers affected", flush=True)
        editor_timing(app)


def editor_timing(app: Any) -> None:
    """Open and save the decision table of a ruleset of 120 rules x 20 fact columns (the
    test suite's large table) through the real views, as a signed-in analyst."""
    from datetime import UTC, datetime

    from werkzeug.datastructures import MultiDict

    from engine.domain import StaffRole
    from tests.web.test_rule_editor import _large_ruleset
    from webapp.cli.users import create_user
    from webapp.database import db
    from webapp.rulesets.drafts import export_yaml, import_yaml

    app.config["WTF_CSRF_ENABLED"] = False
    user = create_user("bench-analyst", StaffRole.ANALYST, "bench", None, "en",
                       "bench-password-1")
    import_yaml(db.session, export_yaml(_large_ruleset(120)), user, datetime.now(UTC))
    db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "bench-analyst", "password": "bench-password-1"})
    started = time.perf_counter()
    page = client.get("/rules/service_tier")
    opened = time.perf_counter() - started
    form = _fields(page.get_data(as_text=True))
    started = time.perf_counter()
    saved = client.post("/rules/service_tier", data=MultiDict(form))
    saving = time.perf_counter() - started
    print(f"editor, 120 rules x 20 columns: page {len(page.data) / 1e6:.1f} MB opened in "
          f"{opened:.2f} s (status {page.status_code}); saved in {saving:.2f} s "
          f"(status {saved.status_code}, {len(form)} fields)")


def _fields(html: str) -> list[tuple[str, str]]:
    from tests.web.helpers import find_form

    return find_form(html, form_id="rule-table-form", base="/rules/service_tier").fields


def _tier(documents: dict[str, Any]) -> dict[str, Any]:
    tier = documents["service_tier"]
    rule = next(rule for rule in tier["rules"] if rule["id"] == "mid_high_end")
    next(test for test in rule["when"]["all"]
         if test["fact"] == "revenue_percentile")["value"] = 95
    return tier


def _alerts(documents: dict[str, Any]) -> dict[str, Any]:
    alerts = documents["alerts"]
    alerts["rules"] = [rule for rule in alerts["rules"] if rule["id"] != "zero_traffic"]
    return alerts


def _attribution(documents: dict[str, Any]) -> dict[str, Any]:
    attribution = documents["attribution"]
    attribution["rules"] = [rule for rule in attribution["rules"]
                            if rule["then"] != {"fact": "box_community"}]
    attribution["tests"] = []
    return attribution


DRAFTS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "service_tier threshold 90 -> 95 (customer stage)": _tier,
    "alerts without zero_traffic (last line stage)": _alerts,
    "attribution without junction boxes (first stage: everything again)": _attribution,
}


if __name__ == "__main__":
    main()
