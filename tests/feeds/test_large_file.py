"""A 200 MB feed file is streamed: importing it takes hardly more memory than importing
a few rows (the application's own footprint grows with its features; the file's must not
show)."""

import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from tests.feeds.helpers import load_reference
from tests.support import run_measuring_memory
from webapp.feeds import FEEDS
from webapp.models import Subscriber

FILE_BYTES = 200 * 1024 * 1024
#: What the 200 MB file may add to the peak of a few rows' import.
MEMORY_GROWTH = 64 * 1024 * 1024


def _write_file(path: Path, size: int) -> int:
    """Valid subscriber rows with long Chinese names and addresses, about 2.3 kB each,
    until the file holds ``size`` bytes; returns how many."""
    name, address = "张" * 200, "南宁城区民族大道" * 62
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(FEEDS["subscribers"].schema.columns()) + "\n")
        while handle.tell() < size:
            handle.write(f"7710{rows:07d},{name},{address},active,HT{rows // 3},NN01,"
                         "2021-05-01,宽带100M,0,,\n")
            rows += 1
    return rows


def _import(engine: Engine, path: Path) -> tuple[int, str]:
    """Peak memory (bytes) and output of ``custclass import subscribers path``."""
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    custclass = str(Path(sys.executable).with_name("custclass"))
    peak, _seconds, outcome = run_measuring_memory(
        [custclass, "import", "subscribers", str(path)], env)
    assert outcome.returncode == 0, outcome.stderr
    return peak, outcome.stdout


@pytest.mark.slow
def test_200_mb_file_does_not_load_into_memory(engine: Engine, tmp_path: Path) -> None:
    load_reference(engine, tmp_path)
    small = tmp_path / "small.csv"
    first = _write_file(small, 10 * 2300)
    baseline, _output = _import(engine, small)
    path = tmp_path / "big.csv"
    rows = _write_file(path, FILE_BYTES)
    assert path.stat().st_size >= FILE_BYTES
    peak, output = _import(engine, path)
    # The small file's rows are the big file's first ones, unchanged.
    assert f"inserted {rows - first:,} · updated 0 · unchanged {first}" in output, output
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Subscriber)) == rows
    print(f"peak RSS {peak / 2**20:.0f} MiB for a {path.stat().st_size / 2**20:.0f} MiB file, "
          f"{baseline / 2**20:.0f} MiB for {first} rows")
    assert peak - baseline < MEMORY_GROWTH
