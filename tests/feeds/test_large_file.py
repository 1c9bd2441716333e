"""A 200 MB feed file is streamed: peak memory stays far below the file's size."""

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
MEMORY_LIMIT = 150 * 1024 * 1024


def _write_big_file(path: Path) -> int:
    """Valid subscriber rows with long Chinese names and addresses, about 2.3 kB each."""
    name, address = "张" * 200, "南宁城区民族大道" * 62
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(FEEDS["subscribers"].schema.columns()) + "\n")
        while handle.tell() < FILE_BYTES:
            handle.write(f"7710{rows:07d},{name},{address},active,HT{rows // 3},NN01,"
                         "2021-05-01,宽带100M,0,,\n")
            rows += 1
    return rows


@pytest.mark.slow
def test_200_mb_file_does_not_load_into_memory(engine: Engine, tmp_path: Path) -> None:
    load_reference(engine, tmp_path)
    path = tmp_path / "big.csv"
    rows = _write_big_file(path)
    assert path.stat().st_size >= FILE_BYTES
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    custclass = str(Path(sys.executable).with_name("custclass"))
    peak, _seconds, outcome = run_measuring_memory(
        [custclass, "import", "subscribers", str(path)], env)
    assert outcome.returncode == 0, outcome.stderr
    assert f"inserted {rows:,}" in outcome.stdout
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Subscriber)) == rows
    print(f"peak RSS {peak / 2**20:.0f} MiB for a {path.stat().st_size / 2**20:.0f} MiB file")
    assert peak < MEMORY_LIMIT
