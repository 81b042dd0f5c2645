"""Metamorphic test: the same facts in another layout give the same raw rows (版式不变性).

Every variant of a canonical submission (:mod:`jixiao.samples.variants`) is ingested into its
own fresh warehouse and its raw rows are compared with the canonical workbook's, as multisets
of tuples, after removing the columns that record *how* a fact was written rather than the
fact (:data:`PRESENTATION_COLUMNS`). No variant may be quarantined or lose rows to rejection
beyond the canonical's.

:data:`VARIANTS` is the table the lead reads: one row per named variant, with ``None`` when it
agrees and the precise cause when it does not. A failing variant is marked
``xfail(strict=True)``: the suite stays green while the failure stays visible, and the mark
has to be removed as soon as a reader is fixed. The hypothesis test combines transformations
that agree on their own and asserts that their combinations agree too.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from jixiao.config import get_settings
from jixiao.ingest.loader import ingest_files
from jixiao.samples import variants as V

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

#: Raw data tables compared (raw.load_log and raw.rejected_rows are checked separately).
DATA_TABLES = (
    "submissions",
    "projects",
    "budget_lines",
    "payments",
    "indicators",
    "funding_reported",
    "evaluations",
    "milestones",
    "project_goals",
)

#: Columns that legitimately record how or where a fact was written, not the fact itself.
PRESENTATION_COLUMNS: dict[str, str] = {
    "file_hash": "lineage: the bytes differ by construction",
    "file_name": "lineage: split variants write several files",
    "sheet_name": "lineage: sheet-per-year variants name sheets differently",
    "row_number": "lineage: blank/note/header rows and other orders move rows",
    "loaded_at": "lineage: load time",
    "submission_id": "lineage: <sha256>:<sheet>:<project>:<year> embeds file hash and sheet",
    "original_text": "presentation: the amount cell as typed ('1,330', '２０１０', '27.5万元')",
    "original_unit": "presentation: the unit the amount was written in (元/万元); yuan compared",
    "target_text": "presentation: the target cell as typed; kind/direction/value/unit compared",
    "actual_text": "presentation: the actual cell as typed; kind/direction/value/unit compared",
}

# --------------------------------------------------------------------------- causes (why not)
# Every variant agrees today. The first run (d3296cb) found 38 that did not, each diagnosed
# here with the reader, label/column/value, what it did and what it should do; fixed since:
# 项目单位/需求单位/填报单位 as the department (forms and ledgers), 预算安排/累计支出/支付金额
# in the funding block and 累计支出 in payment ledgers, typed percents (0.98 with a % format), the
# 自评表 title over a ledger or 评分表 (scored detection), 年中压减 and 收回, amounts whose unit
# is only in the cells, repeated header rows, a 资金来源 column of 合计 codes coming first, the
# 指标评分表's 实际到位数/下达数 and 填报单位 below row 12. A new disagreement gets its cause here
# and an xfail(strict=True) mark through ``cause=`` below.

# The per-variant table (seed, transformations, None when it agrees else the cause).
VARIANTS: list[tuple[str, tuple[str, ...], str | None]] = []


def _v(seed: str, *names: str, cause: str | None = None) -> None:
    VARIANTS.append((seed, tuple(names), cause))


_SELFEVAL_AGREE = (
    "title_short",
    "title_with_year",
    "title_none",
    "title_of_other_layout",
    "indicator_columns_permuted",
    "funding_columns_permuted",
    "department_预算部门",
    "department_项目单位",
    "department_需求单位",
    "department_填报单位",
    "final_调整后预算",
    "final_预算安排",
    "executed_实际支出",
    "executed_累计支出",
    "executed_支付金额",
    "groups_repeated",
    "units_swapped",
    "units_in_caption",
    "units_in_cells",
    "percent_format",
    "percent_text",
    "fullwidth_digits",
    "text_numbers",
    "blank_rows",
    "note_rows",
    "info_beside",
    "inline_labels",
    "cover_sheet",
    "instruction_sheet",
    "hidden_draft",
    "chart_sheet",
)
for _seed in ("003", "004"):
    _v(_seed)
    for _name in _SELFEVAL_AGREE:
        _v(_seed, _name)
_v("004", "workbook_per_table")

_v("002")
for _name in (
    "title_none",
    "title_of_other_layout",
    "scoring_columns_permuted",
    "filler_label_short",
    "groups_repeated",
    "units_swapped",
    "units_in_caption",
    "scoring_unit_own_cell",
    "fullwidth_digits",
    "text_numbers",
    "blank_rows",
    "note_rows",
    "info_beside",
    "cover_sheet",
    "instruction_sheet",
    "hidden_draft",
    "chart_sheet",
):
    _v("002", _name)
for _w in ("实际到位数", "下达数"):
    _v("002", f"allocated_{_w}")
_v("002", "units_in_cells")
_v("002", "blank_rows", "note_rows", "info_beside")

for _seed in ("000", "001"):
    _v(_seed)
    for _name in (
        "title_of_other_layout",
        "ledger_columns_reversed",
        "department_预算部门",
        "department_项目单位",
        "department_需求单位",
        "paid_实际支出",
        "paid_付款金额",
        "cut_年中压减",
        "cut_收回",
        "initial_年初安排",
        "units_swapped",
        "units_in_caption",
        "percent_format",
        "fullwidth_digits",
        "text_numbers",
        "blank_rows",
        "note_rows",
        "cover_sheet",
        "instruction_sheet",
        "hidden_draft",
        "chart_sheet",
        "workbook_per_table",
        "sheet_per_year",
    ):
        _v(_seed, _name)
    _v(_seed, "department_填报单位")
    _v(_seed, "paid_累计支出")
    _v(_seed, "units_in_cells")
    _v(_seed, "repeated_header")
_v("000", "ledger_columns_rotated")
for _name in ("title_none", "cut_调减", "units_in_header", "info_beside"):
    _v("000", _name)  # no-ops on Dongguan's canonical workbook (see variants._NOOP)
_v("001", "cut_压减")
_v("001", "ledger_columns_rotated")
for _seed in V.SEEDS:
    _v(_seed, "legacy_xls")

#: The hardest variant of each document that agrees: the dbt-level check ingests these.
HARDEST: dict[str, tuple[str, ...]] = {
    "000": (
        "ledger_columns_rotated",
        "units_swapped",
        "text_numbers",
        "note_rows",
        "blank_rows",
        "cover_sheet",
        "sheet_per_year",
    ),
    "001": (
        "ledger_columns_reversed",
        "units_in_caption",
        "fullwidth_digits",
        "percent_format",
        "hidden_draft",
        "workbook_per_table",
        "department_预算部门",
    ),
    "002": (
        "groups_repeated",
        "units_swapped",
        "scoring_columns_permuted",
        "text_numbers",
        "blank_rows",
        "note_rows",
        "chart_sheet",
    ),
    "003": (
        "title_with_year",
        "indicator_columns_permuted",
        "groups_repeated",
        "units_in_cells",
        "units_swapped",
        "fullwidth_digits",
        "inline_labels",
        "instruction_sheet",
    ),
    "004": (
        "title_short",
        "funding_columns_permuted",
        "units_swapped",
        "percent_text",
        "text_numbers",
        "workbook_per_table",
        "blank_rows",
        "cover_sheet",
    ),
}


#: The variants the dbt-level check ingests together: the hardest of each document, seed 001
#: sent as one workbook per ledger kind (a newer file supersedes an older one only for the
#: tables it carries: latest_submission_rows).
DBT_VARIANTS: dict[str, tuple[str, ...]] = dict(HARDEST)


def known_failing(seed: str) -> list[frozenset[str]]:
    """The combinations of ``seed`` known to disagree today (single ones included)."""
    return [frozenset(names) for s, names, cause in VARIANTS if s == seed and cause]


# --------------------------------------------------------------------------- machinery
@dataclass
class Snapshot:
    """What a warehouse holds after ingesting one submission, layout columns removed."""

    rows: dict[str, Counter[tuple[Any, ...]]]
    rejected: Counter[str]
    statuses: list[tuple[str, str, str | None, str | None]]


def _snapshot(home: Path, paths: list[Path]) -> Snapshot:
    settings_ = get_settings(home).ensure()
    ingest_files(settings_, paths, workers=0)
    with duckdb.connect(str(settings_.warehouse), read_only=True) as con:
        rows: dict[str, Counter[tuple[Any, ...]]] = {}
        for table in DATA_TABLES:
            cols = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'raw' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if c not in PRESENTATION_COLUMNS
            ]
            rows[table] = Counter(
                con.execute(f"select {', '.join(cols)} from raw.{table}").fetchall()
            )
        rejected = Counter(
            f"{code}: {msg}"
            for code, msg in con.execute(
                "select reason_code, message_en from raw.rejected_rows"
            ).fetchall()
        )
        statuses = con.execute(
            "select file_name, status, reason_code, message_en from raw.load_log"
        ).fetchall()
    return Snapshot(rows, Counter(r.split(":")[0] for r in rejected.elements()), statuses)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("variants")


_CANONICAL: dict[str, Snapshot] = {}
RESULTS: dict[str, bool] = {}


def canonical_snapshot(seed: str, workdir: Path) -> Snapshot:
    if seed not in _CANONICAL:
        paths = V.write_canonical(seed, workdir / f"canonical-{seed}" / "in")
        snap = _snapshot(workdir / f"canonical-{seed}" / "home", paths)
        assert all(s[1] == "loaded" for s in snap.statuses), snap.statuses
        _CANONICAL[seed] = snap
    return _CANONICAL[seed]


_counter = [0]


def disagreements(seed: str, names: tuple[str, ...], workdir: Path) -> list[str]:
    """Why the variant's raw rows differ from the canonical's (empty when they agree)."""
    canon = canonical_snapshot(seed, workdir)
    _counter[0] += 1
    base = workdir / f"v{_counter[0]:04d}"
    paths = V.render(V.make_doc(seed, names), base / "in")
    got = _snapshot(base / "home", paths)
    problems = [
        f"file {name}: {status} {code}: {msg}"
        for name, status, code, msg in got.statuses
        if status != "loaded"
    ]
    extra_rejects = got.rejected - canon.rejected
    if extra_rejects:
        problems.append(f"rows rejected beyond the canonical's: {dict(extra_rejects)}")
    for table in DATA_TABLES:
        want, have = canon.rows[table], got.rows[table]
        if want != have:
            missing = sorted((want - have).elements(), key=repr)[:2]
            extra = sorted((have - want).elements(), key=repr)[:2]
            problems.append(
                f"raw.{table}: {sum(want.values())} rows canonical, {sum(have.values())} "
                f"variant; missing e.g. {missing}; unexpected e.g. {extra}"
            )
    RESULTS[V.variant_id(seed, names)] = not problems
    return problems


@pytest.fixture(scope="module", autouse=True)
def agreement_report(workdir: Path) -> Iterator[None]:
    """Print (and write next to the warehouses) how many variants agree."""
    yield
    if RESULTS:
        agree = sum(RESULTS.values())
        print(f"\nlayout variants: {agree} of {len(RESULTS)} agree with their canonical workbook")
        for vid, ok in sorted(RESULTS.items()):
            print(f"  {'agree   ' if ok else 'DISAGREE'} {vid}")
        (workdir / "agreement.json").write_text(
            json.dumps(RESULTS, ensure_ascii=False, indent=1), encoding="utf-8"
        )


def _params() -> list[Any]:
    out = []
    for seed, names, cause in VARIANTS:
        marks = [pytest.mark.xfail(strict=True, reason=cause)] if cause else []
        out.append(pytest.param(seed, names, marks=marks, id=V.variant_id(seed, names)))
    return out


# --------------------------------------------------------------------------- tests
def test_every_seed_has_at_least_twelve_layouts() -> None:
    for seed in V.SEEDS:
        layouts = [names for s, names, _ in VARIANTS if s == seed and names]
        assert len(layouts) >= 12, seed
        assert len(V.applicable(seed)) >= 12, seed
    named = {(s, n) for s, names, _ in VARIANTS for n in names}
    for seed in V.SEEDS:  # the table covers every applicable transformation
        assert {t.name for t in V.applicable(seed)} <= {n for s, n in named if s == seed}, seed


@pytest.mark.parametrize(("seed", "names"), _params())
def test_variant_reads_like_its_canonical(seed: str, names: tuple[str, ...], workdir: Path) -> None:
    problems = disagreements(seed, names, workdir)
    assert not problems, "\n".join(problems)


@st.composite
def _combination(draw: st.DrawFn) -> tuple[str, tuple[str, ...]]:
    seed = draw(st.sampled_from(V.SEEDS))
    failing = known_failing(seed)
    pool = [t for t in V.applicable(seed) if frozenset({t.name}) not in failing]
    chosen = draw(
        st.lists(st.sampled_from(pool), min_size=2, max_size=5, unique_by=lambda t: t.group).filter(
            lambda ts: not any(f <= {t.name for t in ts} for f in failing)
        )
    )
    order = {t.name: i for i, t in enumerate(V.TRANSFORMATIONS)}
    return seed, tuple(sorted((t.name for t in chosen), key=order.__getitem__))


@hsettings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=_combination())
def test_combinations_of_agreeing_layouts_agree(
    case: tuple[str, tuple[str, ...]], workdir: Path
) -> None:
    """Transformations that agree on their own must agree in any combination."""
    seed, names = case
    problems = disagreements(seed, names, workdir)
    assert not problems, V.variant_id(seed, names) + "\n" + "\n".join(problems)


def test_hardest_variants_agree(workdir: Path) -> None:
    for seed, names in HARDEST.items():
        problems = disagreements(seed, names, workdir)
        assert not problems, V.variant_id(seed, names) + "\n" + "\n".join(problems)


# --------------------------------------------------------------------------- one dbt build
def test_published_figures_from_the_hardest_variants(tmp_path: Path) -> None:
    """One warehouse with the hardest agreeing variant of every document, one real dbt build:
    the documents' published figures come out as from the canonical workbooks."""
    from jixiao.warehouse.dbt import build

    home = tmp_path / "home"
    settings_ = get_settings(home).ensure()
    paths: list[Path] = []
    for seed, names in DBT_VARIANTS.items():
        paths += V.render(V.make_doc(seed, names), tmp_path / "in" / seed)
    summary = ingest_files(settings_, paths, workers=0)
    assert summary.files_quarantined == 0 and summary.rows_rejected == 0, summary.to_dict()
    build(settings_)
    with duckdb.connect(str(settings_.warehouse), read_only=True) as con:

        def q(sql: str, *params: Any) -> list[tuple[Any, ...]]:
            return con.execute(sql, list(params)).fetchall()

        # seed 002: 资金支出率 at 9044.14 / 9150 recomputes to 11.86 against a reported 12
        [(rate, reported, recomputed)] = q(
            "select rate_value, reported_score, recomputed_score_2dp "
            "from marts.fct_indicator_scores where level3_name = '资金支出率'"
        )
        assert (rate, reported, recomputed) == (
            Decimal("0.988431"),
            Decimal("12.0000"),
            Decimal("11.86"),
        )
        [(total, rep_total, grade)] = q(
            "select recomputed_score, reported_score, grade from marts.mart_project_year "
            "where project_name = '“数字政府”建设专项资金' and fiscal_year = 2023"
        )
        assert (total, rep_total, grade) == (Decimal("97.86"), Decimal("98.00"), "优")
        # seed 000: paid 50418.98 万元 in six categories; reported 97.61% vs recomputed 98.86%
        cats = dict(
            (c, (n, a, p))
            for c, n, a, p in q(
                "select category, project_count, amount_yuan, share_pct "
                "from marts.mart_category_year "
                "where parent_project_key = 'JM-SZZF' and fiscal_year is null"
            )
        )
        assert sum(a for _, a, _ in cats.values()) == Decimal("504189800.00")
        assert sum(n for n, _, _ in cats.values()) == 265
        assert [
            cats[c][2]
            for c in (
                "基础设施",
                "营商环境",
                "政务服务",
                "民生保障",
                "社会治理",
                "政府协同和部门管理",
            )
        ] == [Decimal(p) for p in ("14.34", "10.61", "6.85", "5.62", "29.31", "33.28")]
        [(message,)] = q(
            "select message_zh from marts.mart_review_flags "
            "where project_key = 'JM-SZZF' and flag_code = 'reported_rate_mismatch'"
        )
        assert "97.61%" in message and "98.86%" in message
        # seed 001: third party 77.20 中; 75 sub-projects in the published spending buckets
        [(score, dg_grade)] = q(
            "select evaluator_score, grade from marts.mart_project_year "
            "where project_key = 'DG-SZZF' and evaluator_score is not null"
        )
        assert (score, dg_grade) == (Decimal("77.20"), "中")
        level1 = q(
            "select sum(score) from marts.mart_level1_scores "
            "where project_key = 'DG-SZZF' and evaluation_type = 'third_party'"
        )
        assert level1 == [(Decimal("77.20"),)]
        buckets = dict(
            q(
                "select bucket_code, project_count from marts.mart_spending_rate_distribution "
                "where parent_project_key = 'DG-SZZF' and fiscal_year is null"
            )
        )
        assert buckets == {
            "rate_100": 0,
            "rate_90_100": 0,
            "rate_80_90": 30,
            "rate_60_80": 8,
            "rate_below_60": 35,
            "no_funds": 2,
        }
        # seed 003: 100 优
        [(yc_score, yc_grade)] = q(
            "select recomputed_score, grade from marts.mart_project_year "
            "where project_name = '电子政务外网及智慧办公平台运维工作经费'"
        )
        assert (yc_score, yc_grade) == (Decimal("100.00"), "优")
        # seed 004: three projects, reported 100 each, recomputed 98.34 / 95.84 / 99.95
        xf = q(
            "select project_key, execution_rate_pct, recomputed_score, reported_score "
            "from marts.mart_project_year where project_key like 'XF-2023-%' order by 1"
        )
        assert xf == [
            ("XF-2023-001", Decimal("83.39"), Decimal("98.34"), Decimal("100.00")),
            ("XF-2023-002", Decimal("58.37"), Decimal("95.84"), Decimal("100.00")),
            ("XF-2023-003", Decimal("99.52"), Decimal("99.95"), Decimal("100.00")),
        ]
