"""The ``custclass`` command line as an operator uses it."""

import subprocess
import sys
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine

from tests.feeds.helpers import SUBSCRIBERS, feed_file, load_reference
from webapp.feeds import FEEDS


def test_help_lists_every_command_with_a_description() -> None:
    custclass = str(Path(sys.executable).with_name("custclass"))
    top = subprocess.run([custclass, "--help"], capture_output=True, text=True, check=True)
    for command in ("db", "demo", "demo-data", "import"):
        line = next(line for line in top.stdout.splitlines() if line.strip().startswith(command))
        assert len(line.split()) > 2, line
    feeds = subprocess.run([custclass, "import", "--help"], capture_output=True, text=True,
                           check=True)
    for name in [*FEEDS, "history"]:
        assert f"  {name} " in feeds.stdout


def test_import_exit_codes_and_messages(app: Flask, engine: Engine, tmp_path: Path) -> None:
    load_reference(engine, tmp_path)
    runner = app.test_cli_runner()
    good = feed_file(tmp_path, "subscribers", SUBSCRIBERS)
    ok = runner.invoke(args=["import", "subscribers", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "subscribers: ok · read 3 · inserted 3" in ok.output

    bad_rows = [*SUBSCRIBERS, ["77100000009", "李四", "", "active", "HT9", "XX", "2021-05-01",
                               "", "0", "", ""]]
    bad = feed_file(tmp_path, "subscribers", bad_rows, name="bad.csv")
    strict = runner.invoke(args=["import", "subscribers", str(bad)])
    assert strict.exit_code == 1
    assert "bad.csv: line 5, column billing_area_code: unknown billing area 'XX'" in strict.output
    assert "nothing was stored" in strict.output

    skip = runner.invoke(args=["import", "subscribers", str(bad), "--mode", "skip"])
    assert skip.exit_code == 3
    assert "rejected rows and reasons: " + str(tmp_path / "bad.rejects.csv") in skip.output

    history = runner.invoke(args=["import", "history"])
    assert history.exit_code == 0
    assert history.output.splitlines()[0].split()[3:5] == ["subscribers", "partial"]


def test_demo_data_writes_feed_files(app: Flask, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(
        args=["demo-data", "-n", "200", "--seed", "3", "--as-of", "2026-03-15",
              "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "subscribers.csv").read_text(encoding="utf-8").count("\n") == 201
    assert (tmp_path / "revenue_2026-02.csv").exists()
    assert not (tmp_path / "revenue_2026-03.csv").exists()
