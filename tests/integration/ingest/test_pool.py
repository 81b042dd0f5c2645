"""The process pool gives exactly the raw rows of the sequential load (进程池与顺序载入结果一致)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import duckdb
from tests.integration.ingest import ingest_workbooks as wbk

from jixiao.config import Settings, get_settings
from jixiao.ingest.loader import _worker_count, ingest_files

PROJECT_HEADER = ["项目编码", "项目名称", "主管部门", "项目类别"]
PAY_HEADER = ["项目编码", "年度", "支付日期", "支付金额（元）", "资金来源", "收款单位"]
TABLES = (
    "projects",
    "budget_lines",
    "payments",
    "indicators",
    "funding_reported",
    "evaluations",
    "milestones",
    "project_goals",
    "submissions",
    "rejected_rows",
    "load_log",
)


def _batch(folder: Path) -> list[Path]:
    """A register, payments that need its departments, a bad file, bad rows, a duplicate."""
    folder.mkdir()
    wbk.ledger_workbook(
        folder / "00_register.xlsx",
        {"项目登记": [PROJECT_HEADER, ["P-A", "项目甲", "甲局", "基础设施"]]},
    )
    for i in range(1, 6):
        rows: list[list[Any]] = [
            ["P-A", 2023, f"2023-0{i}-1{j}", f"{i}{j}.5", "当年财政拨款", f"单位{j}"]
            for j in range(8)
        ]
        rows[3][3] = "十二点五"  # unparseable amount: the row is rejected, the rest loads
        wbk.ledger_workbook(folder / f"0{i}_payments.xlsx", {"支付": [PAY_HEADER, *rows]})
    (folder / "06_not_a_workbook.xlsx").write_bytes(b"this is plain text, not a zip\n" * 50)
    shutil.copyfile(folder / "02_payments.xlsx", folder / "07_copy.xlsx")
    wbk.ledger_workbook(  # a new project: later files must see its department
        folder / "08_register_v2.xlsx",
        {"项目登记": [PROJECT_HEADER, ["P-B", "项目乙", "乙局", "基础设施"]]},
    )
    rows = [["P-B", 2024, "2024-02-01", "7.25", "当年财政拨款", "单位9"]]
    wbk.ledger_workbook(folder / "09_payments.xlsx", {"支付": [PAY_HEADER, *rows]})
    return sorted(folder.iterdir())


def _dump(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """Every raw table's rows without load times and load ids, home-relative paths."""
    out = {}
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        for table in TABLES:
            cols = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'raw' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if c not in ("loaded_at", "load_id")
            ]
            rows = con.execute(f"select {', '.join(cols)} from raw.{table}").fetchall()
            home = str(settings.home)
            out[table] = sorted(
                (
                    tuple(v.replace(home, "<home>") if isinstance(v, str) else v for v in r)
                    for r in rows
                ),
                key=repr,
            )
    return out


def test_pool_writes_the_same_rows_as_sequential(tmp_path, caplog):
    paths = _batch(tmp_path / "batch")
    seq_home = get_settings(tmp_path / "seq").ensure()
    pool_home = get_settings(tmp_path / "pool").ensure()
    sequential = ingest_files(seq_home, paths, workers=0)
    with caplog.at_level(logging.INFO, logger="jixiao.ingest.loader"):
        pooled = ingest_files(pool_home, paths, workers=2)

    def outcome(s: Any) -> list[tuple[Any, ...]]:
        return [(f.file, f.status, f.rows_loaded, f.rows_rejected, f.reason_code) for f in s.files]

    assert outcome(pooled) == outcome(sequential)
    assert [f.status for f in pooled.files] == [
        "loaded",
        *["loaded"] * 5,
        "quarantined",
        "duplicate",
        "loaded",
        "loaded",
    ]
    assert sum(f.rows_rejected for f in pooled.files) == 5
    seq, pool = _dump(seq_home), _dump(pool_home)
    for table in TABLES:
        assert pool[table] == seq[table], table
    assert len(pool["payments"]) == 5 * 7 + 1
    with duckdb.connect(str(pool_home.warehouse), read_only=True) as con:
        departments = con.execute(
            "select fiscal_year, department_name, count(*) from raw.submissions "
            "group by all order by all"
        ).fetchall()
    assert departments == [(2023, "甲局", 5), (2024, "乙局", 1)]
    assert (pool_home.quarantine / sequential.files[6].sha256 / "06_not_a_workbook.xlsx").exists()
    assert "in 2 isolated worker(s)" in caplog.text
    # files parsed before 00_register was written saw no department and were parsed again
    assert "re-parsing 01_payments.xlsx" in caplog.text


def test_worker_count_isolates_by_default_and_stays_in_process_only_when_asked():
    assert _worker_count(0, 100) == 0  # workers=0: in this process (tests)
    assert _worker_count(1, 100) == 1
    assert _worker_count(2, 1) == 1
    assert _worker_count(2, 5) == 2
    assert _worker_count(None, 3) == 1  # auto: one isolated worker for a small batch
    assert _worker_count(None, 0) == 0  # nothing to parse: no worker
