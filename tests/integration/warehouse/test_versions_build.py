"""Integration: versions by the document's own time, one current submission, wide columns.

报送版本按文件自身日期排序；“当前报送”只有一个定义；金额列足够宽，dbt 不会因数据溢出。
One real ``dbt build`` over raw rows written the way the loader writes them (with their
``raw.load_log`` rows and the document's date signals):

- an older version (填报日期 2024-02-01) that arrived after the newer one (2024-03-10) is kept in
  history, never wins, and is flagged ``older_version_arrived_later``;
- when one version has no 填报日期, versions are compared by docProps modified instead;
- the raw gate's frames select exactly the rows dbt builds the marts from;
- a 10^12 元 budget and a 0.01 元 budget build, the figures exact, the impossible rate left
  blank with a ``rate_out_of_range`` flag instead of a DECIMAL overflow.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from jixiao.config import Settings, get_settings
from jixiao.quality.frames import FRAMES
from jixiao.warehouse.dbt import build

from .raw_fixtures import RawData, RawFile, _budget

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

DEPT = "版本测试局"
T0 = datetime(2024, 4, 1, 9, 0, 0)
TRILLION = Decimal(10) ** 12


def _log(
    data: RawData,
    f: RawFile,
    *,
    filled_on: date | None,
    modified_at: datetime | None,
    received_at: datetime,
    arrived_at: datetime,
) -> None:
    data.tables["load_log"].append(
        dict(
            load_id=str(uuid.uuid4()),
            file_hash=f.file_hash,
            file_name=f.name,
            file_size_bytes=1000,
            received_at=received_at,
            loaded_at=f.loaded_at,
            status="loaded",
            layout=f.layout,
            rows_read=f.rows,
            rows_loaded=f.rows,
            rows_rejected=0,
            arrived_at=arrived_at,
            document_filled_on=filled_on,
            document_modified_at=modified_at,
        )
    )


def _payment(data: RawData, f: RawFile, sid: str, key: str, amount: Decimal) -> None:
    data.row(
        "payments",
        f,
        "支付",
        sid,
        project_key=key,
        fiscal_year=2023,
        payment_date=date(2023, 6, 30),
        amount_yuan=amount,
        original_text=str(amount),
        original_unit="元",
        fund_source=None,
        payee="承建单位",
        voucher_no=f"{key}-{f.name}",
        summary=None,
        category=None,
    )


def _version(
    data: RawData,
    name: str,
    key: str,
    final: Decimal,
    paid: Decimal,
    *,
    loaded: datetime,
    filled_on: date | None,
    modified_at: datetime | None,
) -> None:
    """One file's version of ``key`` for 2023: a final budget, one payment, its log row."""
    f = RawFile(name, "ledger", loaded)
    sid = data.submission(f, "预算", DEPT, key, f"{key} 项目", 2023)
    data.row(
        "projects",
        f,
        "预算",
        sid,
        project_key=key,
        project_code=key,
        project_name=f"{key} 项目",
        category=None,
        department_name=DEPT,
        implementing_unit=None,
        province=None,
        city=None,
        county=None,
        project_level=None,
        period_start_year=None,
        period_end_year=None,
        parent_project_key=None,
    )
    _budget(data, f, sid, key, 2023, "initial", final, unit="元")
    _budget(data, f, sid, key, 2023, "final", final, unit="元")
    _payment(data, f, sid, key, paid)
    _log(
        data,
        f,
        filled_on=filled_on,
        modified_at=modified_at,
        received_at=loaded - timedelta(minutes=5),
        arrived_at=loaded - timedelta(minutes=1),
    )


def versions_data() -> RawData:
    data = RawData()
    # V-1: the newer version (填报日期 2024-03-10) arrives first, the older draft after it
    _version(
        data,
        "V1_终稿.xlsx",
        "V-1",
        Decimal("1000000.00"),
        Decimal("900000.00"),
        loaded=T0,
        filled_on=date(2024, 3, 10),
        modified_at=datetime(2024, 3, 10, 8, 0),
    )
    _version(
        data,
        "V1_初稿.xlsx",
        "V-1",
        Decimal("800000.00"),
        Decimal("100000.00"),
        loaded=T0 + timedelta(hours=2),
        filled_on=date(2024, 2, 1),
        modified_at=datetime(2024, 2, 1, 8, 0),
    )
    # V-2: one version has no 填报日期: compared by docProps modified, the undated one is newer
    _version(
        data,
        "V2_新.xlsx",
        "V-2",
        Decimal("500000.00"),
        Decimal("250000.00"),
        loaded=T0,
        filled_on=None,
        modified_at=datetime(2024, 3, 5, 8, 0),
    )
    _version(
        data,
        "V2_旧.xlsx",
        "V-2",
        Decimal("400000.00"),
        Decimal("40000.00"),
        loaded=T0 + timedelta(hours=3),
        filled_on=date(2024, 1, 1),
        modified_at=datetime(2024, 2, 1, 8, 0),
    )
    # V-3: a real resubmission, newer by its date and arriving later: it simply wins
    _version(
        data,
        "V3_旧.xlsx",
        "V-3",
        Decimal("300000.00"),
        Decimal("30000.00"),
        loaded=T0,
        filled_on=date(2024, 1, 5),
        modified_at=None,
    )
    _version(
        data,
        "V3_新.xlsx",
        "V-3",
        Decimal("300000.00"),
        Decimal("290000.00"),
        loaded=T0 + timedelta(hours=1),
        filled_on=date(2024, 3, 5),
        modified_at=None,
    )
    # a 10^12 元 budget spent to the fen, and a 0.01 元 budget with 10^12 元 spent
    _version(
        data,
        "大额.xlsx",
        "BIG-1",
        TRILLION,
        Decimal("999999999999.99"),
        loaded=T0,
        filled_on=date(2024, 3, 1),
        modified_at=None,
    )
    _version(
        data,
        "小额.xlsx",
        "TINY-1",
        Decimal("0.01"),
        TRILLION,
        loaded=T0,
        filled_on=date(2024, 3, 1),
        modified_at=None,
    )
    return data


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = get_settings(tmp_path_factory.mktemp("jixiao_versions"))
    versions_data().write(settings.warehouse)
    build(settings)
    return settings


@pytest.fixture
def con(built: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(built.warehouse), read_only=True)
    yield connection
    connection.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> list[dict[str, Any]]:
    result = con.execute(sql, list(params))
    names = [d[0] for d in result.description]
    return [dict(zip(names, r, strict=True)) for r in result.fetchall()]


def _project_year(con: duckdb.DuckDBPyConnection, key: str) -> dict[str, Any]:
    found = rows(
        con,
        "select * from marts.mart_project_year where project_key = ? and fiscal_year = 2023",
        key,
    )
    assert len(found) == 1, found
    return found[0]


def test_an_older_version_arriving_later_never_wins(con: duckdb.DuckDBPyConnection) -> None:
    versions = rows(
        con,
        """
        select file_name, version_rank, is_latest, arrival_rank, ordered_by, arrived_after_current
        from intermediate.int_submissions_ranked where project_key = 'V-1' order by version_rank""",
    )
    assert [(v["file_name"], v["is_latest"], v["arrival_rank"]) for v in versions] == [
        ("V1_终稿.xlsx", True, 2),
        ("V1_初稿.xlsx", False, 1),
    ]
    assert {v["ordered_by"] for v in versions} == {"filled_on"}
    assert [v["arrived_after_current"] for v in versions] == [False, True]
    project = _project_year(con, "V-1")
    assert project["final_budget_yuan"] == Decimal("1000000.00")
    assert project["spent_yuan"] == Decimal("900000.00")
    paid = rows(con, "select amount_yuan from marts.fct_payments where project_key = 'V-1'")
    assert [p["amount_yuan"] for p in paid] == [Decimal("900000.00")]


def test_the_older_version_is_flagged_naming_the_kept_file(
    con: duckdb.DuckDBPyConnection,
) -> None:
    flags = rows(
        con,
        """
        select project_key, severity, detail, message_zh, message_en from marts.mart_review_flags
        where flag_code = 'older_version_arrived_later' order by project_key""",
    )
    assert [(f["project_key"], f["detail"], f["severity"]) for f in flags] == [
        ("V-1", "V1_初稿.xlsx", "warning"),
        ("V-2", "V2_旧.xlsx", "warning"),
    ]
    v1 = flags[0]
    assert "保留「V1_终稿.xlsx」" in v1["message_zh"]
    assert "填报日期 2024-03-10" in v1["message_zh"]
    assert "填报日期 2024-02-01" in v1["message_zh"]
    assert "kept V1_终稿.xlsx (filled on 2024-03-10" in v1["message_en"]
    assert "(date filled)" in v1["message_en"]
    assert "docProps" not in v1["message_zh"]
    assert "文档修改时间" in flags[1]["message_zh"]


def test_a_missing_filled_date_falls_back_to_document_modified(
    con: duckdb.DuckDBPyConnection,
) -> None:
    current = rows(
        con,
        """
        select file_name, ordered_by from intermediate.int_submissions_ranked
        where project_key = 'V-2' and is_latest""",
    )
    assert current == [{"file_name": "V2_新.xlsx", "ordered_by": "document_modified_at"}]
    assert _project_year(con, "V-2")["final_budget_yuan"] == Decimal("500000.00")


def test_a_newer_resubmission_still_supersedes(con: duckdb.DuckDBPyConnection) -> None:
    assert _project_year(con, "V-3")["spent_yuan"] == Decimal("290000.00")
    flagged = rows(
        con,
        "select flag_code from marts.mart_review_flags where project_key = 'V-3'"
        " and flag_code = 'older_version_arrived_later'",
    )
    assert flagged == []


def test_the_raw_gate_sees_exactly_the_rows_dbt_builds_from(
    con: duckdb.DuckDBPyConnection,
) -> None:
    for table, model in [
        ("payments", "int_payments_deduplicated"),
        ("budget_lines", "int_budget_lines_deduplicated"),
    ]:
        frame = FRAMES[f"raw__{table}"]
        lineage = "select file_name || ':' || cast(row_number as varchar)"
        gate = sorted(
            r[0] for r in con.execute(f"{lineage} from ({frame.render(None)})").fetchall()
        )
        marts = sorted(
            r[0]
            for r in con.execute(
                f"select file_name || ':' || cast(row_number as varchar) from intermediate.{model}"
            ).fetchall()
        )
        assert gate == marts
        assert not any("初稿" in r or "旧.xlsx" in r for r in gate if r.startswith(("V1", "V2")))
    submissions = FRAMES["raw__submissions"]
    current = rows(
        con,
        f"select project_key, file_name from ({submissions.render(None)}) order by project_key",
    )
    assert [(r["project_key"], r["file_name"]) for r in current] == [
        ("BIG-1", "大额.xlsx"),
        ("TINY-1", "小额.xlsx"),
        ("V-1", "V1_终稿.xlsx"),
        ("V-2", "V2_新.xlsx"),
        ("V-3", "V3_新.xlsx"),
    ]


def test_a_trillion_yuan_budget_is_exact(con: duckdb.DuckDBPyConnection) -> None:
    big = _project_year(con, "BIG-1")
    assert big["final_budget_yuan"] == TRILLION
    assert big["spent_yuan"] == Decimal("999999999999.99")
    assert big["balance_yuan"] == Decimal("0.01")
    assert big["execution_rate"] == Decimal("1.000000")
    assert big["execution_rate_pct"] == Decimal("100.00")
    budget = rows(con, "select final_yuan from marts.fct_budget where project_key = 'BIG-1'")
    assert [b["final_yuan"] for b in budget] == [TRILLION]


def test_a_one_fen_budget_leaves_the_rate_blank_and_flags_it(
    con: duckdb.DuckDBPyConnection,
) -> None:
    tiny = _project_year(con, "TINY-1")
    assert tiny["final_budget_yuan"] == Decimal("0.01")
    assert tiny["spent_yuan"] == TRILLION
    assert tiny["balance_yuan"] == Decimal("0.01") - TRILLION
    assert tiny["execution_rate"] is None
    assert tiny["execution_rate_pct"] is None
    flags = rows(
        con,
        """
        select severity, detail, message_zh, message_en from marts.mart_review_flags
        where flag_code = 'rate_out_of_range' and project_key = 'TINY-1'""",
    )
    assert len(flags) == 1, flags
    assert flags[0]["severity"] == "warning"
    assert flags[0]["detail"] == "execution_rate"
    assert "调整后预算 0.01 元" in flags[0]["message_zh"]
    assert "支出 1000000000000.00 元" in flags[0]["message_zh"]
    assert "spent 1000000000000.00 yuan" in flags[0]["message_en"]
    assert rows(
        con,
        "select project_key from marts.mart_review_flags where flag_code = 'rate_out_of_range'",
    ) == [{"project_key": "TINY-1"}]


def test_department_totals_add_the_extremes_exactly(con: duckdb.DuckDBPyConnection) -> None:
    dept = rows(
        con,
        "select final_budget_yuan, spent_yuan from marts.mart_department_year"
        " where department_name = ? and fiscal_year = 2023",
        DEPT,
    )
    assert dept == [
        {
            "final_budget_yuan": TRILLION
            + Decimal("0.01")
            + Decimal("1000000.00")
            + Decimal("500000.00")
            + Decimal("300000.00"),
            "spent_yuan": Decimal("999999999999.99")
            + TRILLION
            + Decimal("900000.00")
            + Decimal("250000.00")
            + Decimal("290000.00"),
        }
    ]
