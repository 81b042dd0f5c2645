"""Integration: incremental nights build exactly what one full rebuild builds (增量 = 全量).

增量构建的结果必须与从同一原始层全量重建的结果完全一致。A sequence of nights runs the real
dbt project incrementally on one warehouse: real workbooks through ``ingest_files`` and raw
rows written the way the loader writes them (with ``raw.load_log`` and the document's dates):

1. the initial load;
2. more files (new departments, new projects);
3. a newer version of one project (its payments and budget replaced);
4. an older version of another project arriving later (kept in history, never current);
5. a file that moves a project to another department and one that changes a department's
   figures;
6. a quarantined file (no rows) and a payment row without a submission.

After each night a separate warehouse is built once from a copy of the same raw tables with
``dbt build --full-refresh``, and EVERY table in ``marts`` is compared with it: the same columns
and types, and the same rows (``EXCEPT ALL`` both ways, exact decimals). On night 3 a payment of a
project that night does not touch is altered in the incremental warehouse before the build
and must still be altered after it (an incremental night that rebuilt every key would prove
nothing); it is put back before the comparison.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from jixiao.config import Settings, get_settings
from jixiao.ingest.loader import ensure_raw_schema, ingest_files
from jixiao.samples.bad_inputs import write_all
from jixiao.samples.synth import generate
from jixiao.warehouse.dbt import build, run_dbt

from .raw_fixtures import RawData, RawFile, _budget, realistic_raw_data

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

INCREMENTAL_FACTS = (
    "fct_payments",
    "fct_budget_lines",
    "fct_budget",
    "fct_milestones",
    "fct_project_goals",
)
DEPT = "增量测试局"
OTHER_DEPT = "增量测试二局"
T0 = datetime(2024, 4, 1, 9, 0, 0)
NO_TESTS = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]


# --------------------------------------------------------------------------- raw rows
def _log(data: RawData, f: RawFile, filled_on: date | None, status: str = "loaded") -> None:
    data.tables["load_log"].append(
        dict(
            load_id=str(uuid.uuid4()),
            file_hash=f.file_hash,
            file_name=f.name,
            file_size_bytes=1000,
            received_at=f.loaded_at - timedelta(minutes=5),
            loaded_at=f.loaded_at,
            status=status,
            layout=f.layout,
            rows_read=f.rows,
            rows_loaded=f.rows,
            rows_rejected=0,
            arrived_at=f.loaded_at - timedelta(minutes=1),
            document_filled_on=filled_on,
            document_modified_at=None,
        )
    )


def _version(
    data: RawData,
    name: str,
    key: str,
    budget: Decimal,
    paid: list[Decimal],
    *,
    loaded: datetime,
    filled_on: date,
    dept: str = DEPT,
) -> None:
    """One file's version of ``key`` for 2023: register row, budget lines, payments, log row."""
    f = RawFile(name, "ledger", loaded)
    sid = data.submission(f, "预算", dept, key, f"{key} 项目", 2023)
    data.row(
        "projects",
        f,
        "预算",
        sid,
        project_key=key,
        project_code=key,
        project_name=f"{key} 项目",
        category="信息化",
        department_name=dept,
        implementing_unit=None,
        province="广东省",
        city="江门市",
        county=None,
        project_level=None,
        period_start_year=None,
        period_end_year=None,
        parent_project_key=None,
    )
    _budget(data, f, sid, key, 2023, "initial", budget, unit="元")
    _budget(data, f, sid, key, 2023, "final", budget, unit="元")
    for i, amount in enumerate(paid):
        data.row(
            "payments",
            f,
            "支付",
            sid,
            project_key=key,
            fiscal_year=2023,
            payment_date=date(2023, 3 + i, 15),
            amount_yuan=amount,
            original_text=str(amount),
            original_unit="元",
            fund_source=None,
            payee="承建单位",
            voucher_no=f"{key}-{name}-{i}",
            summary=None,
            category=None,
        )
    _log(data, f, filled_on)


def _orphan_payment(data: RawData, key: str, amount: Decimal, loaded: datetime) -> None:
    """A payment row without a submission (no department to rank it by)."""
    f = RawFile(f"{key}_补录支付.xlsx", "ledger", loaded)
    data.row(
        "payments",
        f,
        "支付",
        None,
        project_key=key,
        fiscal_year=2023,
        payment_date=date(2023, 11, 30),
        amount_yuan=amount,
        original_text=str(amount),
        original_unit="元",
        fund_source=None,
        payee="补录",
        voucher_no=f"{key}-orphan",
        summary=None,
        category=None,
    )
    _log(data, f, None)


def _d(text: str) -> Decimal:
    return Decimal(text)


# --------------------------------------------------------------------------- the nights
def _night_1(settings: Settings, files: Path) -> None:
    realistic_raw_data().write(settings.warehouse)
    data = RawData()
    _version(
        data,
        "INC1_终稿.xlsx",
        "INC-1",
        _d("1000000.00"),
        [_d("100000.00"), _d("200000.00")],
        loaded=T0,
        filled_on=date(2024, 3, 10),
    )
    _version(
        data,
        "INC2_v1.xlsx",
        "INC-2",
        _d("500000.00"),
        [_d("50000.00")],
        loaded=T0,
        filled_on=date(2024, 1, 5),
    )
    _version(
        data,
        "INC3_v1.xlsx",
        "INC-3",
        _d("300000.00"),
        [_d("30000.00")],
        loaded=T0,
        filled_on=date(2024, 1, 5),
        dept=OTHER_DEPT,
    )
    data.write(settings.warehouse)
    paths = generate(
        files / "n1", departments=2, projects_per_department=3, payments_per_project=4, seed=11
    )
    time.sleep(0.3)  # older than JIXIAO_STABLE_SECONDS: not a file still being written
    ingest_files(settings, paths, workers=0)


def _night_2(settings: Settings, files: Path) -> None:
    paths = generate(
        files / "n2", departments=2, projects_per_department=2, payments_per_project=3, seed=12
    )
    time.sleep(0.3)
    ingest_files(settings, paths, workers=0)


def _night_3(settings: Settings, files: Path) -> None:
    data = RawData()  # INC-2 resubmitted: newer by 填报日期, arrives later, other figures
    _version(
        data,
        "INC2_v2.xlsx",
        "INC-2",
        _d("520000.00"),
        [_d("61000.00"), _d("0.01")],
        loaded=T0 + timedelta(days=2),
        filled_on=date(2024, 3, 20),
    )
    data.write(settings.warehouse)


def _night_4(settings: Settings, files: Path) -> None:
    data = RawData()  # an older draft of INC-1 arrives after the final version: never current
    _version(
        data,
        "INC1_初稿.xlsx",
        "INC-1",
        _d("800000.00"),
        [_d("1.00")],
        loaded=T0 + timedelta(days=3),
        filled_on=date(2024, 2, 1),
    )
    data.write(settings.warehouse)


def _night_5(settings: Settings, files: Path) -> None:
    data = RawData()
    # INC-3 now reported by DEPT (a department change): a new key (DEPT, INC-3, 2023)
    _version(
        data,
        "INC3_移交.xlsx",
        "INC-3",
        _d("310000.00"),
        [_d("31000.00")],
        loaded=T0 + timedelta(days=4),
        filled_on=date(2024, 3, 25),
    )
    # INC-1 final version corrected again, fewer payments than before
    _version(
        data,
        "INC1_更正.xlsx",
        "INC-1",
        _d("990000.00"),
        [_d("99.99")],
        loaded=T0 + timedelta(days=4),
        filled_on=date(2024, 3, 28),
    )
    data.write(settings.warehouse)


def _night_6(settings: Settings, files: Path) -> None:
    bad = write_all(files / "bad")
    summary = ingest_files(settings, [bad["corrupt_zip"]], workers=0)
    assert summary.files_quarantined == 1
    data = RawData()
    # a payment without a submission, loaded after INC-2's newest submission: it counts
    _orphan_payment(data, "INC-2", _d("777.77"), T0 + timedelta(days=5))
    _log(data, RawFile("坏文件.xlsx", "ledger", T0 + timedelta(days=5)), None, status="quarantined")
    data.write(settings.warehouse)


NIGHTS = (_night_1, _night_2, _night_3, _night_4, _night_5, _night_6)


# --------------------------------------------------------------------------- builds
def _reference(incremental: Settings, home: Path) -> Settings:
    """A new warehouse holding a copy of the raw tables only, built with --full-refresh."""
    if home.exists():
        shutil.rmtree(home)
    settings = get_settings(home)
    settings.ensure()
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse)) as con:
        ensure_raw_schema(con)
        con.execute(f"attach '{incremental.warehouse}' as src (read_only)")
        tables = con.execute(
            "select table_name from information_schema.tables where table_catalog = 'src' "
            "and table_schema = 'raw' and table_type = 'BASE TABLE'"
        ).fetchall()
        for (table,) in tables:
            con.execute(f"insert into raw.{table} select * from src.raw.{table}")
        con.execute("detach src")
    run_dbt(settings, ["build", "--full-refresh", *NO_TESTS])
    return settings


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[tuple[Any, ...]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = 'marts' and table_name = ? "
        "order by ordinal_position",
        [catalog, table],
    ).fetchall()


def differences(incremental: Path, reference: Path) -> dict[str, str]:
    """Every marts table compared: columns, types, rows both ways (差异)."""
    found: dict[str, str] = {}
    with duckdb.connect(str(incremental), read_only=True) as con:
        con.execute(f"attach '{reference}' as ref (read_only)")
        mine = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_catalog = "
                "current_database() and table_schema = 'marts' and table_type = 'BASE TABLE'"
            ).fetchall()
        }
        theirs = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_catalog = 'ref' "
                "and table_schema = 'marts' and table_type = 'BASE TABLE'"
            ).fetchall()
        }
        if mine != theirs:
            found["(tables)"] = f"only incremental {mine - theirs}, only full {theirs - mine}"
        db = con.execute("select current_database()").fetchone()[0]
        for table in sorted(mine & theirs):
            cols_mine, cols_ref = _columns(con, db, table), _columns(con, "ref", table)
            if cols_mine != cols_ref:
                found[table] = f"columns differ: {cols_mine} vs {cols_ref}"
                continue
            extra, missing, count_mine, count_ref = con.execute(
                f"""
                select
                    (select count(*) from (select * from marts.{table}
                        except all select * from ref.marts.{table})),
                    (select count(*) from (select * from ref.marts.{table}
                        except all select * from marts.{table})),
                    (select count(*) from marts.{table}),
                    (select count(*) from ref.marts.{table})
                """
            ).fetchone()
            if extra or missing or count_mine != count_ref:
                found[table] = (
                    f"{extra} rows only incremental, {missing} rows only full "
                    f"({count_mine} vs {count_ref} rows)"
                )
    return found


TAMPERED = Decimal("30000.00")  # INC-3's payment; night 3 only resubmits INC-2


def _tamper(settings: Settings, change: str) -> None:
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute(
            f"update marts.fct_payments set amount_yuan = amount_yuan {change} "
            "where project_key = 'INC-3'"
        )


def _tampered_amount(settings: Settings) -> Decimal:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        row = con.execute(
            "select amount_yuan from marts.fct_payments where project_key = 'INC-3'"
        ).fetchone()
    assert row is not None
    return Decimal(row[0])


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[dict[str, str]]]:
    base = tmp_path_factory.mktemp("incremental")
    settings = get_settings(base / "incremental")
    settings.ensure()
    files = base / "files"
    results: list[dict[str, str]] = []
    untouched_kept: list[Decimal] = []
    for i, night in enumerate(NIGHTS, start=1):
        night(settings, files)
        if i == 3:
            _tamper(settings, "+ 1")
        if i == 1:
            build(settings)  # the first night: a normal build with every test
        else:
            run_dbt(settings, ["build", *NO_TESTS])
        if i == 3:
            untouched_kept.append(_tampered_amount(settings))
            _tamper(settings, "- 1")
        reference = _reference(settings, base / f"full_{i}")
        results.append(differences(settings.warehouse, reference.warehouse))
    build(settings)  # after the last night every data test passes on the incremental tables
    assert untouched_kept == [TAMPERED + 1], "night 3 rebuilt a key it did not change"
    yield results


@pytest.mark.parametrize("night", range(len(NIGHTS)), ids=[n.__name__ for n in NIGHTS])
def test_every_mart_equals_a_full_rebuild(nights: list[dict[str, str]], night: int) -> None:
    assert nights[night] == {}, nights[night]


def test_the_facts_are_incremental() -> None:
    """Each fact takes its materialization from submission_materialization(): incremental
    on DuckDB and PostgreSQL (default__), a table on Spark, whose Parquet tables cannot
    DELETE the keys a night rebuilds."""
    project = get_settings().dbt_project_dir
    macros = (project / "macros" / "incremental_by_submission.sql").read_text(encoding="utf-8")
    default = macros.split("macro default__submission_materialization()", 1)[1]
    assert default.split("endmacro", 1)[0].count("return('incremental')") == 1
    for fact in INCREMENTAL_FACTS:
        text = (project / "models" / "marts" / "core" / f"{fact}.sql").read_text(encoding="utf-8")
        assert "materialized=submission_materialization()" in text, fact
        assert "submission_keys_filter" in text, fact
