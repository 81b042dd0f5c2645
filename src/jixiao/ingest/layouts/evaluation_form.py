"""Layout: an evaluation result form (绩效评价结果表), as a finance bureau's evaluator lays it out.

Seed 001 (Dongguan, third-party evaluation 2019-2021) is the model: label：value pairs on top
(项目名称, 受委托单位 / 评价机构, 绩效评价报告编号, 评价期间 "2019-2021年度", 主管部门, 评价类型,
sometimes 项目编码), in one cell ("评价机构：X") or a label cell with its value to the right, with
or without a title; a score table by 一级指标 (一级指标 | 分值 | 得分 | 得分率, columns in any
order, 得分率 optional) ending in a 合计 / 总分 row; the grade (评价等级 label, a 等级 column,
or a sentence "…等级为“中”"); and often the 如期完成率 milestone table (阶段 | 计划数 | 实际数 |
如期完成率).

What goes where:

* ``raw.projects``: one row for the evaluated project (key = 项目编码, else
  ``<主管部门>/<项目名称>``), period from 评价期间.
* ``raw.evaluations``: one row per 一级指标 (max_score = 分值, score = 得分) plus the total
  (level1_name null, the 合计 row's 分值 and 得分, the grade, and a printed 支出率 / 支付率 label as
  reported_rate, which the warehouse compares with the period's recomputed spending rate).
  fiscal_year is the last year of the period, period_start_year the first. evaluation_type from
  评价类型 / 评价方式 (mapped like the ledger's codes); without that label, from the title or a
  受委托单位 label (a commissioned evaluation is a third-party one).
* ``raw.milestones``: one row per stage, fiscal_year = the last year of the period.

The 得分率 is checked, not stored (raw.evaluations.reported_rate is the spending rate): a
得分率 more than 0.005 away from 得分/分值 is a row rejection naming that cell, and the row's
score still loads (which figure is wrong cannot be told). The 合计 score must equal the sum of
the 一级指标 scores within 0.01, else a rejection names the 合计 score cell; the reported total
is still kept. A 如期完成率 that disagrees with 实际数/计划数 is treated the same way. A 一级指标
score above its 分值 is rejected and not loaded (it would fail the raw gate's score <= max).

These rejections use reason code ``reported_mismatch`` (:data:`MISMATCH_CODE`), with both
figures in the message and the recomputed one in ``expected``.
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
    memo,
    missing_field,
    project_key,
    row_keys,
    value_right_of,
)
from jixiao.ingest.values import (
    compact,
    format_decimal,
    is_blank,
    normalize_text,
    parse_int,
    parse_period,
    parse_rate,
    parse_score,
)
from jixiao.ingest.workbook import Sheet, cell_ref

LAYOUT = "evaluation_form"
SCAN_ROWS = 80
MISMATCH_CODE = "reported_mismatch"
RATE_TOLERANCE = Decimal("0.005")
TOTAL_TOLERANCE = Decimal("0.01")

# ------------------------------------------------------------------ vocabularies
# All words come from vocabulary.yaml (section evaluation_form, and codes.*): one reviewed file.


#: header-block labels (label：value pairs); the first prefix that matches a cell wins
LABELS: dict[str, tuple[str, ...]] = vocabulary.word_lists("evaluation_form", "labels")
#: labels that count as evidence of this layout (generic ones such as 项目名称 do not)
EVIDENCE_LABELS = vocabulary.words("evaluation_form", "evidence_labels")
#: labels that mean "commissioned evaluation" when no 评价类型 is given
COMMISSIONED_LABELS = vocabulary.words("evaluation_form", "commissioned_labels")
TITLE_WORDS = vocabulary.words("evaluation_form", "titles")
#: score table columns, in matching order (得分率 before 得分, 分值 before the bare 指标)
SCORE_COLUMNS: dict[str, tuple[str, ...]] = vocabulary.word_lists(
    "evaluation_form", "score_columns"
)
#: columns that belong to other layouts' tables (自评表, 指标评分表, ledgers): not a score table
FOREIGN_COLUMNS = vocabulary.words("evaluation_form", "foreign_columns")
MILESTONE_COLUMNS: dict[str, tuple[str, ...]] = vocabulary.word_lists(
    "evaluation_form", "milestone_columns"
)
MILESTONE_FOREIGN = vocabulary.words("evaluation_form", "milestone_foreign")
#: stage as written -> the stage code of raw.milestones
STAGES: dict[str, str] = vocabulary.word_codes("codes", "stage")
TOTAL_LABELS = vocabulary.words("evaluation_form", "total_row")
#: 评价类型 as written -> raw.evaluations.evaluation_type
EVALUATION_TYPES: dict[str, str] = vocabulary.word_codes("codes", "evaluation_type")
#: substring fallbacks for 评价类型 values and titles, tried in order
EVALUATION_TYPE_WORDS = tuple(
    (str(w), str(c)) for w, c in vocabulary.entry("evaluation_form", "evaluation_type_words")
)
GRADES: dict[str, str] = vocabulary.word_codes("codes", "grade")
_GRADE_SENTENCE = re.compile(
    r"等级(?:为|是|评定为|[:：])\s*[“\"'「『]?\s*(优秀|良好|中等|较差|优|良|中|差)"
)
_PERIOD_IN_TEXT = re.compile(r"(\d{4})\s*年?\s*[-~—–至到]\s*(\d{4})\s*年")
_YEAR_IN_TEXT = re.compile(r"(\d{4})\s*年度")


# ------------------------------------------------------------------ detection
def detect(sheet: Sheet) -> Evidence | None:
    """Evidence that ``sheet`` is an evaluation result form: a score table by 一级指标.

    Score: the score table header 0.3 (+0.05 with a 得分率 column, +0.05 when known 一级指标
    names such as 决策/过程/产出/效益 sit under it), a milestone header 0.25, each evaluation
    label (评价机构/受委托单位, 报告编号, 评价期间, 评价类型, 评价等级 or "等级为…") 0.1, a
    title 0.05.
    Without a score table the sheet is not this layout (None).
    """
    found: Evidence | None = memo(sheet, "evaluation_form.detect", _detect)
    return found


def _detect(sheet: Sheet) -> Evidence | None:
    header = score_header(sheet)
    if header is None:
        return None
    row, cols = header
    score = 0.3
    reasons = [f"一级指标得分表表头（第 {row + 1} 行）/ score table header (row {row + 1})"]
    if "rate" in cols:
        score += 0.05
        reasons.append("得分率列 / 得分率 column")
    known = _known_level1_rows(sheet, row, cols["level1"])
    if known >= 2:
        score += 0.05
        reasons.append(f"{known} 个一级指标名称 / {known} first-level indicator names")
    milestones = milestone_header(sheet)
    if milestones is not None:
        score += 0.25
        at = milestones[0] + 1
        reasons.append(f"如期完成率表头（第 {at} 行）/ milestone header (row {at})")
    labels = _labels(sheet, _table_rows(header, milestones))
    for name in EVIDENCE_LABELS:
        if name in labels:
            score += 0.1
            reasons.append(f"标签「{labels[name].label}」/ label '{labels[name].label}'")
    if "grade" not in labels and _grade_sentence(sheet) is not None:
        score += 0.1
        reasons.append("等级为… / a grade sentence")
    if row > 0 and find_cells(sheet, lambda t: any(w in t for w in TITLE_WORDS), min(row, 6)):
        score += 0.05
        reasons.append("标题 / title")
    return Evidence(
        layout=LAYOUT,
        score=round(score, 4),
        reasons=tuple(reasons),
        detail={"score_header": header, "milestone_header": milestones},
    )


def score_header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    """(row, columns) of the 一级指标 | 分值 | 得分 header, or None (得分表表头)."""
    for r, row in enumerate(sheet.rows[:SCAN_ROWS]):
        if not any(isinstance(v, str) and "分" in v for v in row):
            continue  # cheap pre-filter: 分值 / 得分 both carry 分
        keys = row_keys(sheet, r).keys
        cols = find_columns(row, SCORE_COLUMNS, keys)
        if {"level1", "max", "score"} <= cols.keys() and not _has_foreign(
            row, FOREIGN_COLUMNS, keys
        ):
            return r, cols
    return None


def milestone_header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    """(row, columns) of the 阶段 | 计划数 | 实际数 header, or None (如期完成率表头)."""
    for r, row in enumerate(sheet.rows[:SCAN_ROWS]):
        keys = row_keys(sheet, r).keys
        cols = find_columns(row, MILESTONE_COLUMNS, keys)
        if {"stage", "planned", "actual"} <= cols.keys() and not _has_foreign(
            row, MILESTONE_FOREIGN, keys
        ):
            return r, cols
    return None


def _has_foreign(row: list[Any], foreign: tuple[str, ...], keys: list[str]) -> bool:
    return any(isinstance(v, str) and k.startswith(foreign) for v, k in zip(row, keys, strict=True))


def _known_level1_rows(sheet: Sheet, header: int, col: int) -> int:
    names = {"决策", "过程", "产出", "效益", "投入", "管理", "满意度", "项目决策", "项目管理"}
    n = 0
    for row in sheet.rows[header + 1 : header + 12]:
        t = compact(row[col]) if col < len(row) else ""
        if t.removesuffix("指标") in names or t in names:
            n += 1
    return n


# ------------------------------------------------------------------ labels
class _Label:
    """A label found in the sheet with its value (标签及其值)."""

    def __init__(self, label: str, value: str, row: int, col: int, label_col: int) -> None:
        self.label, self.value, self.row, self.col, self.label_col = (
            label,
            value,
            row,
            col,
            label_col,
        )


def _all_label_keys() -> list[str]:
    return sorted({label_key(x) for xs in LABELS.values() for x in xs}, key=len, reverse=True)


def _table_rows(*headers: tuple[int, dict[str, int]] | None) -> frozenset[int]:
    return frozenset(h[0] for h in headers if h is not None)


def _labels(sheet: Sheet, skip_rows: frozenset[int] = frozenset()) -> dict[str, _Label]:
    """Every header-block label with its value: "标签：值" in one cell or "标签 | 值" (表头标签).

    ``skip_rows`` are table header rows (their 等级 / 得分 columns are not labels).
    """
    if "evaluation_form.labels" in sheet.cache:
        cached: dict[str, _Label] = sheet.cache["evaluation_form.labels"]
        return cached
    keys = _all_label_keys()
    found: dict[str, _Label] = {}
    for r, row in enumerate(sheet.rows[:SCAN_ROWS]):
        if r in skip_rows:
            continue
        for c, v in enumerate(row):
            if not isinstance(v, str) or not v.strip() or (c > 0 and row[c - 1] == v):
                continue  # merged fill repeats the anchor: look at the anchor only
            t = compact(v)
            key = label_key(t)
            for name, labels in LABELS.items():
                if name in found:
                    continue
                hit = _match_label(sheet, r, c, t, key, labels, keys)
                if hit is not None:
                    found[name] = hit
                    break
    sheet.cache["evaluation_form.labels"] = found
    return found


def _match_label(
    sheet: Sheet,
    r: int,
    c: int,
    text: str,
    key: str,
    labels: tuple[str, ...],
    all_keys: list[str],
) -> _Label | None:
    for label in labels:
        lk = label_key(label)
        if key == lk:
            right = value_right_of(sheet, r, c)
            if right is None or label_key(right[0]) in all_keys:
                return None  # a label with a blank value (the next cell is another label)
            return _Label(label, normalize_text(right[0]), r, right[1], c)
        m = re.match(rf"^{re.escape(lk)}[:：](.+)$", text, re.IGNORECASE)
        if m:
            return _Label(label, normalize_text(m.group(1)), r, c, c)
    return None


def _grade_sentence(sheet: Sheet) -> tuple[str, int, int] | None:
    """A grade written in a sentence ("综合评定…等级为“中”") -> (grade text, row, col)."""
    for r, c, t in find_cells(sheet, lambda t: "等级" in t):
        if is_note_text(t):
            continue
        m = _GRADE_SENTENCE.search(t)
        if m:
            return m.group(1), r, c
    return None


# ------------------------------------------------------------------ reading
def read_sheet(sheet: Sheet, file_name: str, out: Extracted, context: dict[str, Any]) -> None:
    """Read one evaluation result form into ``out`` (读取一张评价结果表)."""
    evidence = detect(sheet)
    if evidence is None:
        raise missing_field(sheet, "一级指标/分值/得分 表头", "score table header")
    detail = evidence.detail
    labels = _labels(sheet, _table_rows(detail["score_header"], detail["milestone_header"]))
    name = labels.get("project_name")
    code = labels["project_code"].value if "project_code" in labels else None
    if name is None and not (code and context.get("names", {}).get(code)):
        raise missing_field(sheet, "项目名称", "project name")
    project_name = name.value if name else context["names"][code]
    dept = _department(sheet, labels, code, context)
    start, end = _period(sheet, labels, project_name)
    key = project_key(code, dept, project_name)
    sub = out.submission(
        sheet=sheet.name,
        layout=LAYOUT,
        department=dept,
        project_key=key,
        project_name=project_name,
        year=end,
    )
    out.layouts.add(LAYOUT)
    base = {"sheet_name": sheet.name, "_submission": sub, "project_key": key}
    out.add(
        "projects",
        {
            **base,
            "row_number": (name.row if name else detail["score_header"][0]) + 1,
            "project_code": code,
            "project_name": project_name,
            "category": None,
            "department_name": dept,
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
    etype = _evaluation_type(sheet, labels)
    evaluator = labels["evaluator"].value if "evaluator" in labels else None
    common = {
        **base,
        "fiscal_year": end,
        "period_start_year": start,
        "evaluation_type": etype if isinstance(etype, str) else None,
        "evaluator": evaluator,
        "scheme_code": None,
    }
    milestones = detail["milestone_header"]
    stop = milestones[0] if milestones is not None else None
    _scores(sheet, out, common, labels, detail["score_header"], etype, stop)
    if milestones is not None:
        _milestones(sheet, out, base, end, milestones)


def _department(
    sheet: Sheet, labels: dict[str, _Label], code: str | None, context: dict[str, Any]
) -> str:
    if "department" in labels:
        return labels["department"].value
    if code:
        known = context.get("departments", {}).get(code)
        return str(known) if known else "未登记部门"
    raise missing_field(sheet, "主管部门", "supervising department")


def _period(sheet: Sheet, labels: dict[str, _Label], project_name: str) -> tuple[int, int]:
    """评价期间 label, else a period written in the title or the project name (评价期间)."""
    label = labels.get("period")
    if label is not None:
        try:
            found = parse_period(label.value)
        except CellError as err:
            raise FileRejected(
                field_code(err),
                f"工作表「{sheet.name}」单元格 {cell_ref(label.row, label.col)} 评价期间："
                f"{err.message_zh}",
                f"sheet '{sheet.name}' cell {cell_ref(label.row, label.col)} evaluation period: "
                f"{err.message_en}",
                sheet=sheet.name,
                cell=cell_ref(label.row, label.col),
                expected="评价期间，如 2019-2021年度 / a period such as 2019-2021",
            ) from err
        if found is not None:
            return found
    texts = [project_name] + [t for _r, _c, t in find_cells(sheet, lambda t: "年" in t, 4)]
    for text in texts:
        m = _PERIOD_IN_TEXT.search(normalize_text(text))
        if m and int(m.group(1)) <= int(m.group(2)):
            return header_year(sheet, int(m.group(1))), header_year(sheet, int(m.group(2)))
    for text in texts:
        y = _YEAR_IN_TEXT.search(normalize_text(text))
        if y:
            return header_year(sheet, int(y.group(1))), int(y.group(1))
    raise missing_field(sheet, "评价期间", "evaluation period")


def _evaluation_type(sheet: Sheet, labels: dict[str, _Label]) -> str | CellError:
    """The evaluation type code, or the CellError that rejects every score row (评价类型)."""
    label = labels.get("evaluation_type")
    if label is not None:
        code = _type_code(label.value)
        if code is not None:
            return code
        err = CellError(
            "unknown_code",
            "评价类型：" + " | ".join(sorted(k for k in EVALUATION_TYPES if not k.isascii())),
            f"无法识别的评价类型「{label.value}」（单元格 {cell_ref(label.row, label.col)}）",
            f"unknown evaluation type '{label.value}' (cell {cell_ref(label.row, label.col)})",
        )
        return err
    titles = [
        t
        for _r, _c, t in find_cells(sheet, lambda t: "评价" in t, 4)
        if ":" not in t and "：" not in t and label_key(t) not in _all_label_keys()
    ]
    for title in titles:
        code = _type_code(title, exact=False)
        if code is not None:
            return code
    if "evaluator" in labels and labels["evaluator"].label in COMMISSIONED_LABELS:
        return "third_party"
    raise missing_field(sheet, "评价类型", "evaluation type")


def _type_code(text: str, exact: bool = True) -> str | None:
    key = compact(text).lower()
    if exact and key in EVALUATION_TYPES:
        return EVALUATION_TYPES[key]
    for word, code in EVALUATION_TYPE_WORDS:
        if word in key:
            return code
    return None


def _cell(row: list[Any], col: int | None) -> Any:
    return row[col] if col is not None and col < len(row) else ""


def _parse(row: list[Any], col: int | None, fn: Any) -> Any:
    try:
        return fn(_cell(row, col))
    except CellError as err:
        err.col = col  # type: ignore[attr-defined]
        raise


def _is_caption_row(row: list[Any], name_col: int) -> bool:
    """A caption, paragraph or label line under a table, not a data row (说明行).

    Two or more filled cells holding the same text (a merged line), or a single filled cell
    outside the name column, or a single "标签：值" / long sentence in it.
    """
    filled = [(c, normalize_text(v)) for c, v in enumerate(row) if not is_blank(v)]
    texts = {t for _c, t in filled}
    if len(filled) >= 2:
        return len(texts) == 1
    if len(filled) == 1:
        c, t = filled[0]
        return c != name_col or ":" in t or "：" in t or len(t) > 12
    return False


def _scores(
    sheet: Sheet,
    out: Extracted,
    common: dict[str, Any],
    labels: dict[str, _Label],
    header: tuple[int, dict[str, int]],
    etype: str | CellError,
    stop: int | None,
) -> None:
    header_row, cols = header
    level1_total = Decimal(0)
    level1_ok = True
    for r in range(header_row + 1, stop if stop and stop > header_row else sheet.height):
        row = sheet.rows[r]
        lead = first_text(row)
        if not lead:
            continue
        if is_note_text(lead) or _is_caption_row(row, cols["level1"]):
            break
        name = normalize_text(_cell(row, cols["level1"]))
        if label_key(name) in [label_key(x) for x in SCORE_COLUMNS["level1"]]:
            continue  # a repeated header
        is_total = compact(name) in TOTAL_LABELS or compact(lead) in TOTAL_LABELS
        if not name and not is_total:
            continue
        if isinstance(etype, CellError):
            out.reject(sheet, r, None, etype)
            if is_total:
                break
            continue
        try:
            max_score = _parse(row, cols["max"], parse_score)
            score = _parse(row, cols["score"], parse_score)
            if score is None:
                raise _missing(cols["score"], "得分", "score")
            rate = _parse(row, cols.get("rate"), parse_rate)
        except CellError as err:
            out.reject(sheet, r, getattr(err, "col", None), err)
            if is_total:
                break
            level1_ok = False
            continue
        if is_total:
            _total(sheet, out, common, labels, r, cols, max_score, score, rate)
            if level1_ok and abs(score - level1_total) > TOTAL_TOLERANCE:
                out.reject(
                    sheet,
                    r,
                    cols["score"],
                    _mismatch(
                        f"合计得分等于各一级指标得分之和 {format_decimal(level1_total)} "
                        f"/ the sum of the first-level scores, {format_decimal(level1_total)}",
                        f"合计得分 {format_decimal(score)} 与各一级指标得分之和 "
                        f"{format_decimal(level1_total)} 不符",
                        f"total score {format_decimal(score)} differs from the sum of the "
                        f"first-level scores {format_decimal(level1_total)}",
                    ),
                )
            break
        if max_score is not None and score > max_score:
            out.reject(
                sheet,
                r,
                cols["score"],
                _mismatch(
                    f"得分不超过分值 {format_decimal(max_score)} / at most the weight",
                    f"得分 {format_decimal(score)} 超过分值 {format_decimal(max_score)}",
                    f"score {format_decimal(score)} exceeds the weight {format_decimal(max_score)}",
                ),
            )
            level1_ok = False
            continue
        level1_total += score
        out.add(
            "evaluations",
            {
                **common,
                "row_number": r + 1,
                "level1_name": name,
                "max_score": max_score,
                "score": score,
                "grade": None,
                "reported_rate": None,
            },
        )
        _check_rate(sheet, out, r, cols.get("rate"), rate, score, max_score)


def _total(
    sheet: Sheet,
    out: Extracted,
    common: dict[str, Any],
    labels: dict[str, _Label],
    r: int,
    cols: dict[str, int],
    max_score: Decimal | None,
    score: Decimal,
    rate: Decimal | None,
) -> None:
    grade = _grade(sheet, out, labels, r, cols)
    spending = labels.get("spending_rate")
    reported = None
    if spending is not None:
        try:
            reported = parse_rate(spending.value)
        except CellError as err:
            out.reject(sheet, spending.row, spending.col, err)
    out.add(
        "evaluations",
        {
            **common,
            "row_number": r + 1,
            "level1_name": None,
            "max_score": max_score,
            "score": score,
            "grade": grade,
            "reported_rate": reported,
        },
    )
    _check_rate(sheet, out, r, cols.get("rate"), rate, score, max_score)


def _grade(
    sheet: Sheet, out: Extracted, labels: dict[str, _Label], r: int, cols: dict[str, int]
) -> str | None:
    """The grade: a 等级 column on the total row, a 评价等级 label, or a sentence (评价等级)."""
    where: tuple[str, int, int] | None = None
    if "grade" in cols and not is_blank(_cell(sheet.rows[r], cols["grade"])):
        where = (normalize_text(sheet.rows[r][cols["grade"]]), r, cols["grade"])
    elif "grade" in labels:
        g = labels["grade"]
        where = (g.value, g.row, g.col)
    else:
        where = _grade_sentence(sheet)
    if where is None:
        return None
    text, gr, gc = where
    key = compact(text).strip("“”\"'「」『』")
    if key in GRADES:
        return GRADES[key]
    out.reject(
        sheet,
        gr,
        gc,
        CellError(
            "unknown_code",
            "等级：优 | 良 | 中 | 差",
            f"无法识别的评价等级「{text}」",
            f"unknown grade '{text}'",
        ),
    )
    return None


def _check_rate(
    sheet: Sheet,
    out: Extracted,
    r: int,
    col: int | None,
    reported: Decimal | None,
    numerator: Decimal,
    denominator: Decimal | None,
    what: tuple[str, str] = ("得分率", "score rate"),
    formula: tuple[str, str] = ("得分/分值", "score / weight"),
) -> None:
    """A reported rate more than RATE_TOLERANCE away from numerator/denominator is rejected."""
    if reported is None or col is None or not denominator:
        return
    computed = numerator / denominator
    if abs(reported - computed) <= RATE_TOLERANCE:
        return
    shown = _pct(computed)
    out.reject(
        sheet,
        r,
        col,
        _mismatch(
            f"{what[0]}≈{formula[0]}={shown}（误差不超过0.5个百分点）/ "
            f"{what[1]} ≈ {formula[1]} = {shown} (within 0.5 points)",
            f"报告的{what[0]} {_pct(reported)} 与{formula[0]}={shown} 不符",
            f"reported {what[1]} {_pct(reported)} differs from {formula[1]} = {shown}",
        ),
    )


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(Decimal('0.01'))}%"


def _mismatch(expected: str, zh: str, en: str) -> CellError:
    return CellError(MISMATCH_CODE, expected, zh, en)


def _missing(col: int, zh: str, en: str) -> CellError:
    err = CellError(
        "missing_value", f"{zh}（必填）/ {en} (required)", f"{zh}为空", f"{en} is blank"
    )
    err.col = col  # type: ignore[attr-defined]
    return err


def _milestones(
    sheet: Sheet,
    out: Extracted,
    base: dict[str, Any],
    year: int,
    header: tuple[int, dict[str, int]],
) -> None:
    header_row, cols = header
    for r in range(header_row + 1, sheet.height):
        row = sheet.rows[r]
        lead = first_text(row)
        if not lead:
            continue
        if is_note_text(lead) or _is_caption_row(row, cols["stage"]):
            break
        raw_stage = compact(_cell(row, cols["stage"]))
        if raw_stage in TOTAL_LABELS or lead in TOTAL_LABELS:
            continue
        if label_key(raw_stage) in [label_key(x) for x in MILESTONE_COLUMNS["stage"]]:
            continue
        try:
            if not raw_stage:
                raise _missing(cols["stage"], "阶段", "stage")
            stage = STAGES.get(raw_stage.removesuffix("阶段"))
            if stage is None:
                err = CellError(
                    "unknown_code",
                    "阶段：" + " | ".join(dict.fromkeys(STAGES.values())),
                    f"无法识别的阶段「{raw_stage}」",
                    f"unknown stage '{raw_stage}'",
                )
                err.col = cols["stage"]  # type: ignore[attr-defined]
                raise err
            planned = _parse(row, cols["planned"], parse_int)
            actual = _parse(row, cols["actual"], parse_int)
            if planned is None:
                raise _missing(cols["planned"], "计划数", "planned count")
            if actual is None:
                raise _missing(cols["actual"], "实际数", "actual count")
            rate = _parse(row, cols.get("rate"), parse_rate)
        except CellError as err:
            out.reject(sheet, r, getattr(err, "col", None), err)
            continue
        out.add(
            "milestones",
            {
                **base,
                "row_number": r + 1,
                "fiscal_year": year,
                "stage": stage,
                "planned_count": planned,
                "actual_count": actual,
            },
        )
        _check_rate(
            sheet,
            out,
            r,
            cols.get("rate"),
            rate,
            Decimal(actual),
            Decimal(planned),
            ("如期完成率", "on-time rate"),
            ("实际数/计划数", "actual / planned"),
        )
