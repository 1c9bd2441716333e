"""Classification runs on PostgreSQL: full, incremental and due, against one SQL UPDATE.

Generates the demo province (cached under bench/.data, as bench/import.py does), creates
a fresh database ``custclass_bench`` on the server of ``--database-url``, imports every
demo feed file (``custclass import``, one process per file), publishes the default
rulesets, then times ``webapp.pipeline.runs.reclassify`` in this process with
``--processes`` workers, in this order:

(1)  the first full run (every value is new: written, with its adjustment-log row);
(1') the same full run again (every record evaluated, nothing changed);
(4)  the practical limit: one hand-written SQL ``UPDATE customer_decision ... CASE`` that
     computes the facts it needs in SQL (12-month revenue, percentile among card-less
     customers, line count, main product, prepaid-only) and writes the service tier and
     the statistical attribute of every customer. Its agreement with the engine's values
     is printed (the ratio means little below 100 %); the engine's values are put back;
(2-) an incremental (*changed*) run with an empty queue: what any run costs;
(2)  the incremental run after importing a subscribers file that changes 1 % of the
     lines (status or product), which queues them as any import does; a changed line's
     customer is evaluated again from that line and what its other lines' last
     evaluation left (whole if its outcomes change: ``webapp.classification.partial``);
(3)  the daily *due* run of the next day and, with ``--month-turn``, the due run on the
     first of the next month (the revenue window moves: nearly everyone is due).

Records are customers + lines. Memory is the peak of the summed resident memory of this
process and its children (the workers), sampled every 100 ms, with its growth during the
run. CPU is in cores (CPU seconds / wall seconds): this process, its workers, the
PostgreSQL server (when local: its backends do the SQL), and the whole machine; CPU taken
by other processes meanwhile is flagged. With ``--scaling``, run (1) also runs on a
quarter of the population (its own process and database) to show that memory does not
grow with the population. ``--profile`` samples (1') with py-spy, when it is on PATH.

Targets: (2) costs at most 3 % of (1)'s wall time; (1) uses both cores.

    scripts/with-postgres.sh .venv/bin/python bench/reclassify.py --quick    # 50,000 lines
    scripts/with-postgres.sh .venv/bin/python bench/reclassify.py --scaling --month-turn
"""

import argparse
import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from demo_database import (
    AS_OF,
    CUSTCLASS,
    ROOT,
    database_exists,
    fresh_postgres_database,
    generate,
    migration_head,
    recreate_database,
    rename_database,
)
from sqlalchemy import create_engine, func, select, text

sys.path.insert(0, str(ROOT))
from engine.domain import RunKind
from engine.months import add_months
from tests.support import machine_cpu_seconds
from webapp import create_app
from webapp.classification.facts import MonthWindow
from webapp.classification.reference import current_totals, load_reference
from webapp.database import db
from webapp.feeds import FEEDS, import_file
from webapp.models import PendingChange
from webapp.pipeline.runs import reclassify
from webapp.rulesets.files import read_document, ruleset_files
from webapp.rulesets.store import DEFAULT_RULES, publish

SAMPLE_SECONDS = 0.1
PHASES: dict[str, float] = {}


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Add the block's wall time to ``PHASES[name]``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        PHASES[name] = PHASES.get(name, 0.0) + time.perf_counter() - started


# --- data and database ---------------------------------------------------------------------

def feed_files(data: Path) -> list[tuple[str, Path]]:
    """The demo files in import order (as ``webapp.demo.generate`` returns them)."""
    return [("org-units", data / "org_units.csv"),
            ("billing-areas", data / "billing_areas.csv"),
            ("junction-boxes", data / "junction_boxes.csv"),
            ("number-segments", data / "number_segments.csv"),
            ("subscribers", data / "subscribers.csv"), ("arrears", data / "arrears.csv"),
            ("line-plant", data / "line_plant.csv"),
            *(("revenue", path) for path in sorted(data.glob("revenue_*.csv"))),
            ("key-accounts", data / "key_accounts.csv"), ("vip-cards", data / "vip_cards.csv")]


def import_all(url: str, data: Path) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    for feed, path in feed_files(data):
        started = time.perf_counter()
        outcome = subprocess.run([CUSTCLASS, "import", feed, str(path)], env=env,
                                 capture_output=True, text=True)
        if outcome.returncode != 0:
            raise SystemExit(f"import {feed} {path.name} failed:\n{outcome.stdout}\n"
                             f"{outcome.stderr}")
        PHASES[f"import {feed}"] = (PHASES.get(f"import {feed}", 0.0)
                                    + time.perf_counter() - started)
    # What autovacuum would do soon after loads this size; done now so runs see stats.
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn, phase("vacuum analyze after the imports"):
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def make_app(url: str) -> Any:
    instance = Path(tempfile.mkdtemp(prefix="custclass-bench-"))
    return create_app({"SQLALCHEMY_DATABASE_URI": url,
                       "SECRET_KEY": "bench-secret-key-" + "x" * 32},
                      instance_path=str(instance))


def publish_defaults() -> None:
    documents = {path.name: read_document(path) for path in ruleset_files(DEFAULT_RULES)}
    publish(db.session, documents, datetime.now(UTC))
    db.session.commit()


def changed_subscribers_file(data: Path, share: float, seed: int = 7) -> tuple[Path, int]:
    """A subscribers feed file with ``share`` of the lines, each changed: every other one
    its status (active <-> suspended), the rest their product. Streamed: the big file is
    never held in memory."""
    source = data / "subscribers.csv"
    with source.open(encoding="utf-8") as handle:
        lines = sum(1 for _ in handle) - 1
    picked = set(random.Random(seed).sample(range(lines), max(1, round(lines * share))))
    out = data / f"subscribers.changed-{share:.0%}.csv"
    with source.open(encoding="utf-8", newline="") as handle, \
            out.open("w", encoding="utf-8", newline="") as target:
        reader = csv.DictReader(handle)
        writer = csv.DictWriter(target, reader.fieldnames or [], lineterminator="\n")
        writer.writeheader()
        for number, row in enumerate(reader):
            if number not in picked:
                continue
            if number % 2:
                row["status"] = "suspended" if row["status"] == "active" else "active"
            else:
                row["product"] = "宽带500M" if row["product"].startswith("天翼e家") \
                    else "天翼e家-199"
            writer.writerow(row)
    return out, len(picked)


# --- measuring -------------------------------------------------------------------------------

@dataclass
class Measure:
    label: str
    records: int = 0
    customers: int = 0
    seconds: float = 0.0
    peak_rss: int = 0
    start_rss: int = 0
    #: CPU seconds: this process, its children (the workers), the database server, and
    #: every process on the machine.
    own_cpu: float = 0.0
    children_cpu: float = 0.0
    server_cpu: float | None = None
    machine_cpu: float = 0.0
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    def cores(self, cpu: float) -> float:
        return cpu / self.seconds if self.seconds else 0.0


def postmaster(url: str) -> psutil.Process | None:
    """The PostgreSQL server's main process when it runs on this machine, else None."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        process = psutil.Process(backend).parent()
        return process if process and "postgres" in process.name() else None
    except (psutil.Error, OSError):
        return None
    finally:
        engine.dispose()


@contextmanager
def measured(measure: Measure, server: psutil.Process | None) -> Iterator[None]:
    """Time the block; sample the resident memory of this process and its children, and
    the CPU time of those and of the database server's processes."""
    me, done = psutil.Process(), threading.Event()
    servers: set[int] = set()
    tree: dict[int, list[float]] = {}
    database: dict[int, list[float]] = {}

    def note_cpu(table: dict[int, list[float]], process: psutil.Process) -> None:
        """CPU seconds of the process when first seen (0 if it started since) and now."""
        times = process.cpu_times()
        now = times.user + times.system
        table.setdefault(process.pid, [0.0 if started else now])[1:] = [now]

    processes: list[psutil.Process] = []
    listed = [0.0]

    def sample() -> None:
        # Listing processes reads all of /proc: once a second, not at every sample.
        if time.monotonic() - listed[0] >= 1.0:
            listed[0] = time.monotonic()
            processes[:] = [me, *me.children(recursive=True)]
            if server is not None:
                with suppress(psutil.Error):
                    backends = [server, *server.children()]
                    servers.update(process.pid for process in backends)
                    processes.extend(backends)
        total = 0
        for process in processes:
            with suppress(psutil.Error):  # it may have just ended
                if server is not None and process.pid in servers:
                    note_cpu(database, process)
                    continue
                total += process.memory_info().rss
                note_cpu(tree, process)
        measure.peak_rss = max(measure.peak_rss, total)
        measure.start_rss = measure.start_rss or total

    def sampling() -> None:
        while not done.wait(SAMPLE_SECONDS):
            sample()

    started = 0.0
    sample()
    sampler = threading.Thread(target=sampling, daemon=True)
    reaped, busy, started = os.times(), machine_cpu_seconds(), time.perf_counter()
    sampler.start()
    try:
        yield
    finally:
        measure.seconds = time.perf_counter() - started
        measure.machine_cpu = machine_cpu_seconds() - busy
        done.set()
        sampler.join()
        listed[0] = 0.0
        sample()
        # Workers that ended were waited for: their CPU time is in this process's
        # children's times, exactly. Children still alive count as sampled.
        ended = os.times()
        alive = {process.pid for process in processes}
        used = {pid: times[-1] - times[0] for pid, times in tree.items() if pid in alive}
        measure.own_cpu = used.pop(me.pid)
        measure.children_cpu = max(0.0, sum(used.values()) + ended.children_user
                                   + ended.children_system - reaped.children_user
                                   - reaped.children_system)
        if server is not None:
            measure.server_cpu = sum(times[-1] - times[0] for times in database.values())


def timed_run(label: str, kind: RunKind, as_of: date, processes: int,
              server: psutil.Process | None, profile: bool = False) -> Measure:
    print(f"  {label} ...", flush=True)
    measure = Measure(label)
    with measured(measure, server), profiled(measure, profile):
        run = reclassify(db.session, kind, as_of, processes=processes)
    if run.status != "finished":
        raise SystemExit(f"{label}: run {run.id} {run.status}: {run.detail}")
    measure.customers = run.customers
    measure.records = run.customers + run.subscribers
    changes = ", ".join(f"{what} {count:,}" for what, count in run.changes.items() if count)
    errors = sum(run.errors.get("by_ruleset", {}).values())
    measure.note = (f"{run.customers:,} customers + {run.subscribers:,} lines; "
                    f"written: {changes or 'nothing'}"
                    + (f"; records not decided: {errors:,}" if errors else ""))
    PHASES[label] = measure.seconds
    return measure


@contextmanager
def profiled(measure: Measure, enabled: bool) -> Iterator[None]:
    """With ``enabled``, sample this process and its workers with py-spy (when on PATH)
    and keep the functions that held the CPU most, by own time, in ``measure.extra``."""
    spy = shutil.which("py-spy")
    if not enabled or spy is None:
        if enabled:
            print("    (py-spy is not on PATH: no profile)")
        yield
        return
    out = Path(tempfile.mkdtemp(prefix="custclass-spy-")) / "stacks.txt"
    recorder = subprocess.Popen([spy, "record", "--pid", str(os.getpid()), "--subprocesses",
                                 "--nonblocking", "--rate", "50", "--format", "raw",
                                 "--output", str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)  # let it attach
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=120)
        measure.extra["profile"] = top_frames(out) if out.exists() else "no samples"


def top_frames(path: Path, shown: int = 25) -> str:
    """py-spy's collapsed stacks as the functions with the most samples on top of the
    stack (own time) and, among the project's functions, the most samples anywhere in it
    (inclusive), with the process each ran in (parent or worker)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        process = "worker" if "spawn_main" in stack else "parent"
        samples = int(count)
        total += samples
        own[f"{process}: {_frame(frames[-1])}"] += samples
        for frame in {_frame(f) for f in frames if "/work/" in f or "webapp/" in f
                      or "engine/" in f}:
            inclusive[f"{process}: {frame}"] += samples
    lines = [f"    {total:,} samples; own time:"]
    lines += [f"    {n / total:>6.1%}  {name}" for name, n in own.most_common(shown)]
    lines += ["    the project's functions, inclusive:"]
    lines += [f"    {n / total:>6.1%}  {name}" for name, n in inclusive.most_common(shown)]
    return "\n".join(lines)


def _frame(frame: str) -> str:
    """``function (path:line)`` without the line and with the path from the repository."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "python3.11/", str(ROOT) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def fixed_costs(as_of: date) -> str:
    """What every run pays whatever it evaluates: the run reference (org tree and the
    12-month revenue of every card-less customer, for percentiles), from the totals the
    customers' last evaluations kept, beside the aggregate over every line it avoids."""
    conn = db.session.connection()
    started = time.perf_counter()
    reference = load_reference(conn, as_of, totals=current_totals(conn, as_of, set()))
    kept = time.perf_counter() - started
    started = time.perf_counter()
    load_reference(conn, as_of)
    summed = time.perf_counter() - started
    db.session.commit()
    return (f"the run reference (revenue totals of "
            f"{len(reference.revenue_distribution):,} card-less customers): {kept:.1f} s "
            f"from the kept totals, {summed:.1f} s summed again from every line")


def show(measure: Measure, versus: Measure | None = None) -> None:
    print(f"  {measure.label}")
    text_ = (f"      {measure.records:>10,} records {measure.seconds:>8.1f} s "
             f"{measure.rate:>9,.0f} records/s   peak {measure.peak_rss / 2**20:>6,.0f} MiB "
             f"({(measure.peak_rss - measure.start_rss) / 2**20:+,.0f} during the run)")
    if versus is not None:
        text_ += f"   = {measure.seconds / versus.seconds:.2%} of {versus.label.split()[0]}'s time"
    print(text_)
    ours = measure.own_cpu + measure.children_cpu + (measure.server_cpu or 0)
    server = ("n/a" if measure.server_cpu is None
              else f"{measure.cores(measure.server_cpu):.2f}")
    print(f"      CPU in cores: this process {measure.cores(measure.own_cpu):.2f}, workers "
          f"{measure.cores(measure.children_cpu):.2f}, PostgreSQL {server}; whole machine "
          f"{measure.cores(measure.machine_cpu):.2f} of {psutil.cpu_count()}")
    others = measure.cores(measure.machine_cpu - ours)
    if measure.server_cpu is not None and others > 0.1:
        print(f"      other processes took {others:.2f} of the CPUs meanwhile: rerun on a "
              f"quiet machine for clean figures!")
    print(f"      {measure.note}", flush=True)


# --- the hand-written SQL ------------------------------------------------------------------

#: The service tier (rules/service_tier.yaml) and statistical attribute
#: (rules/statistical_attribute.yaml) of every customer, facts and all, in one statement.
BASELINE_UPDATE = r"""
WITH revenue AS (
    SELECT subscriber_id, sum(local_revenue_cents + long_distance_revenue_cents
                              + international_revenue_cents + data_revenue_cents
                              + value_added_revenue_cents) AS rev_12
    FROM subscriber_month WHERE month BETWEEN :year_start AND :this_month
    GROUP BY subscriber_id
), lines AS (
    SELECT s.customer_id, s.service_number, s.product, s.prepaid, s.install_date,
           coalesce(r.rev_12, 0) AS rev_12
    FROM subscriber s LEFT JOIN revenue r ON r.subscriber_id = s.id
), main_line AS (
    SELECT DISTINCT ON (customer_id) customer_id, product
    FROM lines ORDER BY customer_id, rev_12 DESC, install_date, service_number
), per_customer AS (
    SELECT c.id, c.name, c.vip_card, c.key_account_code IS NOT NULL AS key_account,
           count(l.customer_id) AS line_count,
           count(l.customer_id) > 0 AND bool_and(l.prepaid) AS prepaid_only,
           coalesce(sum(l.rev_12), 0) AS rev_12
    FROM customer c LEFT JOIN lines l ON l.customer_id = c.id
    GROUP BY c.id
), facts AS (
    SELECT p.*, m.product AS main_product,
           CASE WHEN p.vip_card = 'none' THEN round(
               (rank() OVER (PARTITION BY p.vip_card = 'none' ORDER BY p.rev_12) - 1)
               * 100.0 / count(*) OVER (PARTITION BY p.vip_card = 'none'), 2) END
               AS revenue_percentile
    FROM per_customer p LEFT JOIN main_line m ON m.customer_id = p.id
)
UPDATE customer_decision d SET decided_at = now(), value = CASE d.attribute
    WHEN 'service_tier' THEN CASE
        WHEN f.vip_card IN ('diamond', 'gold', 'silver') THEN f.vip_card
        WHEN f.vip_card = 'none' AND f.revenue_percentile >= 90 THEN 'mid_high_end'
        ELSE 'standard' END
    ELSE CASE
        WHEN f.key_account OR round(f.rev_12 / 12.0) >= 500000 THEN 'key_account'
        WHEN f.name ~ '(公司|厂|店|酒店|宾馆|中心|学校|医院|银行|事务所|合作社)\s*$'
             OR f.line_count >= 3 THEN 'business'
        WHEN f.main_product LIKE '天翼e家%' THEN 'bundled'
        WHEN f.prepaid_only THEN 'transient'
        ELSE 'public' END
    END
FROM facts f
WHERE d.customer_id = f.id AND d.attribute IN ('service_tier', 'statistical_attribute')
"""


def sql_baseline(url: str, as_of: date, server: psutil.Process | None) -> Measure:
    """Time BASELINE_UPDATE, compare its values with the engine's, then put the engine's
    values back (so the runs after it start from the engine's state)."""
    window = MonthWindow.for_date(as_of)
    engine = create_engine(url)
    measure = Measure("(4) one SQL UPDATE ... CASE: service tier + statistical attribute")
    print(f"  {measure.label} ...", flush=True)
    with engine.connect() as conn:
        conn.execute(text("ANALYZE customer_decision"))
        conn.execute(text("CREATE TEMP TABLE engine_values AS SELECT customer_id, attribute, "
                          "value FROM customer_decision WHERE attribute IN "
                          "('service_tier', 'statistical_attribute')"))
        conn.commit()
        with measured(measure, server):
            updated = conn.execute(text(BASELINE_UPDATE), {
                "year_start": window.year_start, "this_month": window.this}).rowcount
            conn.commit()
        same, total = conn.execute(text(
            "SELECT count(*) FILTER (WHERE e.value = d.value), count(*) FROM engine_values e "
            "JOIN customer_decision d USING (customer_id, attribute)")).one()
        differ = conn.execute(text(
            "SELECT e.attribute, e.value, d.value, count(*) FROM engine_values e "
            "JOIN customer_decision d USING (customer_id, attribute) WHERE e.value <> d.value "
            "GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 5")).all()
        conn.execute(text(
            "UPDATE customer_decision d SET value = e.value FROM engine_values e "
            "WHERE d.customer_id = e.customer_id AND d.attribute = e.attribute "
            "AND d.value <> e.value"))
        conn.execute(text("DROP TABLE engine_values"))
        conn.commit()
    engine.dispose()
    measure.records = measure.customers = updated // 2
    measure.note = (f"{updated:,} values written ({measure.customers:,} customers x 2); "
                    f"agreement with the engine's values: {same:,} / {total:,} "
                    f"({same / max(total, 1):.2%})")
    if differ:
        measure.note += "; differing (attribute, engine -> SQL): " + "; ".join(
            f"{a} {e} -> {s} x{n:,}" for a, e, s, n in differ)
    PHASES["(4) SQL baseline"] = measure.seconds
    return measure


def code_version() -> str:
    """The commit, and the files of the work tree that differ from it: the figures are
    for the code as it was when the benchmark ran."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()

    dirty = [line[3:] for line in git("status", "--porcelain").splitlines()
             if line[3:].startswith(("webapp/", "engine/", "rules/"))]
    return (f"code: {git('rev-parse', '--short', 'HEAD')}"
            + (f" + uncommitted changes to {', '.join(dirty)}" if dirty else ""))


# --- the benchmark ---------------------------------------------------------------------------

def prepare(admin_url: str, name: str, subscribers: int, as_of: date) -> tuple[str, Path]:
    """Database ``name`` with the demo province of ``subscribers`` imported, and the feed
    files' folder. The imported database is kept as a template, named for the population,
    the day and the migration head, and copied on later calls (imports at a million
    lines take a quarter of an hour); drop it to import again."""
    with phase(f"generate {subscribers:,} (cached)"):
        data = generate(subscribers, as_of)
    template = f"custclass_imported_{subscribers}_{as_of:%Y%m%d}_{migration_head()}"
    if not database_exists(admin_url, template):
        with phase("create + migrate database"):
            url = fresh_postgres_database(admin_url, f"{template}_building")
        print(f"importing {subscribers:,} subscribers' feed files into {template} ...",
              flush=True)
        with phase("imports, all files"):
            import_all(url, data)
        rename_database(admin_url, f"{template}_building", template)
    else:
        print(f"copying the imported database {template}", flush=True)
    with phase(f"copy {template} to {name}"):
        return recreate_database(admin_url, name, template), data


def full_only(admin_url: str, subscribers: int, as_of: date, processes: int) -> None:
    """``--full-only``: the first full run alone, in a database of its own; its last line
    is for :func:`scaling_run`."""
    url, _ = prepare(admin_url, "custclass_bench_small", subscribers, as_of)
    app = make_app(url)
    with app.app_context():
        publish_defaults()
        measure = timed_run(f"(1) full run, first, {subscribers:,} subscribers", RunKind.FULL,
                            as_of, processes, postmaster(url))
        db.session.remove()
        db.engine.dispose()
    show(measure)
    print(f"SCALING {measure.records} {measure.peak_rss} {measure.seconds}", flush=True)


def scaling_run(args: argparse.Namespace, subscribers: int) -> tuple[int, int, float]:
    """Records, peak memory and seconds of a first full run on ``subscribers``, in a
    process of its own (this one's memory has a history by now)."""
    command = [sys.executable, __file__, "--full-only", "--subscribers", str(subscribers),
               "--database-url", args.database_url, "--processes", str(args.processes),
               "--as-of", args.as_of.isoformat()]
    started = time.perf_counter()
    outcome = subprocess.run(command, capture_output=True, text=True)
    PHASES[f"scaling: {subscribers:,} subscribers, imports + first full run"] = (
        time.perf_counter() - started)
    lines = outcome.stdout.splitlines()
    print("\n".join(line for line in lines if line.startswith("     ")))
    if outcome.returncode != 0 or not lines or not lines[-1].startswith("SCALING "):
        raise SystemExit(f"the scaling run failed:\n{outcome.stdout}\n{outcome.stderr}")
    records, peak, seconds = lines[-1].split()[1:]
    return int(records), int(peak), float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL")
                        or os.environ.get("DATABASE_URL"),
                        help="a PostgreSQL server (any database on it) where this may create "
                             "custclass_bench (default: $TEST_DATABASE_URL, $DATABASE_URL)")
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="50,000 subscribers")
    parser.add_argument("--processes", type=int, default=2, help="worker processes")
    parser.add_argument("--as-of", type=date.fromisoformat, default=AS_OF,
                        help=f"the day the demo data describes and the runs evaluate "
                             f"(default {AS_OF})")
    parser.add_argument("--changed-share", type=float, default=0.01,
                        help="share of the lines the incremental run's import changes")
    parser.add_argument("--month-turn", action="store_true",
                        help="also time the due run on the first of the next month")
    parser.add_argument("--scaling", action="store_true",
                        help="also time the first full run on a quarter of the population")
    parser.add_argument("--profile", action="store_true",
                        help="sample the repeated full run with py-spy (needs it on PATH)")
    parser.add_argument("--import-only", action="store_true",
                        help="only build the imported database kept for later runs")
    parser.add_argument("--full-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        raise SystemExit("a PostgreSQL --database-url is needed "
                         "(or run through scripts/with-postgres.sh)")
    subscribers = 50_000 if args.quick else args.subscribers
    as_of: date = args.as_of
    if args.full_only:
        full_only(args.database_url, subscribers, as_of, args.processes)
        return
    clock = time.perf_counter()
    print(f"{subscribers:,} demo subscribers as of {as_of}, {args.processes} worker "
          f"processes; {psutil.cpu_count()} CPUs, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB; {code_version()}\n", flush=True)

    url, data = prepare(args.database_url, "custclass_bench", subscribers, as_of)
    if args.import_only:
        return
    server = postmaster(url)
    app = make_app(url)
    with app.app_context():
        with phase("publish default rulesets"):
            publish_defaults()
        print(f"PostgreSQL, {subscribers:,} subscribers:", flush=True)
        first = timed_run("(1) full run, first (every value new, written and logged)",
                          RunKind.FULL, as_of, args.processes, server)
        show(first)
        again = timed_run("(1') full run again (all evaluated, nothing changed)",
                          RunKind.FULL, as_of, args.processes, server, profile=args.profile)
        show(again)
        baseline = sql_baseline(url, as_of, server)
        show(baseline)
        print(f"      (1) / (4): {first.seconds / baseline.seconds:.1f}x the time "
              f"(customers/s: {first.customers / first.seconds:,.0f} vs "
              f"{baseline.customers / baseline.seconds:,.0f}); (1') / (4): "
              f"{again.seconds / baseline.seconds:.1f}x", flush=True)
        idle = timed_run("(2-) changed run, queue empty: what any run costs", RunKind.CHANGED,
                         as_of, args.processes, server)
        idle.note += "; " + fixed_costs(as_of)
        show(idle, first)
        with phase(f"make + import the {args.changed_share:.0%} change file"):
            path, picked = changed_subscribers_file(data, args.changed_share)
            result = import_file(db.engine, FEEDS["subscribers"], path)
            if result.status != "ok":
                raise SystemExit(f"importing {path} failed: {result.message}")
        queued = db.session.scalar(select(func.count()).select_from(PendingChange))
        db.session.commit()
        changed = timed_run(f"(2) changed run after an import changing {picked:,} lines "
                            f"({args.changed_share:.0%})", RunKind.CHANGED, as_of,
                            args.processes, server)
        changed.note += (f"; the import queued {queued:,}; records evaluated: "
                         f"{changed.records / first.records:.1%} of (1)'s")
        show(changed)
        print(f"      target <= 3 % of (1)'s wall time: {changed.seconds / first.seconds:.2%} "
              f"{'MET' if changed.seconds <= 0.03 * first.seconds else 'NOT MET'}; of (1'): "
              f"{changed.seconds / again.seconds:.2%} "
              f"{'MET' if changed.seconds <= 0.03 * again.seconds else 'NOT MET'}", flush=True)
        due = timed_run(f"(3) due run of the next day, {as_of + timedelta(days=1)}",
                        RunKind.DUE, as_of + timedelta(days=1), args.processes, server)
        show(due, first)
        if args.month_turn:
            first_of_month = add_months(as_of.replace(day=1), 1)
            turn = timed_run(f"(3') due run at the month turn, {first_of_month} (no revenue "
                             f"file for the new month yet)", RunKind.DUE, first_of_month,
                             args.processes, server)
            show(turn, first)
        for label, run in (("(1)", first), ("(1')", again)):
            tree = run.own_cpu + run.children_cpu
            print(f"  both cores used by {label}? this process + workers {run.cores(tree):.2f} "
                  f"cores, with PostgreSQL {run.cores(tree + (run.server_cpu or 0)):.2f}, "
                  f"whole machine {run.cores(run.machine_cpu):.2f} of {psutil.cpu_count()}")
        if "profile" in again.extra:
            print("\npy-spy samples of this process and its workers during (1'):")
            print(again.extra["profile"])
        db.session.remove()
        db.engine.dispose()

    if args.scaling:
        print(f"\nmemory as the population grows: the first full run on a quarter of the "
              f"population ({subscribers // 4:,} subscribers), in a fresh process and "
              f"database:", flush=True)
        records, peak, seconds = scaling_run(args, subscribers // 4)
        print(f"      peak memory {first.peak_rss / 2**20:,.0f} MiB for {first.records:,} "
              f"records vs {peak / 2**20:,.0f} MiB for {records:,}: "
              f"{first.peak_rss / peak:.2f}x the memory for {first.records / records:.1f}x "
              f"the records (and {first.seconds / seconds:.1f}x the time)")
    print("\nphases (wall time):")
    for name, seconds in PHASES.items():
        print(f"  {name:<72} {seconds:>8.1f} s")
    print(f"  {'total':<72} {time.perf_counter() - clock:>8.1f} s")


if __name__ == "__main__":
    main()
