"""The fixed reports on PostgreSQL: how long each page takes to open, for the whole
province and for a department's and a city's scope, against the 2 s target; and what
refreshing their summaries costs the scheduler's *reports* job.

Builds (once, then reuses: ``--rebuild`` to start again) a database
``custclass_bench_reports_<N>`` on the server of ``--database-url`` (default
``$TEST_DATABASE_URL``) the way ``bench/reclassify.py`` does: the demo province of N
subscribers (feed files cached under ``bench/.data``) imported through the real feeds,
the default rulesets published, one full run. It then adds
customer groups (``--groups`` of 50 members, and one holding 1 % of the customers), so
the group report has something to sum.

Measured:

* each summary's refresh on its own (``webapp.reports.refresh.refresh``), as the
  scheduler's *reports* job pays it (never a classification run);
* each report page through the application (a signed-in test client: routing, access,
  scope, queries, template), ``--repeat`` times, the median, for an account without org
  unit (the whole province), a channel manager of the department with the most lines,
  and one of the city with the most lines; and the CSV export of each;
* the division report again once all but ``--arrivals-share`` of the customers are
  back-dated a year (the demo makes every customer this month's arrival: its worst case)
  and its summary refreshed; then the dates are put back.

    scripts/with-postgres.sh .venv/bin/python bench/reports.py --subscribers 200000
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from demo_database import AS_OF, ROOT, database_exists, migrated
from sqlalchemy import text
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

sys.path.insert(0, str(ROOT))
from reclassify import PHASES, make_app, phase, prepare, publish_defaults

from engine.domain import OrgKind, RunKind, StaffRole
from webapp.database import db
from webapp.models import OrgUnit, StaffUser
from webapp.pipeline.runs import reclassify
from webapp.reports.refresh import PARTS, refresh

TARGET = 2.0
PASSWORD = "bench-password-2026"
PAGES = [
    ("population, city level", "/reports/population"),
    ("population, community level, tiers", "/reports/population?level=community"
                                           "&by=service_tier&measure=subscribers"),
    ("division progress", "/reports/division"),
    ("stock, department level", "/reports/stock?level=department"),
    ("customer groups", "/reports/groups"),
    ("rule activity", "/reports/rules"),
]


def build(admin_url: str, name: str, subscribers: int, as_of: date, processes: int,
          groups: int) -> str:
    url, _ = prepare(admin_url, name, subscribers, as_of)
    app = make_app(url)
    with app.app_context():
        publish_defaults()
        with phase("full run (fills the summaries)"):
            reclassify(db.session, RunKind.FULL, as_of, processes=processes)
        with phase("customer groups"):
            add_groups(groups)
        with phase("vacuum analyze"):
            db.session.remove()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        db.engine.dispose()
    return url


def add_groups(count: int) -> None:
    """``count`` groups of 50 customers spread over the province, and one of 1 % of
    them (every hundredth), as staff would upload them."""
    conn = db.session.connection()
    conn.execute(text("INSERT INTO group_type (code, name) VALUES ('building', '楼宇')"))
    conn.execute(text(
        "INSERT INTO customer_group (name, group_type_id) SELECT 'bench group ' || n, "
        "(SELECT id FROM group_type WHERE code = 'building') "
        "FROM generate_series(0, :count) AS n"), {"count": count})
    conn.execute(text(
        "INSERT INTO customer_group_member (group_id, customer_id) "
        "SELECT g.id, c.id FROM customer c JOIN customer_group g "
        "ON g.name = 'bench group ' || (c.id % :count) WHERE c.id % 97 < 1 "
        "UNION SELECT (SELECT id FROM customer_group WHERE name = 'bench group ' || :count), "
        "c.id FROM customer c WHERE c.id % 100 = 0"), {"count": count})
    db.session.commit()


def accounts() -> dict[str, str | None]:
    """Username per scope: the whole province, the department and the city with the most
    lines (their staff are the scoped readers that cost most)."""
    conn = db.session.connection()
    busiest = {}
    for kind in (OrgKind.DEPARTMENT, OrgKind.CITY):
        busiest[kind] = conn.scalar(text(
            "WITH RECURSIVE up(community, unit) AS ("
            " SELECT d.value, u.id FROM subscriber_decision d JOIN org_unit u"
            " ON u.code = d.value WHERE d.attribute = 'community'"
            " UNION ALL SELECT up.community, u.parent_id FROM up JOIN org_unit u"
            " ON u.id = up.unit WHERE u.parent_id IS NOT NULL)"
            " SELECT u.id FROM up JOIN org_unit u ON u.id = up.unit WHERE u.kind = :kind"
            " GROUP BY u.id ORDER BY count(*) DESC LIMIT 1"), {"kind": kind.value})
    users = {"province": None, "department": busiest[OrgKind.DEPARTMENT],
             "city": busiest[OrgKind.CITY]}
    for scope, unit in users.items():
        username = f"bench-{scope}"
        if db.session.query(StaffUser).filter_by(username=username).first() is None:
            db.session.add(StaffUser(username=username, display_name=username,
                                     role=StaffRole.CHANNEL_MANAGER if unit else
                                     StaffRole.ANALYST, org_unit_id=unit, locale="en",
                                     password_hash=generate_password_hash(PASSWORD)))
    db.session.commit()
    names = {}
    for scope, unit in users.items():
        label = db.session.get(OrgUnit, unit).code if unit else "whole province"
        names[scope] = label
    return names


def time_refreshes(as_of: date) -> None:
    zone = ZoneInfo("Asia/Shanghai")
    for part in PARTS:
        started = time.perf_counter()
        refresh(db.session.connection(), [part], as_of, None, datetime.now(UTC), zone)
        db.session.commit()
        print(f"  refresh {part:<11} {time.perf_counter() - started:7.2f} s", flush=True)


def backdate(share: float, days: int = 400) -> None:
    """Leave ``share`` of the customers arrived this month; the others ``days`` earlier
    (the demo makes every customer arrive on the day it is built; a negative ``days``
    undoes it). Then refresh the division summary."""
    db.session.execute(text(
        "UPDATE customer SET created_at = created_at - make_interval(days => :days) "
        "WHERE id % 1000 >= :kept"), {"kept": round(share * 1000), "days": days})
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE customer"))
    started = time.perf_counter()
    refresh(db.session.connection(), ["division"], AS_OF, None, datetime.now(UTC),
            ZoneInfo("Asia/Shanghai"))
    db.session.commit()
    print(f"  refresh division    {time.perf_counter() - started:7.2f} s", flush=True)
    db.session.remove()


def time_pages(app, scopes: dict[str, str], repeat: int,  # type: ignore[no-untyped-def]
               pages: list[tuple[str, str]] = PAGES) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    print(f"\n{'page':<38} {'scope':<26} {'median s':>9} {'× 2 s':>7} {'CSV s':>7} "
          f"{'CSV rows':>8}")
    for scope, label in scopes.items():
        with app.app_context():  # its own: requests in one share the signed-in user
            time_scope(app, scope, label, repeat, pages)


def time_scope(app, scope: str, label: str, repeat: int,  # type: ignore[no-untyped-def]
               pages: list[tuple[str, str]]) -> None:
    """One scope's pages, signed in as its account: each page's median time, its CSV
    export's time and data rows (a scoped reader sees fewer)."""
    client = app.test_client()
    response = client.post("/login", data={"username": f"bench-{scope}",
                                           "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    for title, url in pages:
        seconds = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url)
            response.get_data()
            seconds.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        started = time.perf_counter()
        joiner = "&" if "?" in url else "?"
        export = client.get(f"{url}{joiner}format=csv")
        rows = export.get_data(as_text=True).count("\n") - 1  # less the header
        exported = time.perf_counter() - started
        median = statistics.median(seconds)
        print(f"{title:<38} {scope + ' ' + label:<26} {median:9.3f} "
              f"{median / TARGET:7.3f} {exported:7.3f} {rows:8,}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=200_000)
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--arrivals-share", type=float, default=0.03,
                        help="then time the division report again with this share of the "
                             "customers arrived this month (1: skip)")
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("--database-url or $TEST_DATABASE_URL (scripts/with-postgres.sh)")
    name = f"custclass_bench_reports_{args.subscribers}"
    if args.rebuild or not database_exists(args.database_url, name):
        url = build(args.database_url, name, args.subscribers, AS_OF, args.processes,
                    args.groups)
    else:
        url = migrated(make_url(args.database_url).set(database=name)
                       .render_as_string(hide_password=False))
        print(f"reusing {name}, migrated (--rebuild to build it again)")
    app = make_app(url)
    app.config["FROZEN_NOW"] = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 4, tzinfo=UTC)
    with app.app_context():
        counts = db.session.execute(text(
            "SELECT (SELECT count(*) FROM subscriber), (SELECT count(*) FROM customer), "
            "(SELECT count(*) FROM org_unit WHERE kind = 'community'), "
            "(SELECT count(*) FROM adjustment_log)")).one()
        print(f"{counts[0]:,} lines, {counts[1]:,} customers, {counts[2]:,} communities, "
              f"{counts[3]:,} log rows")
        print("summaries, each refreshed on its own:")
        time_refreshes(AS_OF)
        summary = db.session.scalar(text("SELECT count(*) FROM report_population"))
        print(f"population summary: {summary:,} rows")
        scopes = accounts()
        db.session.remove()
    time_pages(app, scopes, args.repeat)
    if args.arrivals_share < 1:
        with app.app_context():
            backdate(args.arrivals_share)
        print(f"\nafter back-dating all but {args.arrivals_share:.0%} of the customers "
              "to a year ago (this month's arrivals as in production):")
        time_pages(app, scopes, args.repeat, [page for page in PAGES
                                              if page[1] == "/reports/division"])
        with app.app_context():
            backdate(args.arrivals_share, -400)
    if PHASES:
        print("\nbuilding the province:")
    for label, seconds in PHASES.items():
        print(f"  {label:<40} {seconds:8.1f} s")


if __name__ == "__main__":
    main()
