"""Layout B: the provincial 指标评分表 (as in seed 002), one project per sheet.

Header block "填报单位名称：X 金额单位：万元" (one cell or two), 项目名称, 评价年度, 项目级次,
预算计划安排, 实际分配下达 (市本级 X / 转移支付至下级 Y), 实际支出金额 (same split); then a two-row
header 一级指标 | 二级指标 | 三级指标 over 名称 | 权重(%), 评价年度预期值, 评价年度实现值, 自评分数,
未达标原因分析, 评分标准, 参考佐证材料; merged group cells; a 合计 row.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import partial
from typing import Any

from jixiao.ingest import vocabulary
from jixiao.ingest.errors import CellError, FileRejected
from jixiao.ingest.layouts.common import (
    Evidence,
    Extracted,
    cells_starting_with,
    closest_hint,
    field_code,
    find_cells,
    first_text,
    is_note_text,
    label_key,
    labelled_value,
    memo,
    merged_span,
    missing_field,
    project_key,
    row_keys,
    unit_caption,
    unit_in_name,
    value_right_of,
)
from jixiao.ingest.values import (
    compact,
    is_blank,
    normalize_text,
    parse_amount,
    parse_measure,
    parse_score,
    parse_weight,
    parse_year,
)
from jixiao.ingest.workbook import Sheet, cell_ref

FORM_SCAN_ROWS = 80  # form header blocks and table headers sit near the top
LAYOUT = "scoring_table"
SCHEME = "gd_scoring_table"
_RULE_RE = re.compile(r"=\s*(\d+(?:\.\d+)?)\s*/\s*指标总数")
_TAIL = vocabulary.columns("scoring", "tail_columns")
_TITLES = vocabulary.terms("scoring", "titles")
_HEADER_LABELS = vocabulary.terms("scoring", "header_labels")
_TOTAL_ROW = vocabulary.terms("scoring", "total_row")


def detect(sheet: Sheet) -> Evidence | None:
    """Evidence for a 指标评分表: its indicator header, header-block labels and title.

    The header (一级/三级指标 with 预期值 or 自评分数) gives 0.4, plus 0.1 when its second row
    splits the levels into 名称/权重 and 0.1 with 预期值, 实现值 and 自评分数 all present; each
    header-block label (填报单位, 金额单位, 预算计划安排, 实际分配下达 ...) 0.04, at most 0.2;
    the title 0.05.
    """
    score, reasons = 0.0, []
    found = _table_header(sheet)
    if found is not None:
        header_end, cols = found
        score += 0.4
        if {"l1_weight", "l3_weight"} & cols.keys() or "l2_weight" in cols:
            score += 0.1
        if {"target", "actual", "score"} <= cols.keys():
            score += 0.1
        reasons.append(f"scoring header to row {header_end + 1}: " + ", ".join(cols))
    limit = found[0] if found else FORM_SCAN_ROWS
    labels = {
        k
        for _r, _c, t in cells_starting_with(sheet, _HEADER_LABELS, limit)
        for k in _HEADER_LABELS
        if label_key(t).startswith(k)
    }
    if labels:
        score += min(0.04 * len(labels), 0.2)
        reasons.append("labels " + "/".join(sorted(labels)))
    if find_cells(sheet, lambda t: any(x in t for x in _TITLES), 8):
        score += 0.05
        reasons.append("title 指标评分表")
    if score == 0:
        return None
    return Evidence(LAYOUT, score, tuple(reasons), found)


def _table_header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    found: tuple[int, dict[str, int]] | None = memo(sheet, "scoring.header", _find_table_header)
    return found


def _find_table_header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    for r, _row in enumerate(sheet.rows[:FORM_SCAN_ROWS]):
        keys = row_keys(sheet, r).keys
        joined = "".join(keys)
        if "一级指标" not in joined or "三级指标" not in joined:
            continue
        below = row_keys(sheet, r + 1).keys if r + 1 < sheet.height else []
        combined = []
        for c, k in enumerate(keys):
            k2 = below[c] if c < len(below) else ""
            combined.append(k + ("|" + k2 if k2 and k2 != k else ""))
        cols = _columns(combined)
        if {"l1_name", "l3_name"} <= cols.keys() and ({"target", "score"} & cols.keys()):
            return r + 1 if any("权重" in x for x in combined if "|" in x) else r, cols
    return None


def _header_texts(sheet: Sheet, header_end: int) -> list[Any]:
    """The header's label per column: the last header row, else the row above it (二行表头)."""
    row = list(sheet.rows[header_end])
    above = sheet.rows[header_end - 1] if header_end > 0 else []
    for c, v in enumerate(above):
        if c >= len(row):
            row.append(v)
        elif is_blank(row[c]):
            row[c] = v
    return row


def _columns(combined: list[str]) -> dict[str, int]:
    cols: dict[str, int] = {}
    for c, text in enumerate(combined):
        for level, tag in (("一级指标", "l1"), ("二级指标", "l2"), ("三级指标", "l3")):
            if text.startswith(level):
                kind = "weight" if "权重" in text else "name"
                cols.setdefault(f"{tag}_{kind}", c)
        for field_name, prefixes in _TAIL.items():
            if any(text.startswith(p) for p in prefixes):
                cols.setdefault(field_name, c)
    return cols


def read_sheet(
    sheet: Sheet, file_name: str, out: Extracted, context: dict[str, Any] | None = None
) -> None:
    """Read one scoring-table sheet into ``out`` (读取一张指标评分表)."""
    found = _table_header(sheet)
    if found is None:
        raise missing_field(sheet, "一级指标/三级指标 表头", "indicator table header")
    header_end, cols = found
    if "actual" not in cols:
        hint_zh, hint_en = closest_hint(
            _header_texts(sheet, header_end), _TAIL["actual"], cols.values()
        )
        raise FileRejected(
            "missing_required_columns",
            f"工作表「{sheet.name}」第 {header_end + 1} 行的指标表缺少「评价年度实现值」列，"
            f"无法复核得分{hint_zh}",
            f"sheet '{sheet.name}' row {header_end + 1}: the indicator table has no "
            f"'评价年度实现值' (actual) column, so its scores cannot be recomputed{hint_en}",
            sheet=sheet.name,
            cell=f"{header_end + 1}:{header_end + 1}",
            expected="指标表含「评价年度实现值」列 / an indicator table with an actual column",
        )
    dept = _department(sheet)
    name = labelled_value(sheet, vocabulary.entry("labels", "project_name"), header_end)
    if name is None:
        raise missing_field(sheet, "项目名称", "project name")
    year_cell = labelled_value(sheet, vocabulary.entry("labels", "fiscal_year"), header_end)
    year = _parse_year_or_reject(sheet, year_cell)
    caption = unit_caption(sheet, header_end)
    if caption is None and not _money_names_units(sheet, header_end):
        raise FileRejected(
            "missing_unit",
            f"工作表「{sheet.name}」表头缺少“金额单位：万元/元”",
            f"sheet '{sheet.name}' has no '金额单位：万元/元' caption in its header block",
            sheet=sheet.name,
            expected="金额单位：万元 或 元 / a money unit caption",
        )
    unit = caption[0] if caption else None  # None: every amount says 万元/元 itself
    key = project_key(None, dept, name[0])
    sub = out.submission(
        sheet=sheet.name,
        layout=LAYOUT,
        department=dept,
        project_key=key,
        project_name=name[0],
        year=year,
    )
    out.layouts.add(LAYOUT)
    base = {"sheet_name": sheet.name, "_submission": sub, "project_key": key}
    level = labelled_value(sheet, ["项目级次"], header_end)
    out.add(
        "projects",
        {
            **base,
            "row_number": name[1] + 1,
            "project_code": None,
            "project_name": name[0],
            "category": None,
            "department_name": dept,
            "implementing_unit": None,
            "province": None,
            "city": None,
            "county": None,
            "project_level": level[0] if level else None,
            "period_start_year": year,
            "period_end_year": year,
            "parent_project_key": None,
        },
    )
    _money(sheet, out, base, year, unit, header_end)
    _rows(sheet, out, base, year, header_end, cols)


def _department(sheet: Sheet) -> str:
    for r, c, t in find_cells(sheet, lambda t: "填报单位" in t, FORM_SCAN_ROWS):
        m = re.search(r"填报单位(?:名称)?[:：]?(.*?)(?:金额单位.*)?$", t)
        if m and m.group(1):
            return m.group(1)
        found = value_right_of(sheet, r, c)
        if found and "金额单位" not in compact(found[0]):
            return normalize_text(found[0])
    other = labelled_value(sheet, vocabulary.entry("scoring", "department"), FORM_SCAN_ROWS)
    if other is not None:
        return other[0]
    raise missing_field(sheet, "填报单位名称", "reporting unit")


def _parse_year_or_reject(sheet: Sheet, cell: tuple[str, int, int] | None) -> int:
    if cell is None:
        raise missing_field(sheet, "评价年度", "evaluation year")
    try:
        year = parse_year(cell[0])
    except CellError as err:
        raise FileRejected(
            field_code(err),
            f"工作表「{sheet.name}」单元格 {cell_ref(cell[1], cell[2])} 评价年度：{err.message_zh}",
            f"sheet '{sheet.name}' cell {cell_ref(cell[1], cell[2])} evaluation year: "
            f"{err.message_en}",
            sheet=sheet.name,
            cell=cell_ref(cell[1], cell[2]),
            expected=err.expected,
        ) from err
    assert year is not None
    return year


#: line kind -> the parts a row may split into (本级 / 转移支付至下级) and their line types
_MONEY_PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "final": (),
    "allocated": (("本级", "allocated"), ("转移支付", "transfer_down")),
    "executed": (("本级", "executed"), ("转移支付", "executed")),
}
_AMOUNT = r"[\d,]+(?:\.\d+)?(?:万元|元)?"


def _money_names_units(sheet: Sheet, header_end: int) -> bool:
    """True when the header block's amounts carry their unit ("9150万元") (金额自带单位)."""
    seen = False
    for kind in _MONEY_PARTS:
        found = _money_label(sheet, kind, header_end)
        if found is None:
            continue
        text = "".join(normalize_text(v) for v in sheet.rows[found[0]][found[1] + 1 :])
        numbers = re.findall(r"\d[\d,.]*(万元|元)?", text.replace(" ", ""))
        if any(not u for u in numbers):
            return False
        seen = seen or bool(numbers)
    return seen


def _money_label(sheet: Sheet, kind: str, header_end: int) -> tuple[int, int] | None:
    """(row, col) of the header-block label for ``kind``, by the vocabulary's priority."""
    for label in vocabulary.terms("scoring", "money_rows", kind):
        hits = find_cells(sheet, partial(_is_label, label=label), header_end)
        if hits:
            return hits[0][0], hits[0][1]
    return None


def _money(
    sheet: Sheet, out: Extracted, base: dict[str, Any], year: int, unit: str | None, header_end: int
) -> None:
    """Budget, allocation and spending lines of the header block (资金情况).

    A row may give one amount ("预算计划安排 9150") or split it into 本级 and 转移支付至下级
    ("市本级 9150 转移支付至下级 /"); an amount may carry its unit ("9150万元").
    """
    for kind, parts in _MONEY_PARTS.items():
        found = _money_label(sheet, kind, header_end)
        if found is None:
            continue
        r, c = found
        label = label_key(sheet.get(r, c))
        texts: list[str] = []
        for v in sheet.rows[r][c + 1 :]:
            t = normalize_text(v)
            if label_key(t) == label:  # the label's own merged cells repeat its text
                continue
            if t and (not texts or texts[-1] != t):
                texts.append(t)
        joined = " ".join(texts)
        flat = joined.replace(" ", "")
        split = [(tag, lt) for tag, lt in parts if tag in flat]
        wanted = split or [("", kind)]
        for tag, line_type in wanted:
            m = re.search(rf"{tag}[^\d/]*?({_AMOUNT}|/)" if tag else rf"^[^\d/]*?({_AMOUNT})", flat)
            if not m or m.group(1) == "/":
                continue
            try:
                parsed = parse_amount(m.group(1), unit)
            except CellError as err:
                out.reject(sheet, r, c + 1, err)
                continue
            assert parsed is not None
            out.add(
                "budget_lines",
                {
                    **base,
                    "row_number": r + 1,
                    "fiscal_year": year,
                    "line_type": line_type,
                    "fund_source": "total",
                    "amount_yuan": parsed[0],
                    "original_text": joined,
                    "original_unit": parsed[1],
                    "line_date": None,
                    "reason": {"本级": "本级", "转移支付": "转移支付至下级"}.get(tag)
                    if tag
                    else None,
                },
            )


def _rows(
    sheet: Sheet,
    out: Extracted,
    base: dict[str, Any],
    year: int,
    header_end: int,
    cols: dict[str, int],
) -> None:
    seen_group_scores: set[tuple[int, int]] = set()
    for r in range(header_end + 1, sheet.height):
        row = sheet.rows[r]
        lead = first_text(row)
        if not lead:
            continue
        if is_note_text(lead) or re.match(r"^[一二三四五六七八九十]+、", lead):
            break
        if lead.startswith(_TOTAL_ROW):
            _total(sheet, out, base, year, r, cols)
            break
        l3 = normalize_text(_get(row, cols.get("l3_name")))
        if not l3:
            continue
        try:
            out.add("indicators", _indicator(sheet, row, r, cols, base, year, l3))
            _group_score(sheet, out, base, year, r, cols, seen_group_scores)
        except CellError as err:
            out.reject(sheet, r, getattr(err, "col", None), err)


def _get(row: list[Any], col: int | None) -> Any:
    return row[col] if col is not None and col < len(row) else ""


def _weight(row: list[Any], col: int | None) -> tuple[Decimal | None, str | None]:
    """A weight cell: a number, or the rule "各项指标权重=40/指标总数" (its total, its text)."""
    v = _get(row, col)
    if is_blank(v):
        return None, None
    text = normalize_text(v)
    m = _RULE_RE.search(text.replace(" ", ""))
    if m:
        return Decimal(m.group(1)), text.replace(" ", "")
    try:
        return parse_weight(v), None
    except CellError as err:
        err.col = col  # type: ignore[attr-defined]
        raise


def _is_group_cell(sheet: Sheet, r: int, col: int | None) -> bool:
    """True when (r, col) sits in a merged range spanning several rows (a group value)."""
    span = merged_span(sheet, r, col) if col is not None else None
    return span is not None and span[0][0] != span[1][0]


def _indicator(
    sheet: Sheet,
    row: list[Any],
    r: int,
    cols: dict[str, int],
    base: dict[str, Any],
    year: int,
    l3: str,
) -> dict[str, Any]:
    l1w, l1_rule = _weight(row, cols.get("l1_weight"))
    l2w, l2_rule = _weight(row, cols.get("l2_weight"))
    own, own_rule = _weight(row, cols.get("l3_weight"))
    if own_rule or _is_group_cell(sheet, r, cols.get("l3_weight")):
        own = None
    if l2_rule and l2w is not None and l2w == l1w:
        # "各项指标权重=40/指标总数" in the 二级 column names the 一级 pool (40 = the 一级 weight),
        # shared by all of the 一级 group's indicators, not a weight of this 二级 group
        l2w = None
    score_col = cols.get("score")
    score = None
    if not _is_group_cell(sheet, r, score_col):
        try:
            score = parse_score(_get(row, score_col))
        except CellError as err:
            err.col = score_col  # type: ignore[attr-defined]
            raise
    target = parse_measure(_get(row, cols.get("target")))
    actual = parse_measure(_get(row, cols.get("actual")))
    name_unit = unit_in_name(l3)
    return {
        **base,
        "row_number": r + 1,
        "fiscal_year": year,
        "scheme_code": SCHEME,
        "level1_name": normalize_text(_get(row, cols.get("l1_name"))) or l3,
        "level1_weight": l1w,
        "level2_name": normalize_text(_get(row, cols.get("l2_name"))) or None,
        "level2_weight": l2w,
        "level3_name": l3,
        "weight": own,
        "weight_rule_text": own_rule or l2_rule or l1_rule,
        "target_text": target.text if target else None,
        "target_kind": target.kind if target else None,
        "target_direction": target.direction if target else None,
        "target_value": target.value if target else None,
        "target_unit": (target.unit or name_unit) if target else None,
        "actual_text": actual.text if actual else None,
        "actual_kind": actual.kind if actual else None,
        "actual_value": actual.value if actual else None,
        "actual_unit": (actual.unit or name_unit) if actual else None,
        "reported_score": score,
        "deviation_reason": normalize_text(_get(row, cols.get("reason"))) or None,
        "scoring_rule_text": normalize_text(_get(row, cols.get("rule"))) or None,
    }


def _group_score(
    sheet: Sheet,
    out: Extracted,
    base: dict[str, Any],
    year: int,
    r: int,
    cols: dict[str, int],
    seen: set[tuple[int, int]],
) -> None:
    """A 自评分数 merged over a group is one score for that first-level group (组得分)."""
    col = cols.get("score")
    span = merged_span(sheet, r, col) if col is not None else None
    if span is None or span[0][0] == span[1][0] or span[0] in seen:
        return
    seen.add(span[0])
    row = sheet.rows[r]
    weight, _rule = _weight(row, cols.get("l1_weight"))
    out.add(
        "evaluations",
        {
            **base,
            "row_number": span[0][0] + 1,
            "fiscal_year": year,
            "period_start_year": year,
            "evaluation_type": "self",
            "evaluator": None,
            "scheme_code": SCHEME,
            "level1_name": normalize_text(_get(row, cols.get("l1_name"))) or None,
            "max_score": weight,
            "score": parse_score(_get(row, col)),
            "grade": None,
            "reported_rate": None,
        },
    )


def _total(
    sheet: Sheet, out: Extracted, base: dict[str, Any], year: int, r: int, cols: dict[str, int]
) -> None:
    """The 合计 row: the total weight (100) and the self-score total (98 in seed 002)."""
    row = sheet.rows[r]
    try:
        max_score, _ = _weight(row, cols.get("l1_weight"))
        score = parse_score(_get(row, cols.get("score")))
    except CellError as err:
        out.reject(sheet, r, getattr(err, "col", cols.get("score")), err)
        return
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
            "max_score": max_score,
            "score": score,
            "grade": None,
            "reported_rate": None,
        },
    )


def _is_label(text: str, label: str) -> bool:
    return label_key(text) == label
