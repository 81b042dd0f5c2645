"""Layout C: flat ledgers, one table per sheet (台账：项目登记/预算/支付/评价结果/里程碑).

The header row is found by matching column names (Chinese and English, with variants);
never by position. The amount unit comes from the header suffix ("金额（万元）", "amount_yuan")
or a "金额单位：万元" caption above the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jixiao.ingest.errors import CellError, FileRejected
from jixiao.ingest.layouts.common import (
    Extracted,
    label_key,
    project_key,
    unit_caption,
    unit_or_reject,
)
from jixiao.ingest.values import (
    compact,
    is_blank,
    normalize_text,
    parse_amount,
    parse_date,
    parse_decimal,
    parse_int,
    parse_period,
    parse_rate,
    parse_year,
    unit_from_label,
)
from jixiao.ingest.workbook import Sheet, cell_ref

HEADER_SCAN_ROWS = 30


@dataclass(frozen=True)
class Col:
    """A ledger column: field name, accepted header labels, required or not (列定义)."""

    field: str
    aliases: tuple[str, ...]
    required: bool = False


_CODE = Col(
    "project_code", ("项目编码", "项目代码", "项目编号", "project_code", "projectcode"), True
)
_DEPT = Col(
    "department_name", ("主管部门", "预算部门", "部门", "部门名称", "department", "department_name")
)
_YEAR = Col("fiscal_year", ("年度", "预算年度", "资金年度", "fiscal_year", "year"), True)
_FUND = Col("fund_source", ("资金来源", "资金性质", "fund_source"))

LEDGERS: dict[str, tuple[Col, ...]] = {
    "projects": (
        Col("project_code", _CODE.aliases),
        Col("project_name", ("项目名称", "project_name", "name"), True),
        Col("category", ("项目类别", "项目类型", "类别", "category")),
        Col(
            "department_name",
            ("主管部门", "预算部门", "部门", "department", "department_name"),
            True,
        ),
        Col("implementing_unit", ("实施单位", "项目单位", "implementing_unit")),
        Col("province", ("省", "省份", "province")),
        Col("city", ("市", "地市", "城市", "city")),
        Col("county", ("县", "县区", "区县", "county")),
        Col("project_level", ("项目级次", "级次", "project_level", "level")),
        Col("period_start_year", ("开始年度", "起始年度", "开始年份", "start_year")),
        Col("period_end_year", ("结束年度", "截止年度", "结束年份", "end_year")),
        Col(
            "parent_project_code", ("上级项目编码", "父项目编码", "上级项目", "parent_project_code")
        ),
    ),
    "budget_lines": (
        _CODE,
        _YEAR,
        _DEPT,
        Col("line_type", ("类型", "预算类型", "调整类型", "事项", "line_type", "type"), True),
        _FUND,
        Col("amount", ("金额", "预算金额", "资金金额", "amount", "amount_yuan"), True),
        Col("line_date", ("日期", "调整日期", "下达日期", "date", "line_date")),
        Col("reason", ("原因", "调整原因", "说明", "备注", "reason")),
    ),
    "payments": (
        _CODE,
        _DEPT,
        Col("fiscal_year", _YEAR.aliases),
        Col("payment_date", ("支付日期", "付款日期", "日期", "payment_date", "date")),
        Col(
            "amount",
            ("支付金额", "付款金额", "支出金额", "实际支出", "金额", "amount", "amount_yuan"),
            True,
        ),
        _FUND,
        Col("payee", ("收款单位", "收款人", "收款方", "payee")),
        Col("voucher_no", ("凭证号", "凭证编号", "凭证号码", "voucher_no", "voucher")),
        Col("summary", ("摘要", "用途", "summary")),
        Col("category", ("支出类别", "支出类型", "类别", "category")),
    ),
    "evaluations": (
        _CODE,
        _DEPT,
        Col("period", ("评价期间", "评价年度", "评价周期", "年度", "period"), True),
        Col("evaluation_type", ("评价类型", "评价方式", "evaluation_type"), True),
        Col("evaluator", ("评价机构", "评价单位", "evaluator")),
        Col("scheme_code", ("评价体系", "指标体系", "scheme", "scheme_code")),
        Col("level1_name", ("一级指标", "level1", "level1_name")),
        Col("max_score", ("指标分值", "分值", "满分", "max_score")),
        Col("score", ("评价得分", "得分", "score"), True),
        Col("grade", ("等级", "评价等级", "grade")),
        Col("reported_rate", ("报告比率", "报告支付率", "reported_rate")),
    ),
    "milestones": (
        _CODE,
        _YEAR,
        _DEPT,
        Col("stage", ("阶段", "里程碑", "stage"), True),
        Col("planned_count", ("计划数", "计划", "planned", "planned_count"), True),
        Col("actual_count", ("实际数", "实际", "actual", "actual_count"), True),
    ),
}

#: A sheet is a ledger of a kind when its header holds one of these fields (签名列).
SIGNATURES: dict[str, set[str]] = {
    "projects": {"project_name"},
    "budget_lines": {"line_type"},
    "payments": {"payment_date", "payee", "voucher_no"},
    "evaluations": {"evaluation_type", "score"},
    "milestones": {"stage", "planned_count"},
}
_AMOUNT_SIGNATURE = {"支付金额", "付款金额", "支出金额", "实际支出"}
_PAYMENT_DATE_SIGNATURE = {"支付日期", "付款日期", "payment_date"}
_TOTAL_LABELS = {"合计", "总计", "小计", "total"}

LINE_TYPES = {
    "年初预算": "initial",
    "年初预算数": "initial",
    "年初安排": "initial",
    "initial": "initial",
    "追加": "addition",
    "调增": "addition",
    "追加预算": "addition",
    "addition": "addition",
    "压减": "cut",
    "调减": "cut",
    "压减/调减": "cut",
    "核减": "cut",
    "cut": "cut",
    "调整后预算": "final",
    "全年预算数": "final",
    "全年预算": "final",
    "预算计划安排": "final",
    "final": "final",
    "下达本级": "allocated",
    "实际下达": "allocated",
    "下达": "allocated",
    "实际到位": "allocated",
    "allocated": "allocated",
    "转移支付至下级": "transfer_down",
    "转移支付": "transfer_down",
    "transfer_down": "transfer_down",
    "实际支出": "executed",
    "执行": "executed",
    "全年执行数": "executed",
    "executed": "executed",
}
FUND_SOURCES = {
    "": "total",
    "合计": "total",
    "总计": "total",
    "年度资金总额": "total",
    "total": "total",
    "当年财政拨款": "current_appropriation",
    "财政拨款": "current_appropriation",
    "本年财政拨款": "current_appropriation",
    "current_appropriation": "current_appropriation",
    "上年结转资金": "carryover",
    "上年结转": "carryover",
    "结转资金": "carryover",
    "carryover": "carryover",
    "其他资金": "other",
    "其他": "other",
    "other": "other",
}
EVALUATION_TYPES = {
    "单位自评": "self",
    "自评": "self",
    "self": "self",
    "部门评价": "department",
    "部门自评": "department",
    "department": "department",
    "第三方评价": "third_party",
    "财政评价": "third_party",
    "财政重点评价": "third_party",
    "third_party": "third_party",
}
STAGES = ("启动", "可研", "初步设计", "立项", "入场实施", "初验", "终验")


def match_header(row: list[Any]) -> dict[str, dict[str, tuple[int, Any]]]:
    """For each ledger kind, the fields found in ``row``: field -> (column, header text)."""
    keys = [label_key(v) if isinstance(v, str) else "" for v in row]
    found: dict[str, dict[str, tuple[int, Any]]] = {}
    for kind, cols in LEDGERS.items():
        hits: dict[str, tuple[int, Any]] = {}
        for col in cols:
            for alias in col.aliases:
                a = alias.lower()
                idx = next((i for i, k in enumerate(keys) if k == a), None)
                if idx is not None and all(idx != h[0] for h in hits.values()):
                    hits[col.field] = (idx, row[idx])
                    break
        found[kind] = hits
    return found


def detect(sheet: Sheet) -> tuple[str, int, dict[str, tuple[int, Any]]] | None:
    """(kind, header row, columns) of the best-matching ledger header, or None (识别台账)."""
    best: tuple[int, str, int, dict[str, tuple[int, Any]]] | None = None
    for r, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        if sum(1 for v in row if isinstance(v, str) and v.strip()) < 2:
            continue
        for kind, hits in match_header(row).items():
            signed = bool(SIGNATURES[kind] & hits.keys())
            if kind == "payments":
                signed = (
                    bool({"payee", "voucher_no"} & hits.keys())
                    or ("amount" in hits and label_key(hits["amount"][1]) in _AMOUNT_SIGNATURE)
                    or (
                        "payment_date" in hits
                        and label_key(hits["payment_date"][1]) in _PAYMENT_DATE_SIGNATURE
                    )
                )
            if kind == "projects" and _is_other_kind(row):
                signed = False
            if signed and len(hits) >= 2 and (best is None or len(hits) > best[0]):
                best = (len(hits), kind, r, hits)
    return (best[1], best[2], best[3]) if best else None


def _is_other_kind(row: list[Any]) -> bool:
    keys = {label_key(v) for v in row if isinstance(v, str)}
    return bool(keys & {"金额", "支付金额", "评价类型", "阶段", "类型", "评价得分"})


def read_sheet(sheet: Sheet, file_name: str, out: Extracted, context: dict[str, Any]) -> bool:
    """Read one ledger sheet into ``out``; False when the sheet is not a ledger."""
    found = detect(sheet)
    if found is None:
        return False
    kind, header_row, hits = found
    _check_required(sheet, kind, header_row, hits)
    unit = _amount_unit(sheet, header_row, hits) if "amount" in hits else None
    out.layouts.add("ledger")
    reader = _READERS[kind]
    for r in range(header_row + 1, sheet.height):
        row = sheet.rows[r]
        cells = {f: row[c] if c < len(row) else "" for f, (c, _h) in hits.items()}
        if all(is_blank(v) for v in cells.values()):
            continue
        if _is_note(row):
            continue
        try:
            reader(sheet, r, cells, hits, unit, out, context)
        except CellError as err:
            out.reject(sheet, r, getattr(err, "col", None), err)
    return True


def _is_note(row: list[Any]) -> bool:
    """A total row (合计/小计) or a note under the table ("注：...", "填表人：...") (表尾)."""
    filled = [v for v in row if not is_blank(v)]
    if not filled or not isinstance(filled[0], str):
        return False
    t = compact(filled[0]).rstrip(":").lower()
    if t in _TOTAL_LABELS:
        return True
    return len(filled) == 1 and t.startswith(("注", "说明", "备注", "填表", "审核", "note"))


def _check_required(
    sheet: Sheet, kind: str, header_row: int, hits: dict[str, tuple[int, Any]]
) -> None:
    missing = [c for c in LEDGERS[kind] if c.required and c.field not in hits]
    if kind == "payments" and "fiscal_year" not in hits and "payment_date" not in hits:
        missing.append(Col("fiscal_year", ("年度 或 支付日期",)))
    if missing:
        names = "、".join(c.aliases[0] for c in missing)
        en = ", ".join(c.field for c in missing)
        raise FileRejected(
            "missing_required_columns",
            f"工作表「{sheet.name}」第 {header_row + 1} 行的表头缺少必填列：{names}",
            f"sheet '{sheet.name}' header row {header_row + 1} lacks required columns: {en} "
            f"({names})",
            sheet=sheet.name,
            cell=f"{header_row + 1}:{header_row + 1}",
            expected=f"表头包含 {names} / header with {en}",
        )


def _amount_unit(sheet: Sheet, header_row: int, hits: dict[str, tuple[int, Any]]) -> str:
    col, header = hits["amount"]
    try:
        unit = unit_from_label(header)
    except CellError:
        unit = unit_or_reject(compact(header), sheet, header_row, col)
    if unit:
        return unit
    caption = unit_caption(sheet, header_row)
    if caption:
        return caption[0]
    raise FileRejected(
        "missing_unit",
        f"工作表「{sheet.name}」金额列 {cell_ref(header_row, col)}「{header}」没有单位，表上方也没有"  # noqa: E501
        "“金额单位：万元/元”",
        f"sheet '{sheet.name}' amount column {cell_ref(header_row, col)} '{header}' has no unit "
        "and there is no '金额单位：万元/元' caption above the table",
        sheet=sheet.name,
        cell=cell_ref(header_row, col),
        expected="金额（万元）、金额（元）或“金额单位：万元” / a unit in the header or a caption",
    )


def _at(field: str, hits: dict[str, tuple[int, Any]], fn: Any, value: Any) -> Any:
    """Run a parser, tagging a CellError with the column of ``field``."""
    try:
        return fn(value)
    except CellError as err:
        err.col = hits[field][0]  # type: ignore[attr-defined]
        raise


def _required(field: str, hits: dict[str, tuple[int, Any]], value: Any, label: str) -> Any:
    if is_blank(value):
        err = CellError(
            "missing_value",
            f"{label}（必填）/ {field} (required)",
            f"必填项「{label}」为空",
            f"required field '{field}' is blank",
        )
        err.col = hits[field][0]  # type: ignore[attr-defined]
        raise err
    return value


def _code(
    field: str, hits: dict[str, tuple[int, Any]], mapping: dict[str, str], value: Any, label: str
) -> str:
    key = compact(value).lower().replace("其中:", "")
    if key in mapping:
        return mapping[key]
    err = CellError(
        "unknown_code",
        f"{label}：{' | '.join(sorted({k for k in mapping if k}))}",
        f"无法识别的{label}「{value}」",
        f"unknown {field} '{value}'",
    )
    err.col = hits[field][0]  # type: ignore[attr-defined]
    raise err


def _text(value: Any) -> str | None:
    t = normalize_text(value)
    return t or None


def _project(cells: dict[str, Any], hits: dict[str, tuple[int, Any]]) -> str:
    return normalize_text(_required("project_code", hits, cells.get("project_code"), "项目编码"))


def _department(cells: dict[str, Any], code: str, context: dict[str, Any]) -> str:
    return (
        _text(cells.get("department_name"))
        or context.get("departments", {}).get(code)
        or "未登记部门"
    )


def _submit(
    out: Extracted,
    sheet: Sheet,
    cells: dict[str, Any],
    code: str,
    year: int,
    context: dict[str, Any],
) -> int:
    return out.submission(
        sheet=sheet.name,
        layout="ledger",
        department=_department(cells, code, context),
        project_key=code,
        project_name=context.get("names", {}).get(code),
        year=year,
    )


def _read_project(
    sheet: Sheet,
    r: int,
    cells: dict[str, Any],
    hits: dict[str, tuple[int, Any]],
    unit: str | None,
    out: Extracted,
    context: dict[str, Any],
) -> None:
    name = normalize_text(_required("project_name", hits, cells.get("project_name"), "项目名称"))
    dept = normalize_text(
        _required("department_name", hits, cells.get("department_name"), "主管部门")
    )
    code = _text(cells.get("project_code"))
    start = (
        _at("period_start_year", hits, parse_year, cells.get("period_start_year"))
        if "period_start_year" in hits
        else None
    )
    end = (
        _at("period_end_year", hits, parse_year, cells.get("period_end_year"))
        if "period_end_year" in hits
        else None
    )
    key = project_key(code, dept, name)
    sub = None
    if start is not None:
        sub = out.submission(
            sheet=sheet.name,
            layout="ledger",
            department=dept,
            project_key=key,
            project_name=name,
            year=end or start,
        )
    out.add(
        "projects",
        {
            "sheet_name": sheet.name,
            "row_number": r + 1,
            "_submission": sub,
            "project_key": key,
            "project_code": code,
            "project_name": name,
            "category": _text(cells.get("category")),
            "department_name": dept,
            "implementing_unit": _text(cells.get("implementing_unit")),
            "province": _text(cells.get("province")),
            "city": _text(cells.get("city")),
            "county": _text(cells.get("county")),
            "project_level": _text(cells.get("project_level")),
            "period_start_year": start,
            "period_end_year": end,
            "parent_project_key": _text(cells.get("parent_project_code")),
        },
    )


def _read_budget(
    sheet: Sheet,
    r: int,
    cells: dict[str, Any],
    hits: dict[str, tuple[int, Any]],
    unit: str | None,
    out: Extracted,
    context: dict[str, Any],
) -> None:
    code = _project(cells, hits)
    year = _at(
        "fiscal_year",
        hits,
        parse_year,
        _required("fiscal_year", hits, cells.get("fiscal_year"), "年度"),
    )
    line_type = _code(
        "line_type",
        hits,
        LINE_TYPES,
        _required("line_type", hits, cells.get("line_type"), "类型"),
        "类型",
    )
    fund = (
        _code("fund_source", hits, FUND_SOURCES, cells.get("fund_source", ""), "资金来源")
        if "fund_source" in hits
        else "total"
    )
    raw_amount = _required("amount", hits, cells.get("amount"), "金额")
    yuan, used = _at("amount", hits, lambda v: parse_amount(v, unit or "元"), raw_amount)
    line_date = (
        _at("line_date", hits, parse_date, cells.get("line_date")) if "line_date" in hits else None
    )
    out.add(
        "budget_lines",
        {
            "sheet_name": sheet.name,
            "row_number": r + 1,
            "_submission": _submit(out, sheet, cells, code, year, context),
            "project_key": code,
            "fiscal_year": year,
            "line_type": line_type,
            "fund_source": fund,
            "amount_yuan": abs(yuan),
            "original_text": normalize_text(raw_amount),
            "original_unit": used,
            "line_date": line_date,
            "reason": _text(cells.get("reason")),
        },
    )


def _read_payment(
    sheet: Sheet,
    r: int,
    cells: dict[str, Any],
    hits: dict[str, tuple[int, Any]],
    unit: str | None,
    out: Extracted,
    context: dict[str, Any],
) -> None:
    code = _project(cells, hits)
    pay_date = (
        _at("payment_date", hits, parse_date, cells.get("payment_date"))
        if "payment_date" in hits
        else None
    )
    year = (
        _at("fiscal_year", hits, parse_year, cells.get("fiscal_year"))
        if "fiscal_year" in hits
        else None
    )
    year = year or (pay_date.year if pay_date else None)
    if year is None:
        _required(
            "fiscal_year" if "fiscal_year" in hits else "payment_date", hits, None, "年度/支付日期"
        )
    raw_amount = _required("amount", hits, cells.get("amount"), "支付金额")
    yuan, used = _at("amount", hits, lambda v: parse_amount(v, unit or "元"), raw_amount)
    raw_fund = _text(cells.get("fund_source"))
    fund = FUND_SOURCES.get(compact(raw_fund).lower(), raw_fund) if raw_fund else None
    out.add(
        "payments",
        {
            "sheet_name": sheet.name,
            "row_number": r + 1,
            "_submission": _submit(out, sheet, cells, code, year, context),  # type: ignore[arg-type]
            "project_key": code,
            "fiscal_year": year,
            "payment_date": pay_date,
            "amount_yuan": yuan,
            "original_text": normalize_text(raw_amount),
            "original_unit": used,
            "fund_source": fund,
            "payee": _text(cells.get("payee")),
            "voucher_no": _text(cells.get("voucher_no")),
            "summary": _text(cells.get("summary")),
            "category": _text(cells.get("category")),
        },
    )


def _read_evaluation(
    sheet: Sheet,
    r: int,
    cells: dict[str, Any],
    hits: dict[str, tuple[int, Any]],
    unit: str | None,
    out: Extracted,
    context: dict[str, Any],
) -> None:
    code = _project(cells, hits)
    period = _at(
        "period", hits, parse_period, _required("period", hits, cells.get("period"), "评价期间")
    )
    etype = _code(
        "evaluation_type",
        hits,
        EVALUATION_TYPES,
        _required("evaluation_type", hits, cells.get("evaluation_type"), "评价类型"),
        "评价类型",
    )
    score = _at(
        "score", hits, parse_decimal, _required("score", hits, cells.get("score"), "评价得分")
    )
    level1 = _text(cells.get("level1_name"))
    if level1 in ("合计", "总分", "总计", "total"):
        level1 = None
    out.add(
        "evaluations",
        {
            "sheet_name": sheet.name,
            "row_number": r + 1,
            "_submission": _submit(out, sheet, cells, code, period[1], context),
            "project_key": code,
            "fiscal_year": period[1],
            "period_start_year": period[0],
            "evaluation_type": etype,
            "evaluator": _text(cells.get("evaluator")),
            "scheme_code": _text(cells.get("scheme_code")),
            "level1_name": level1,
            "max_score": _at("max_score", hits, parse_decimal, cells.get("max_score"))
            if "max_score" in hits
            else None,
            "score": score,
            "grade": _text(cells.get("grade")),
            "reported_rate": _at("reported_rate", hits, parse_rate, cells.get("reported_rate"))
            if "reported_rate" in hits
            else None,
        },
    )


def _read_milestone(
    sheet: Sheet,
    r: int,
    cells: dict[str, Any],
    hits: dict[str, tuple[int, Any]],
    unit: str | None,
    out: Extracted,
    context: dict[str, Any],
) -> None:
    code = _project(cells, hits)
    year = _at(
        "fiscal_year",
        hits,
        parse_year,
        _required("fiscal_year", hits, cells.get("fiscal_year"), "年度"),
    )
    stage = normalize_text(_required("stage", hits, cells.get("stage"), "阶段")).replace(" ", "")
    if stage not in STAGES:
        _code("stage", hits, {s: s for s in STAGES}, stage, "阶段")
    planned = _at(
        "planned_count",
        hits,
        parse_int,
        _required("planned_count", hits, cells.get("planned_count"), "计划数"),
    )
    actual = _at(
        "actual_count",
        hits,
        parse_int,
        _required("actual_count", hits, cells.get("actual_count"), "实际数"),
    )
    out.add(
        "milestones",
        {
            "sheet_name": sheet.name,
            "row_number": r + 1,
            "_submission": _submit(out, sheet, cells, code, year, context),
            "project_key": code,
            "fiscal_year": year,
            "stage": stage,
            "planned_count": planned,
            "actual_count": actual,
        },
    )


_READERS = {
    "projects": _read_project,
    "budget_lines": _read_budget,
    "payments": _read_payment,
    "evaluations": _read_evaluation,
    "milestones": _read_milestone,
}


def register_context(sheets: list[Sheet]) -> dict[str, Any]:
    """Department and name per project code from any projects sheet in the same workbook."""
    ctx: dict[str, Any] = {"departments": {}, "names": {}}
    for sheet in sheets:
        found = detect(sheet)
        if not found or found[0] != "projects":
            continue
        _kind, header_row, hits = found
        if "project_code" not in hits:
            continue
        for row in sheet.rows[header_row + 1 :]:
            code = _cell_text(row, hits, "project_code")
            if code:
                ctx["departments"][code] = _cell_text(row, hits, "department_name") or None
                ctx["names"][code] = _cell_text(row, hits, "project_name") or None
    return ctx


def _cell_text(row: list[Any], hits: dict[str, tuple[int, Any]], name: str) -> str:
    if name not in hits or hits[name][0] >= len(row):
        return ""
    return normalize_text(row[hits[name][0]])
