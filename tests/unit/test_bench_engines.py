"""scripts/bench_engines.py: its arguments and its report's shape (no timing is asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_engines.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_engines", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_defaults_are_one_and_ten_percent_on_every_engine(bench: ModuleType) -> None:
    args = bench.parse_args([])
    assert args.shares == [1.0, 10.0]
    assert args.engines == ["duckdb", "postgres", "spark"]


def test_shares_are_sorted_and_engines_chosen(bench: ModuleType) -> None:
    args = bench.parse_args(["--shares", "10,1,5", "--engines", "spark,duckdb"])
    assert args.shares == [1.0, 5.0, 10.0]
    assert args.engines == ["spark", "duckdb"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--engines", "oracle"],
        ["--engines", ""],
        ["--shares", "0"],
        ["--shares", "2,3"],  # 3% is not a whole multiple of 2%: no scaled copy makes it
        ["--shares", ""],
    ],
)
def test_bad_arguments_are_refused(bench: ModuleType, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        bench.parse_args(argv)
    assert exc.value.code == 2


def _row(engine: str, stage: str, share: float, **kw: object) -> dict:
    row = {
        "engine": engine,
        "stage": stage,
        "share": share,
        "wall": 12.34,
        "cpu": 5.0,
        "peak_rss_mib": 1500,
        "jvm_rss_mib": None,
        "ok": True,
    }
    row.update(kw)
    return row


def test_the_report_has_a_row_per_engine_and_stage(bench: ModuleType) -> None:
    rows = [
        _row("duckdb", "load", 1.0),
        _row("duckdb", "build", 1.0, wall=40.0),
        _row("spark", "load", 1.0, jvm_rss_mib=1200, peak_rss_mib=1400),
        _row("spark", "build", 1.0, ok=False, wall=99.0),
    ]
    text = bench.table(rows, [1.0, 10.0], ["duckdb", "spark"])
    lines = text.splitlines()
    assert lines[0] == "| engine | stage | 1% | 10% |"
    assert bench.STAGES == ("load", "build", "gate", "publish")
    assert len(lines) == 2 + 2 * 4
    assert lines[2] == "| duckdb | load | 12.3 s wall, 5.0 s CPU, 1,500 MiB | not run |"
    assert lines[3].startswith("| duckdb | build | 40.0 s wall")
    assert lines[4] == "| duckdb | gate | not run | not run |"
    assert lines[5] == "| duckdb | publish | not run | not run |"
    assert "1,400 MiB (JVM 1,200)" in lines[6]
    assert lines[7] == "| spark | build | FAILED after 99 s | not run |"
