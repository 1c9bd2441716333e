"""Feed import throughput and memory, against PostgreSQL's plain COPY of the same files.

Generates the demo province (cached under bench/.data), then for each database:
imports the reference feeds, the subscribers feed (first import, then the same file again)
and the latest month of revenue, each in a fresh ``custclass import`` process whose peak
resident memory is sampled. A tenth of the subscribers file is imported into a separate
database as well, to show that peak memory does not grow with the file.

    scripts/with-postgres.sh .venv/bin/python bench/import.py --subscribers 1000000
"""

import argparse
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from demo_database import CUSTCLASS, ROOT, fresh_postgres_database, generate, migrated
from sqlalchemy import create_engine, text

sys.path.insert(0, str(ROOT))
from tests.support import run_measuring_memory


@dataclass
class Run:
    rows: int
    seconds: float
    peak_rss: int

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def custclass_import(url: str, feed: str, path: Path) -> Run:
    env = {**os.environ, "DATABASE_URL": url}
    peak, seconds, outcome = run_measuring_memory([CUSTCLASS, "import", feed, str(path)], env)
    if outcome.returncode != 0:
        raise SystemExit(f"import {feed} failed:\n{outcome.stdout}\n{outcome.stderr}")
    rows = int(re.search(r"read ([\d,]+)", outcome.stdout).group(1).replace(",", ""))  # type: ignore[union-attr]
    return Run(rows, seconds, peak)


def fresh_database(kind: str, name: str) -> str:
    if kind != "sqlite":
        return fresh_postgres_database(os.environ["TEST_DATABASE_URL"], name)
    path = ROOT / "bench" / ".data" / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return migrated(f"sqlite:///{path}")


def plain_copy(path: Path) -> Run:
    """PostgreSQL's COPY of the CSV into a bare table of text columns: the practical limit."""
    engine = create_engine(os.environ["TEST_DATABASE_URL"])
    with path.open(encoding="utf-8") as handle:
        columns = handle.readline().strip().split(",")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bare_copy"))
        conn.execute(text(f"CREATE TABLE bare_copy ({', '.join(f'{c} text' for c in columns)})"))
        cursor = conn.connection.cursor()
        started = time.perf_counter()
        with path.open(encoding="utf-8") as handle:
            cursor.copy_expert("COPY bare_copy FROM STDIN WITH (FORMAT csv, HEADER)", handle)
        seconds = time.perf_counter() - started
        rows = cursor.rowcount
        conn.execute(text("DROP TABLE bare_copy"))
    engine.dispose()
    return Run(rows, seconds, 0)


def head(path: Path, fraction: int) -> Path:
    lines = sum(1 for _ in path.open(encoding="utf-8"))
    out = path.with_name(f"{path.stem}.1of{fraction}.csv")
    with path.open(encoding="utf-8") as source, out.open("w", encoding="utf-8") as target:
        for number, line in enumerate(source):
            if number > lines // fraction:
                break
            target.write(line)
    return out


def line(label: str, run: Run, baseline: Run | None = None) -> str:
    text_ = (f"  {label:<34} {run.rows:>10,} rows {run.seconds:>7.1f} s "
             f"{run.rate:>10,.0f} rows/s")
    if run.peak_rss:
        text_ += f"  peak {run.peak_rss / 2**20:>5.0f} MiB"
    if baseline:
        text_ += f"  = {run.rate / baseline.rate:.1%} of COPY"
    return text_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--databases", default="postgresql,sqlite")
    args = parser.parse_args()
    data = generate(args.subscribers)
    subscribers = data / "subscribers.csv"
    revenue = sorted(data.glob("revenue_*.csv"))[-1]
    baselines = {}
    if "postgresql" in args.databases:
        baselines = {"subscribers": plain_copy(subscribers), "revenue": plain_copy(revenue)}
        print("PostgreSQL COPY into a bare table (the practical limit):")
        for feed, run in baselines.items():
            print(line(feed, run))
    for kind in args.databases.split(","):
        print(f"\n{kind}:")
        url = fresh_database(kind, f"bench_import_{kind}")
        for feed, name in [("org-units", "org_units.csv"), ("billing-areas", "billing_areas.csv"),
                           ("junction-boxes", "junction_boxes.csv"),
                           ("number-segments", "number_segments.csv")]:
            custclass_import(url, feed, data / name)
        first = custclass_import(url, "subscribers", subscribers)
        print(line("subscribers, first import", first, baselines.get("subscribers")))
        again = custclass_import(url, "subscribers", subscribers)
        print(line("subscribers, same file again", again, baselines.get("subscribers")))
        month = custclass_import(url, "revenue", revenue)
        print(line(f"revenue {revenue.stem[8:]}, first import", month, baselines.get("revenue")))
        small_url = fresh_database(kind, f"bench_import_{kind}_small")
        for feed, name in [("org-units", "org_units.csv"), ("billing-areas", "billing_areas.csv")]:
            custclass_import(small_url, feed, data / name)
        small = custclass_import(small_url, "subscribers", head(subscribers, 10))
        print(line("subscribers, a tenth of the file", small))
        print(f"  peak memory, full file / tenth: {first.peak_rss / small.peak_rss:.2f}x "
              f"for {first.rows / small.rows:.1f}x the rows")


if __name__ == "__main__":
    main()
