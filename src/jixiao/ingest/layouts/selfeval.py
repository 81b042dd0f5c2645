"""Layout A: 项目支出绩效自评表 (MoF 财预〔2020〕10号 annex), one project per sheet.

Everything is found by its label: title and "（2023年度）", 项目名称, 主管部门, 实施单位, the
funding block "项目资金（万元）", the indicator table and the 总分 row.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from jixiao.ingest import vocabulary
from jixiao.ingest.errors import CellError, FileRejected
from jixiao.ingest.layouts.common import (
    Evidence,
    Extracted,
    cells_starting_with,
    closest_hint,
    find_cells,
    find_columns,
    first_text,
    header_year,
    is_note_text,
    labelled_value,
    memo,
    missing_field,
    project_key,
    row_keys,
    unit_caption,
    unit_in_name,
    unit_or_reject,
    value_right_of,
)
from jixiao.ingest.values import (
    compact,
    is_blank,
    normalize_text,
    parse_amount,
    parse_measure,
    parse_rate,
    parse_score,
    parse_weight,
    parse_year,
    unit_from_label,
)
from jixiao.ingest.workbook import Sheet, cell_ref

FORM_SCAN_ROWS = 80  # form header blocks and table headers sit near the top
LAYOUT = "selfeval_form"
SCHEME = "mof_2020_selfeval"
TITLES = vocabulary.terms("selfeval", "titles")
FUNDING_COLUMNS = vocabulary.columns("selfeval", "funding_columns")
FUNDING_ROWS = tuple(
    (term, source)
    for source, words in vocabulary.columns("selfeval", "funding_rows").items()
    for term in words
)
INDICATOR_COLUMNS = vocabulary.columns("selfeval", "indicator_columns")
_TOTAL_ROW = vocabulary.terms("selfeval", "total_row")


def detect(sheet: Sheet) -> Evidence | None:
    """Evidence for a 自评表: the indicator table's header, the funding block, labels, title.

    The indicator header (一级/三级指标 with 年度指标值 or 分值) gives 0.3, plus 0.1 with a
    实际完成值 column; the funding block "项目资金" with its 全年预算数/全年执行数 columns 0.3
    (the anchor alone 0.1); the 项目名称 and 主管部门 labels 0.05 each; the title 0.05.
    """
    score, reasons = 0.0, []
    header = _indicator_header(sheet)
    if header is not None:
        score += 0.3 + (0.1 if "actual" in header[1] else 0.0)
        reasons.append(f"indicator header row {header[0] + 1}: " + ", ".join(header[1]))
    funding = _funding_header(sheet)
    if funding is not None:
        r, cols = funding
        strong = {"final", "executed"} & cols.keys()
        score += 0.3 if strong else 0.1
        reasons.append(f"funding block row {r + 1}: " + (", ".join(cols) or "anchor only"))
    for field, label in (("project_name", "项目名称"), ("department", "主管部门")):
        if labelled_value(sheet, vocabulary.entry("labels", field), FORM_SCAN_ROWS):
            score += 0.05
            reasons.append(f"label {label}")
    if find_cells(sheet, lambda t: any(x in t for x in TITLES), 8):
        score += 0.05
        reasons.append("title 绩效自评表")
    if score == 0:
        return None
    return Evidence(LAYOUT, score, tuple(reasons), header)


def read_sheet(
    sheet: Sheet, file_name: str, out: Extracted, context: dict[str, Any] | None = None
) -> None:
    """Read one form sheet into ``out`` (读取一张自评表)."""
    name = labelled_value(sheet, vocabulary.entry("labels", "project_name"))
    dept = labelled_value(sheet, vocabulary.entry("labels", "department"))
    if name is None:
        raise missing_field(sheet, "项目名称", "project name")
    if dept is None:
        raise missing_field(sheet, "主管部门", "supervising department")
    _require_actual_column(sheet)
    year = _year(sheet)
    code = labelled_value(sheet, vocabulary.entry("labels", "project_code"))
    key = project_key(code[0] if code else None, dept[0], name[0])
    sub = out.submission(
        sheet=sheet.name,
        layout=LAYOUT,
        department=dept[0],
        project_key=key,
        project_name=name[0],
        year=year,
    )
    out.layouts.add(LAYOUT)
    region = labelled_value(sheet, vocabulary.entry("labels", "region"))
    parts = [p.strip() for p in re.split(r"[/、\-]", region[0])] if region else []
    parts += [""] * (3 - len(parts))
    impl = labelled_value(sheet, vocabulary.entry("labels", "implementing_unit"))
    if impl is not None and dept is not None and impl[1:] == dept[1:]:
        impl = None  # the department's own label (项目单位 / 需求单位 serving as both)
    category = labelled_value(sheet, vocabulary.entry("labels", "category"))
    base = {"sheet_name": sheet.name, "_submission": sub, "project_key": key}
    out.add(
        "projects",
        {
            **base,
            "row_number": name[1] + 1,
            "project_code": code[0] if code else None,
            "project_name": name[0],
            "category": category[0] if category else None,
            "department_name": dept[0],
            "implementing_unit": impl[0] if impl else None,
            "province": parts[0] or None,
            "city": parts[1] or None,
            "county": parts[2] or None,
            "project_level": None,
            "period_start_year": year,
            "period_end_year": year,
            "parent_project_key": None,
        },
    )
    _funding(sheet, out, base, year)
    _goals(sheet, out, base, year)
    _indicators(sheet, out, base, year)


def _goals(sheet: Sheet, out: Extracted, base: dict[str, Any], year: int) -> None:
    """年度总体目标: 预期目标 and 实际完成情况 (free text) -> raw.project_goals.

    The two sub-labels sit on one row with their texts below them (the MoF layout), or each
    has its text to its right. Without sub-labels, the text right of 年度总体目标 is the
    expected goal. A form without the block simply has no goal row.
    """
    header = _indicator_header(sheet)
    limit = header[0] if header else FORM_SCAN_ROWS
    goal_anchor = vocabulary.terms("selfeval", "goal_anchor")
    anchor = cells_starting_with(sheet, goal_anchor, limit)
    if not anchor:
        return
    r0, c0, _t = anchor[0]
    texts: dict[str, tuple[str, int]] = {}
    for key, labels in (
        ("expected", vocabulary.terms("selfeval", "goal_expected")),
        ("actual", vocabulary.terms("selfeval", "goal_actual")),
    ):
        cells = find_cells(sheet, partial(_starts_with, prefixes=labels), limit)
        hit = [h for h in cells if h[0] >= r0]
        if hit:
            found = _text_near(sheet, hit[0][0], hit[0][1])
            if found:
                texts[key] = found
    if not texts:
        right = value_right_of(sheet, r0, c0)
        if right is None:
            return
        texts["expected"] = (normalize_text(right[0]), r0)
    out.add(
        "project_goals",
        {
            **base,
            "row_number": min(r for _t, r in texts.values()) + 1,
            "fiscal_year": year,
            "expected_goal": texts["expected"][0] if "expected" in texts else None,
            "actual_outcome": texts["actual"][0] if "actual" in texts else None,
        },
    )


def _text_near(sheet: Sheet, r: int, c: int) -> tuple[str, int] | None:
    """Text under a sub-label (merged fill repeats it, so skip equal cells), else to its right."""
    label = sheet.get(r, c)
    below = sheet.get(r + 1, c)
    if not is_blank(below) and below != label and not _is_label(below):
        return normalize_text(below), r + 1
    right = value_right_of(sheet, r, c)
    if right is not None and not _is_label(right[0]):
        return normalize_text(right[0]), r
    return None


def _is_label(value: Any) -> bool:
    t = compact(value)
    return t.startswith(("预期目标", "实际完成情况", "一级指标", "年度总体目标"))


def _year(sheet: Sheet) -> int:
    for r, c, t in find_cells(sheet, lambda t: bool(re.search(r"\(?\d{4}年度?\)?", t)), 8):
        m = re.search(r"(\d{4})年度", t) or re.fullmatch(r"\(?(\d{4})年\)?", t)
        if m:
            return header_year(sheet, int(m.group(1)), r, c)
    found = labelled_value(sheet, ["评价年度", "年度"], 12)
    if found:
        try:
            year = parse_year(found[0])
        except CellError as err:
            if err.reason_code == "date_out_of_range":
                header_year(sheet, int(re.sub(r"\D", "", found[0])[:4]), found[1], found[2])
            year = None
        if year:
            return year
    raise missing_field(sheet, "（YYYY年度）", "fiscal year")


def _funding_header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    """(header row, columns) of the funding block "项目资金（万元）", or None."""
    if "selfeval.funding" in sheet.cache:
        return sheet.cache["selfeval.funding"]
    anchors = vocabulary.terms("selfeval", "funding_anchor")
    hits = cells_starting_with(sheet, anchors, FORM_SCAN_ROWS)
    found = None
    if hits:
        r0 = hits[0][0]
        found = (r0, find_columns(sheet.rows[r0], FUNDING_COLUMNS))
        if "final" not in found[1] and r0 + 1 < sheet.height:
            below = find_columns(sheet.rows[r0 + 1], FUNDING_COLUMNS)
            if "final" in below:
                found = (r0 + 1, below)
    sheet.cache["selfeval.funding"] = found
    return found


def _funding(sheet: Sheet, out: Extracted, base: dict[str, Any], year: int) -> None:
    anchors = vocabulary.terms("selfeval", "funding_anchor")
    hits = cells_starting_with(sheet, anchors, FORM_SCAN_ROWS)
    found = _funding_header(sheet)
    if not hits or found is None:
        return
    r0, c0, label = hits[0]
    try:
        unit = unit_from_label(label)
    except CellError:
        unit = unit_or_reject(label, sheet, r0, c0)
    unit_at = cell_ref(r0, c0)
    if unit is None:
        caption = unit_caption(sheet, r0 + 1)
        unit = caption[0] if caption else "万元"  # the MoF form prints 项目资金（万元）
        unit_at = cell_ref(caption[1], caption[2]) if caption else unit_at
    out.unit_cells[sheet.name] = unit_at
    header_row, cols = found
    if not {"initial", "final", "allocated", "executed"} & cols.keys():
        raise _unknown_funding_header(sheet, header_row)
    first_col = min(cols.values(), default=0)
    stop = (*vocabulary.terms("selfeval", "goal_anchor"), "一级指标")
    for r in range(header_row + 1, min(header_row + 8, sheet.height)):
        row = sheet.rows[r]
        labels = "".join(compact(v) for v in row[:first_col] if isinstance(v, str))
        if any(x in labels for x in stop):
            break
        source = next((s for k, s in FUNDING_ROWS if k in labels), None)
        if source is None:
            continue
        try:
            amounts = {
                f: _amount(row, cols.get(f), unit)
                for f in ("initial", "final", "allocated", "executed")
            }
            out.add(
                "funding_reported",
                {
                    **base,
                    "row_number": r + 1,
                    "fiscal_year": year,
                    "fund_source": source,
                    "initial_budget_yuan": amounts["initial"],
                    "final_budget_yuan": amounts["final"],
                    "allocated_yuan": amounts["allocated"],
                    "executed_yuan": amounts["executed"],
                    "original_unit": unit,
                    "weight": _num(row, cols.get("weight"), parse_weight),
                    "reported_rate": _num(row, cols.get("rate"), parse_rate),
                    "reported_score": _num(row, cols.get("score"), parse_score),
                },
            )
        except CellError as err:
            out.reject(sheet, r, getattr(err, "col", None), err)


def _unknown_funding_header(sheet: Sheet, r: int) -> FileRejected:
    """The funding block's columns are not recognised: name them and the closest known terms."""
    known = tuple(t for f in ("initial", "final", "executed") for t in FUNDING_COLUMNS[f])
    seen = [compact(v) for v in sheet.rows[r] if isinstance(v, str) and compact(v)]
    guesses = [f"{h}→{g}" for h in seen if (g := vocabulary.closest(h, known))]
    hint = f"（最接近的已知列名：{'、'.join(guesses)}）" if guesses else ""
    hint_en = f" (closest known: {', '.join(guesses)})" if guesses else ""
    return FileRejected(
        "missing_required_columns",
        f"工作表「{sheet.name}」第 {r + 1} 行的项目资金表头（{'、'.join(seen)}）中没有可识别的"
        f"预算或执行列{hint}",
        f"sheet '{sheet.name}' row {r + 1}: the funding block's header ({', '.join(seen)}) has "
        f"no recognised budget or execution column{hint_en}",
        sheet=sheet.name,
        cell=f"{r + 1}:{r + 1}",
        expected="年初预算数、全年预算数、全年执行数 等列名（见 docs/input-formats.md）/ budget "
        "and execution columns such as 年初预算数, 全年预算数, 全年执行数",
    )


def _cell(row: list[Any], col: int | None) -> Any:
    return row[col] if col is not None and col < len(row) else ""


def _amount(row: list[Any], col: int | None, unit: str) -> Any:
    try:
        parsed = parse_amount(_cell(row, col), unit)
    except CellError as err:
        err.col = col  # type: ignore[attr-defined]
        raise
    if parsed and parsed[0] < 0:
        seen = normalize_text(_cell(row, col))
        negative = CellError(
            "negative_amount",
            "不小于 0 的金额 / an amount of 0 or more",
            f"项目资金金额「{seen}」为负数；预算数、执行数不能为负，请填写实际金额（调减后的数）",
            f"funding amount '{seen}' is negative; budget and execution figures cannot be "
            "negative, type the actual amount (after any reduction)",
        )
        negative.col = col  # type: ignore[attr-defined]
        raise negative
    return parsed[0] if parsed else None


def _num(row: list[Any], col: int | None, fn: Any) -> Any:
    try:
        return fn(_cell(row, col))
    except CellError as err:
        err.col = col  # type: ignore[attr-defined]
        raise


def _indicator_header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    found: tuple[int, dict[str, int]] | None = memo(
        sheet, "selfeval.indicators", _find_indicator_header
    )
    return found


def _find_indicator_header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    for r, row in enumerate(sheet.rows[:FORM_SCAN_ROWS]):
        keys = row_keys(sheet, r).keys
        if not any(k.startswith("一级指标") for k in keys):
            continue  # cheap pre-filter: the header row names 一级指标
        cols = find_columns(row, INDICATOR_COLUMNS, keys)
        if {"level1", "level3"} <= cols.keys() and ({"target", "weight"} & cols.keys()):
            return r, cols
    return None


def _require_actual_column(sheet: Sheet) -> None:
    """An indicator table must say what was achieved: no 实际完成值 column rejects the file.

    The recomputed score needs the actual of every quantitative indicator; a table with only
    the reported 得分 would publish the department's own score as if it had been checked.
    """
    found = _indicator_header(sheet)
    if found is None or "actual" in found[1]:
        return
    r, cols = found
    hint_zh, hint_en = closest_hint(sheet.rows[r], INDICATOR_COLUMNS["actual"], cols.values())
    raise FileRejected(
        "missing_required_columns",
        f"工作表「{sheet.name}」第 {r + 1} 行的绩效指标表缺少「实际完成值」列，无法复核得分"
        f"{hint_zh}",
        f"sheet '{sheet.name}' row {r + 1}: the indicator table has no '实际完成值' (actual) "
        f"column, so its scores cannot be recomputed{hint_en}",
        sheet=sheet.name,
        cell=f"{r + 1}:{r + 1}",
        expected="绩效指标表含「实际完成值」列（填写每个指标的实际完成情况）/ an indicator "
        "table with an '实际完成值' column giving each indicator's actual",
    )


def _indicators(sheet: Sheet, out: Extracted, base: dict[str, Any], year: int) -> None:
    found = _indicator_header(sheet)
    if found is None:
        raise missing_field(sheet, "一级指标/三级指标 表头", "indicator table header")
    header, cols = found
    for r in range(header + 1, sheet.height):
        row = sheet.rows[r]
        lead = first_text(row)
        if not lead:
            continue
        if is_note_text(lead):
            break
        if lead.startswith(_TOTAL_ROW):
            _total(sheet, out, base, year, r, cols)
            break
        l3 = normalize_text(_cell(row, cols["level3"]))
        if l3 in ("", "三级指标") or compact(_cell(row, cols["level1"])) == "一级指标":
            if l3 == "" and any(
                not is_blank(_cell(row, cols.get(f))) for f in ("target", "actual", "score")
            ):
                out.reject(
                    sheet,
                    r,
                    cols["level3"],
                    CellError(
                        "missing_value",
                        "三级指标名称 / a third-level indicator name",
                        "三级指标名称为空",
                        "the third-level indicator name is blank",
                    ),
                )
            continue
        try:
            out.add("indicators", _indicator_row(row, r, cols, base, year, l3))
        except CellError as err:
            out.reject(sheet, r, getattr(err, "col", None), err)


def _indicator_row(
    row: list[Any], r: int, cols: dict[str, int], base: dict[str, Any], year: int, l3: str
) -> dict[str, Any]:
    target = parse_measure(_cell(row, cols.get("target")))
    actual = parse_measure(_cell(row, cols.get("actual")))
    name_unit = unit_in_name(l3)
    return {
        **base,
        "row_number": r + 1,
        "fiscal_year": year,
        "scheme_code": SCHEME,
        "level1_name": normalize_text(_cell(row, cols["level1"])) or l3,
        "level1_weight": None,
        "level2_name": normalize_text(_cell(row, cols.get("level2"))) or None,
        "level2_weight": None,
        "level3_name": l3,
        "weight": _num(row, cols.get("weight"), parse_weight),
        "weight_rule_text": None,
        "target_text": target.text if target else None,
        "target_kind": target.kind if target else None,
        "target_direction": target.direction if target else None,
        "target_value": target.value if target else None,
        "target_unit": (target.unit or name_unit) if target else None,
        "actual_text": actual.text if actual else None,
        "actual_kind": actual.kind if actual else None,
        "actual_value": actual.value if actual else None,
        "actual_unit": (actual.unit or name_unit) if actual else None,
        "reported_score": _num(row, cols.get("score"), parse_score),
        "deviation_reason": normalize_text(_cell(row, cols.get("reason"))) or None,
        "scoring_rule_text": None,
    }


def _total(
    sheet: Sheet, out: Extracted, base: dict[str, Any], year: int, r: int, cols: dict[str, int]
) -> None:
    row = sheet.rows[r]
    try:
        out.add(
            "evaluations",
            {
                **base,
                "row_number": r + 1,
                "fiscal_year": year,
                "period_start_year": year,
                "evaluation_type": "self",
                "evaluator": None,
                "scheme_code": SCHEME,
                "level1_name": None,
                "max_score": _num(row, cols.get("weight"), parse_score),
                "score": _num(row, cols.get("score"), parse_score),
                "grade": None,
                "reported_rate": None,
            },
        )
    except CellError as err:
        out.reject(sheet, r, getattr(err, "col", None), err)


def _starts_with(text: str, prefixes: tuple[str, ...]) -> bool:
    return text.startswith(prefixes)
