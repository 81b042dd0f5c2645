"""Layout: a sub-project spending table (子项目资金支出情况表), as in seed 001 (75 子项目).

Columns, found by header text in any order: 序号, 子项目名称 / 项目名称, 建设单位 / 实施单位 /
需求单位 (optional), 立项批复金额, 累计下达, 累计支出, 支出率 (optional, reported), optionally a
子项目编码. Units per amount column from its header suffix "（万元）" / "（元）", else a caption
"金额单位：万元" above the table. Above the table: a title, and labels 主管部门, 项目名称 (the
parent project), 项目编码 (optional, the parent's code), 评价期间. A 合计 row; notes under it.

How it maps onto the raw tables, and why:

* ``raw.projects``: the parent (key = 项目编码 label, else ``<主管部门>/<项目名称>``; no
  submission, so that this file never supersedes an evaluation form's rows for the parent) and
  one row per sub-project: key = its 子项目编码 when the table has one, else
  ``<parent key>/<子项目名称>``; parent_project_key = the parent's key; period from 评价期间;
  implementing_unit from 建设单位; project_level "子项目".
* ``raw.budget_lines`` (fiscal_year = the last year of the period, fund_source total):
  立项批复 -> line_type ``final``; 累计下达 -> line_type ``allocated``.
* ``raw.payments``: 累计支出 -> one row without a date, fiscal_year = the last year of the
  period, summary naming the column (a cumulative total, not one payment).

The warehouse rates sub-projects in ``int_subproject_spending_bucketed``: rate = spent /
coalesce(allocated, final), and 'no_funds' when that denominator is 0 (or there is neither a
budget nor any spending). The Dongguan demo ledger gives each sub-project only a 年初预算 line
(its 立项批复 amount) and dated payments, so there rate = paid / 立项批复. With the mapping above
the same models compute rate = 累计支出 / 累计下达, which is the table's own 支出率; a
sub-project whose 累计下达 is 0 (暂未下达资金) lands in 'no_funds'; a sub-project whose 累计下达
cell is blank falls back to 立项批复 (blank is "not stated": nothing is invented). Seed 001's
canonical table (``jixiao.samples.seed001``) writes 累计下达 = 立项批复 for every funded sub-project
and 0 for the two without funds, so both definitions give the published buckets (80-90%: 30,
60-80%: 8, below 60%: 35, no funds: 2). 立项批复 is ``final`` rather than ``initial``: it is the
approved amount, and nothing in the table speaks of adjustments.

Checks: a reported 支出率 more than 0.005 from 累计支出/累计下达 (立项批复 when the table has no
累计下达 column) is a row rejection naming the 支出率 cell; the amounts still load. The 合计 row
is not loaded; each of its amounts must equal its column's sum (exactly, in yuan), else a
rejection names that cell; every readable amount counts towards the sums, also in a row that
is rejected for another cell (the check is the table's own arithmetic), and a column with an
unreadable amount is not checked.
Reason code ``reported_mismatch`` (:data:`MISMATCH_CODE`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from jixiao.ingest import vocabulary
from jixiao.ingest.errors import CellError, FileRejected
from jixiao.ingest.layouts.common import (
    Evidence,
    Extracted,
    field_code,
    find_cells,
    find_columns,
    first_text,
    header_year,
    is_note_text,
    label_key,
    labelled_value,
    memo,
    missing_field,
    project_key,
    row_keys,
    unit_caption,
    unit_or_reject,
)
from jixiao.ingest.values import (
    compact,
    format_decimal,
    is_blank,
    normalize_text,
    parse_amount,
    parse_period,
    parse_rate,
    unit_from_label,
)
from jixiao.ingest.workbook import Sheet, cell_ref

LAYOUT = "subproject_table"
SCAN_ROWS = 40
MISMATCH_CODE = "reported_mismatch"
RATE_TOLERANCE = Decimal("0.005")

# ------------------------------------------------------------------ vocabularies
# All words come from vocabulary.yaml (section subprojects): one reviewed file.
#: header columns, in matching order (编码 before 名称: "子项目编码" also starts with 子项目)
COLUMNS: dict[str, tuple[str, ...]] = vocabulary.word_lists("subprojects", "columns")
MONEY = ("approved", "allocated", "spent")
MONEY_LABELS = {"approved": "立项批复", "allocated": "累计下达", "spent": "累计支出"}
#: columns of other layouts (payment ledgers, the 自评表 funding block): not this table
FOREIGN_COLUMNS = vocabulary.words("subprojects", "foreign_columns")
PARENT_LABELS: dict[str, tuple[str, ...]] = vocabulary.word_lists("subprojects", "parent_labels")
TITLE_WORDS = vocabulary.words("subprojects", "titles")
TOTAL_LABELS = vocabulary.words("subprojects", "total_row")
SUBTOTAL_LABELS = vocabulary.words("subprojects", "subtotal_row")
_PERIOD_IN_TEXT = re.compile(r"(\d{4})\s*年?\s*[-~—–至到]\s*(\d{4})\s*年")


# ------------------------------------------------------------------ detection
def detect(sheet: Sheet) -> Evidence | None:
    """Evidence that ``sheet`` is a sub-project spending table.

    Score: 0.2 for each kind of amount column found (立项批复, 累计下达, 累计支出; two are
    needed), 0.1 for a 子项目名称 column (a plain 项目名称 column adds nothing), 0.05 for a 支出率
    column, 0.1 for a 评价期间 label above the table, 0.05 for a title naming 子项目.
    """
    found: Evidence | None = memo(sheet, "subprojects.detect", _detect)
    return found


def _detect(sheet: Sheet) -> Evidence | None:
    header = table_header(sheet)
    if header is None:
        return None
    row, cols = header
    kinds = [k for k in MONEY if k in cols]
    score = 0.2 * len(kinds)
    reasons = [
        f"子项目资金表头（第 {row + 1} 行：{'、'.join(MONEY_LABELS[k] for k in kinds)}）/ "
        f"sub-project money header (row {row + 1}: {', '.join(kinds)})"
    ]
    if compact(sheet.rows[row][cols["name"]]).startswith("子项目"):
        score += 0.1
        reasons.append("子项目名称列 / 子项目名称 column")
    if "rate" in cols:
        score += 0.05
        reasons.append("支出率列 / 支出率 column")
    if labelled_value(sheet, PARENT_LABELS["period"], row) is not None:
        score += 0.1
        reasons.append("评价期间标签 / 评价期间 label")
    if row > 0 and find_cells(sheet, lambda t: any(w in t for w in TITLE_WORDS), row):
        score += 0.05
        reasons.append("标题 / title")
    return Evidence(LAYOUT, round(score, 4), tuple(reasons), detail={"header": header})


def table_header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    """(row, columns) of the header with a name column and two kinds of amount (表头)."""
    for r, row in enumerate(sheet.rows[:SCAN_ROWS]):
        rk = row_keys(sheet, r)
        if rk.n_text < 3:
            continue
        cols = find_columns(row, COLUMNS, rk.keys)
        if "name" not in cols or sum(1 for k in MONEY if k in cols) < 2:
            continue
        if any(
            isinstance(v, str) and k.startswith(FOREIGN_COLUMNS)
            for v, k in zip(row, rk.keys, strict=True)
        ):
            continue
        return r, cols
    return None


# ------------------------------------------------------------------ reading
def read_sheet(sheet: Sheet, file_name: str, out: Extracted, context: dict[str, Any]) -> None:
    """Read one sub-project spending table into ``out`` (读取子项目资金支出情况表)."""
    evidence = detect(sheet)
    if evidence is None:
        raise missing_field(sheet, "子项目名称/立项批复/累计下达/累计支出 表头", "table header")
    header_row, cols = evidence.detail["header"]
    units = {k: _unit(sheet, header_row, cols[k]) for k in MONEY if k in cols}
    parent = _parent(sheet, header_row, context)
    start, end = parent["period"]
    out.layouts.add(LAYOUT)
    out.add(
        "projects",
        {
            "sheet_name": sheet.name,
            "row_number": parent["row"] + 1,
            "_submission": None,
            "project_key": parent["key"],
            "project_code": parent["code"],
            "project_name": parent["name"],
            "category": None,
            "department_name": parent["department"],
            "implementing_unit": None,
            "province": None,
            "city": None,
            "county": None,
            "project_level": None,
            "period_start_year": start,
            "period_end_year": end,
            "parent_project_key": None,
        },
    )
    sums = dict.fromkeys(MONEY, Decimal(0))
    broken: set[str] = set()
    totals: list[int] = []
    header_texts = {label_key(v) for v in sheet.rows[header_row] if isinstance(v, str)}
    for r in range(header_row + 1, sheet.height):
        row = sheet.rows[r]
        lead = first_text(row)
        if not lead:
            continue
        if is_note_text(lead):
            break
        name = normalize_text(_cell(row, cols["name"]))
        if label_key(name) in header_texts or _is_caption_row(row):
            continue  # a repeated header, or a merged caption line inside the table
        if compact(lead) in TOTAL_LABELS or compact(name) in TOTAL_LABELS:
            totals.append(r)
            continue
        if compact(lead) in SUBTOTAL_LABELS or compact(name) in SUBTOTAL_LABELS:
            continue
        _row(sheet, r, cols, units, parent, out, sums, broken)
    for r in totals:
        _check_total(sheet, r, cols, units, out, sums, broken)
        _keep_total(sheet, r, cols, units, parent, out)


#: the 合计 row's columns as reported figures (raw.reported_totals.measure)
_TOTAL_MEASURES = {"approved": "approved", "allocated": "allocated", "spent": "paid"}


def _keep_total(
    sheet: Sheet,
    r: int,
    cols: dict[str, int],
    units: dict[str, str],
    parent: dict[str, Any],
    out: Extracted,
) -> None:
    """The 合计 row's amounts as the parent project's reported figures (报告的合计数).

    dbt compares 累计下达 and 累计支出 with the warehouse's allocated and spent funds of the
    parent over the period; 立项批复 is kept but not compared (approved project totals are
    not a year's budget: seed 001 approves 122,071.99 万元 against budgets of 80,692.06).
    """
    amounts, _errors = _amounts(sheet.rows[r], cols, units)
    start, end = parent["period"]
    for k, found in amounts.items():
        if found is None:
            continue
        out.add(
            "reported_totals",
            {
                "sheet_name": sheet.name,
                "row_number": r + 1,
                "_submission": None,
                "project_key": parent["key"],
                "fiscal_year": end,
                "period_start_year": start,
                "source_table": "subprojects",
                "measure": _TOTAL_MEASURES[k],
                "amount_yuan": found[0],
                "rate": None,
                "original_text": found[2],
                "original_unit": found[1],
            },
        )


def _unit(sheet: Sheet, header_row: int, col: int) -> str:
    """The amount column's unit: header suffix, a group header above, else a caption (单位).

    An unknown unit in the column's own header rejects the file; the row above only counts
    when it names a money unit (it may be a label row or a title).
    """
    text = _cell(sheet.rows[header_row], col)
    try:
        unit = unit_from_label(text) if isinstance(text, str) else None
    except CellError:
        unit = unit_or_reject(compact(text).rsplit("(", 1)[-1], sheet, header_row, col)
    if unit:
        return unit
    if header_row > 0:
        above = _cell(sheet.rows[header_row - 1], col)
        try:
            unit = unit_from_label(above) if isinstance(above, str) else None
        except CellError:
            unit = None
        if unit:
            return unit
    caption = unit_caption(sheet, header_row)
    if caption:
        return caption[0]
    header = normalize_text(sheet.rows[header_row][col])
    raise FileRejected(
        "missing_unit",
        f"工作表「{sheet.name}」金额列 {cell_ref(header_row, col)}「{header}」没有单位，"
        "表上方也没有“金额单位：万元/元”",
        f"sheet '{sheet.name}' amount column {cell_ref(header_row, col)} '{header}' has no unit "
        "and there is no '金额单位：万元/元' caption above the table",
        sheet=sheet.name,
        cell=cell_ref(header_row, col),
        expected="立项批复金额（万元）或“金额单位：万元” / a unit in the header or a caption",
    )


def _parent(sheet: Sheet, header_row: int, context: dict[str, Any]) -> dict[str, Any]:
    """The parent project from the labels above the table (上级项目)."""
    code_cell = labelled_value(sheet, PARENT_LABELS["code"], header_row)
    code = code_cell[0] if code_cell else None
    name_cell = labelled_value(sheet, PARENT_LABELS["name"], header_row)
    if name_cell is None and not (code and context.get("names", {}).get(code)):
        raise missing_field(sheet, "项目名称（上级项目）", "parent project name")
    name = name_cell[0] if name_cell else str(context["names"][code])
    dept_cell = labelled_value(sheet, PARENT_LABELS["department"], header_row)
    if dept_cell is not None:
        dept = dept_cell[0]
    elif code:
        dept = str(context.get("departments", {}).get(code) or "未登记部门")
    else:
        raise missing_field(sheet, "主管部门", "supervising department")
    period = _period(sheet, header_row, name)
    row = min(c[1] for c in (code_cell, name_cell, dept_cell) if c is not None)
    return {
        "code": code,
        "name": name,
        "department": dept,
        "key": project_key(code, dept, name),
        "period": period,
        "row": row,
    }


def _period(sheet: Sheet, header_row: int, parent_name: str) -> tuple[int, int]:
    cell = labelled_value(sheet, PARENT_LABELS["period"], header_row)
    if cell is not None:
        try:
            found = parse_period(cell[0])
        except CellError as err:
            raise FileRejected(
                field_code(err),
                f"工作表「{sheet.name}」单元格 {cell_ref(cell[1], cell[2])} 评价期间："
                f"{err.message_zh}",
                f"sheet '{sheet.name}' cell {cell_ref(cell[1], cell[2])} period: {err.message_en}",
                sheet=sheet.name,
                cell=cell_ref(cell[1], cell[2]),
                expected="评价期间，如 2019-2021年度 / a period such as 2019-2021",
            ) from err
        if found is not None:
            return found
    texts = [parent_name] + [t for _r, _c, t in find_cells(sheet, lambda t: "年" in t, header_row)]
    for text in texts:
        m = _PERIOD_IN_TEXT.search(normalize_text(text))
        if m and int(m.group(1)) <= int(m.group(2)):
            return header_year(sheet, int(m.group(1))), header_year(sheet, int(m.group(2)))
    raise missing_field(sheet, "评价期间", "period")


def _cell(row: list[Any], col: int | None) -> Any:
    return row[col] if col is not None and col < len(row) else ""


def _is_caption_row(row: list[Any]) -> bool:
    """Two or more filled cells all holding the same text: a merged caption line (说明行)."""
    filled = [normalize_text(v) for v in row if not is_blank(v)]
    return len(filled) >= 2 and len(set(filled)) == 1


def _amounts(
    row: list[Any], cols: dict[str, int], units: dict[str, str]
) -> tuple[dict[str, tuple[Decimal, str, str] | None], dict[str, CellError]]:
    """(yuan, unit used, original text) per amount column (blank -> None), and the columns
    whose cell cannot be read, each parsed on its own (CellErrors tagged with their column)."""
    found: dict[str, tuple[Decimal, str, str] | None] = {}
    errors: dict[str, CellError] = {}
    for k, unit in units.items():
        value = _cell(row, cols[k])
        try:
            parsed = parse_amount(value, unit)
        except CellError as err:
            err.col = cols[k]  # type: ignore[attr-defined]
            errors[k] = err
            continue
        if parsed and parsed[0] < 0:
            seen = normalize_text(value)
            negative = CellError(
                "negative_amount",
                "不小于 0 的金额 / an amount of 0 or more",
                f"金额「{seen}」为负数；批复、下达和支出金额不能为负，请填写实际金额",
                f"amount '{seen}' is negative; approved, allocated and spent amounts cannot be "
                "negative, type the actual amount",
            )
            negative.col = cols[k]  # type: ignore[attr-defined]
            errors[k] = negative
            continue
        found[k] = (parsed[0], parsed[1], normalize_text(value)) if parsed else None
    return found, errors


def _rate(row: list[Any], cols: dict[str, int]) -> Decimal | None:
    try:
        return parse_rate(_cell(row, cols.get("rate")))
    except CellError as err:
        err.col = cols.get("rate")  # type: ignore[attr-defined]
        raise


def _row(
    sheet: Sheet,
    r: int,
    cols: dict[str, int],
    units: dict[str, str],
    parent: dict[str, Any],
    out: Extracted,
    sums: dict[str, Decimal],
    broken: set[str],
) -> None:
    row = sheet.rows[r]
    name = normalize_text(_cell(row, cols["name"]))
    amounts, errors = _amounts(row, cols, units)
    # the 合计 check is about the table's arithmetic: every readable amount counts
    for k, found in amounts.items():
        if found is not None:
            sums[k] += found[0]
    broken.update(errors)
    try:
        if errors:
            raise next(iter(errors.values()))
        rate = _rate(row, cols) if "rate" in cols else None
        if not name:
            if all(v is None for v in amounts.values()) and rate is None:
                return  # a row with only a 序号 or a unit: nothing to load
            err = CellError(
                "missing_value",
                "子项目名称（必填）/ sub-project name (required)",
                "子项目名称为空",
                "the sub-project name is blank",
            )
            err.col = cols["name"]  # type: ignore[attr-defined]
            raise err
    except CellError as err:
        out.reject(sheet, r, getattr(err, "col", None), err)
        return
    start, end = parent["period"]
    code = normalize_text(_cell(row, cols.get("code"))) or None
    key = code or f"{parent['key']}/{name}"
    sub = out.submission(
        sheet=sheet.name,
        layout=LAYOUT,
        department=parent["department"],
        project_key=key,
        project_name=name,
        year=end,
    )
    base = {"sheet_name": sheet.name, "row_number": r + 1, "_submission": sub, "project_key": key}
    out.add(
        "projects",
        {
            **base,
            "project_code": code,
            "project_name": name,
            "category": None,
            "department_name": parent["department"],
            "implementing_unit": normalize_text(_cell(row, cols.get("unit"))) or None,
            "province": None,
            "city": None,
            "county": None,
            "project_level": "子项目",
            "period_start_year": start,
            "period_end_year": end,
            "parent_project_key": parent["key"],
        },
    )
    for k, line_type in (("approved", "final"), ("allocated", "allocated")):
        found = amounts.get(k)
        if found is None:
            continue
        out.add(
            "budget_lines",
            {
                **base,
                "fiscal_year": end,
                "line_type": line_type,
                "fund_source": "total",
                "amount_yuan": found[0],
                "original_text": found[2],
                "original_unit": found[1],
                "line_date": None,
                "reason": f"{MONEY_LABELS[k]}（{start}-{end}年）",
            },
        )
    spent = amounts.get("spent")
    if spent is not None:
        out.add(
            "payments",
            {
                **base,
                "fiscal_year": end,
                "payment_date": None,
                "amount_yuan": spent[0],
                "original_text": spent[2],
                "original_unit": spent[1],
                "fund_source": None,
                "payee": None,
                "voucher_no": None,
                "summary": f"累计支出（{start}-{end}年）",
                "category": None,
            },
        )
    _check_rate(sheet, out, r, cols, amounts, rate)


def _denominator(amounts: dict[str, tuple[Decimal, str, str] | None]) -> Decimal | None:
    base = amounts["allocated"] if "allocated" in amounts else amounts.get("approved")
    return base[0] if base is not None else None


def _check_rate(
    sheet: Sheet,
    out: Extracted,
    r: int,
    cols: dict[str, int],
    amounts: dict[str, tuple[Decimal, str, str] | None],
    reported: Decimal | None,
) -> None:
    """Reported 支出率 vs 累计支出 / 累计下达, within RATE_TOLERANCE (支出率核对)."""
    if reported is None:
        return
    spent = amounts.get("spent")
    denominator = _denominator(amounts)
    if denominator is None or spent is None:
        return
    if denominator == 0:
        if spent[0] != 0:
            return  # spending without funds: the rate cannot be recomputed
        computed = Decimal(0)
    else:
        computed = spent[0] / denominator
    if abs(reported - computed) <= RATE_TOLERANCE:
        return
    basis = "累计下达" if "allocated" in amounts else "立项批复"
    out.reject(
        sheet,
        r,
        cols["rate"],
        CellError(
            MISMATCH_CODE,
            f"支出率≈累计支出/{basis}={_pct(computed)}（误差不超过0.5个百分点）/ "
            f"spending rate ≈ spent / {basis} = {_pct(computed)} (within 0.5 points)",
            f"报告的支出率 {_pct(reported)} 与 累计支出/{basis}={_pct(computed)} 不符",
            f"reported spending rate {_pct(reported)} differs from spent / {basis} = "
            f"{_pct(computed)}",
        ),
    )


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(Decimal('0.01'))}%"


def _check_total(
    sheet: Sheet,
    r: int,
    cols: dict[str, int],
    units: dict[str, str],
    out: Extracted,
    sums: dict[str, Decimal],
    broken: set[str],
) -> None:
    """The 合计 row: each amount equals its column's sum, and its 支出率 the ratio (合计核对)."""
    row = sheet.rows[r]
    amounts, errors = _amounts(row, cols, units)
    try:
        if errors:
            raise next(iter(errors.values()))
        rate = _rate(row, cols) if "rate" in cols else None
    except CellError as err:
        out.reject(sheet, r, getattr(err, "col", None), err)
        return
    for k, found in amounts.items():
        if found is None or k in broken or found[0] == sums[k]:
            continue
        unit = units[k]
        shown = format_decimal(sums[k] / (Decimal(10000) if unit == "万元" else Decimal(1)))
        out.reject(
            sheet,
            r,
            cols[k],
            CellError(
                MISMATCH_CODE,
                f"{MONEY_LABELS[k]}合计等于各子项目之和 {shown}{unit} / "
                f"the column sum, {shown} {unit}",
                f"合计行{MONEY_LABELS[k]} {found[2]}{unit} 与各子项目之和 {shown}{unit} 不符",
                f"total {k} {found[2]} {unit} differs from the sub-projects' sum {shown} {unit}",
            ),
        )
    _check_rate(sheet, out, r, cols, amounts, rate)
