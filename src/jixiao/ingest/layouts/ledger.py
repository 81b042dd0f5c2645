"""Layout C: flat ledgers, one table per sheet (台账：项目登记/预算/支付/评价结果/里程碑).

The header row is found by matching column names (Chinese and English, with variants);
never by position. The amount unit comes from the header suffix ("金额（万元）", "amount_yuan")
or a "金额单位：万元" caption above the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jixiao.ingest import vocabulary
from jixiao.ingest.errors import CellError, FileRejected
from jixiao.ingest.layouts import columnar
from jixiao.ingest.layouts.common import (
    Evidence,
    Extracted,
    clash_error,
    label_key,
    memo,
    project_key,
    row_keys,
    unit_caption,
    unit_or_reject,
)
from jixiao.ingest.values import (
    CELL_UNIT_RE,
    compact,
    is_blank,
    normalize_text,
    parse_amount,
    parse_date,
    parse_int,
    parse_measure,
    parse_period,
    parse_rate,
    parse_score,
    parse_weight,
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


def _ledgers() -> dict[str, tuple[Col, ...]]:
    """Column definitions per ledger kind, from the vocabulary file (列定义来自词表)."""
    out: dict[str, tuple[Col, ...]] = {}
    for kind, spec in vocabulary.entry("ledgers").items():
        required = set(spec.get("required", ()))
        out[kind] = tuple(
            Col(name, tuple(str(a) for a in aliases), name in required)
            for name, aliases in spec["columns"].items()
        )
    return out


LEDGERS: dict[str, tuple[Col, ...]] = _ledgers()

#: A sheet is a ledger of a kind when its header holds one of these fields (签名列).
SIGNATURES: dict[str, set[str]] = {
    kind: set(spec["signature"]) for kind, spec in vocabulary.entry("ledgers").items()
}
_AMOUNT_SIGNATURE = {"支付金额", "付款金额", "支出金额", "实际支出", "实际支付", "累计支出"}
_PAYMENT_DATE_SIGNATURE = {"支付日期", "付款日期", "payment_date"}
_TOTAL_LABELS = set(vocabulary.terms("rows", "total"))
_NUM_TEXT = r"\d[\d,]*(?:\.\d+)?"

LINE_TYPES = vocabulary.codes("codes", "line_type")
FUND_SOURCES = vocabulary.codes("codes", "fund_source")
EVALUATION_TYPES = vocabulary.codes("codes", "evaluation_type")
STAGE_WORDS = vocabulary.codes("codes", "stage")
STAGES = tuple(str(s) for s in vocabulary.entry("codes", "stage"))
DIRECTIONS = vocabulary.codes("codes", "direction")
INDICATOR_KINDS = vocabulary.codes("codes", "indicator_kind")


#: lower-cased aliases per ledger kind, computed once: kind -> [(field, (alias, ...))]
_ALIASES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    kind: [(col.field, tuple(a.lower() for a in col.aliases)) for col in cols]
    for kind, cols in LEDGERS.items()
}


#: kind -> every alias of its columns; and every alias of any kind (cheap "no hit" tests)
_KIND_ALIASES: dict[str, frozenset[str]] = {
    kind: frozenset(a for _f, aliases in cols for a in aliases) for kind, cols in _ALIASES.items()
}
_ANY_ALIAS: frozenset[str] = frozenset().union(*_KIND_ALIASES.values())
#: the aliases of every column that can sign a kind (its signature columns; for payments also
#: 收款单位/凭证号 and the signing amount and date headers): a row holding none of them cannot
#: be any kind's header, whatever else it holds
_SIGNING_ALIASES: frozenset[str] = frozenset(
    a
    for kind, cols in _ALIASES.items()
    for field, aliases in cols
    if field in SIGNATURES[kind]
    or (kind == "payments" and field in {"payee", "voucher_no", "amount", "payment_date"})
    for a in aliases
)


def match_header(
    row: list[Any], keys: list[str] | None = None
) -> dict[str, dict[str, tuple[int, Any]]]:
    """For each ledger kind, the fields found in ``row``: field -> (column, header text).
    ``keys``: the row's label keys when the caller has them (:func:`common.row_keys`)."""
    first: dict[str, int] = {}
    for i, k in enumerate(keys if keys is not None else _keys(row)):
        first.setdefault(k, i)
    found: dict[str, dict[str, tuple[int, Any]]] = {}
    present = _ANY_ALIAS.intersection(first)
    for kind, cols in _ALIASES.items():
        hits: dict[str, tuple[int, Any]] = {}
        if not present or present.isdisjoint(_KIND_ALIASES[kind]):
            found[kind] = hits  # no label of the row is an alias of this kind's columns
            continue
        used: set[int] = set()
        for field_name, aliases in cols:
            for a in aliases:
                idx = first.get(a)
                if idx is not None and idx not in used:
                    hits[field_name] = (idx, row[idx])
                    used.add(idx)
                    break
        found[kind] = hits
    return found


def _keys(row: list[Any]) -> list[str]:
    return [label_key(v) if isinstance(v, str) else "" for v in row]


LAYOUT = "ledger"


def find_header(sheet: Sheet) -> tuple[str, int, dict[str, tuple[int, Any]]] | None:
    """(kind, header row, columns) of the best-matching ledger header, or None (识别台账)."""
    found: tuple[str, int, dict[str, tuple[int, Any]]] | None = memo(
        sheet, "ledger.detect", _detect
    )
    return found


def detect(sheet: Sheet) -> Evidence | None:
    """Evidence that ``sheet`` is a ledger: its header row's recognised columns (台账证据).

    A signature column of a kind (支付日期/收款单位/凭证号 for payments …) gives 0.3, every
    other recognised column 0.05 (at most 0.5 more); a header lacking a required column
    counts half, since the sheet may well be another layout's table with similar columns.
    """
    found = find_header(sheet)
    if found is None:
        return None
    kind, header_row, hits = found
    score = 0.3 + min(0.05 * (len(hits) - 1), 0.5)
    missing = [c.field for c in LEDGERS[kind] if c.required and c.field not in hits]
    if kind == "payments" and "fiscal_year" not in hits and "payment_date" not in hits:
        missing.append("fiscal_year")
    reasons = [
        f"{kind} header on row {header_row + 1}: "
        + ", ".join(f"{f}={compact(h)}" for f, (_c, h) in hits.items())
    ]
    if missing:
        score /= 2
        reasons.append("missing required: " + ", ".join(missing))
    return Evidence(LAYOUT, score, tuple(reasons), found)


def _detect(sheet: Sheet) -> tuple[str, int, dict[str, tuple[int, Any]]] | None:
    best: tuple[int, str, int, dict[str, tuple[int, Any]]] | None = None
    for r, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        rk = row_keys(sheet, r)
        if rk.n_text < 2 or _SIGNING_ALIASES.isdisjoint(rk.keys):
            continue  # no kind could be signed by this row (a form's label or data row)
        for kind, hits in match_header(row, rk.keys).items():
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
            if kind == "projects" and _is_other_kind(row, rk.keys):
                signed = False
            if signed and len(hits) >= 2 and (best is None or len(hits) > best[0]):
                best = (len(hits), kind, r, hits)
    return (best[1], best[2], best[3]) if best else None


def _is_other_kind(row: list[Any], keys: list[str]) -> bool:
    texts = {k for v, k in zip(row, keys, strict=True) if isinstance(v, str)}
    return bool(texts & {"金额", "支付金额", "评价类型", "阶段", "类型", "评价得分"})


def read_sheet(sheet: Sheet, file_name: str, out: Extracted, context: dict[str, Any]) -> bool:
    """Read one ledger sheet into ``out``; False when the sheet is not a ledger."""
    found = find_header(sheet)
    if found is None:
        return False
    kind, header_row, hits = found
    _check_required(sheet, kind, header_row, hits)
    unit = _amount_unit(sheet, header_row, hits) if "amount" in hits else None
    if "amount" in hits and unit is not None:
        out.unit_cells[sheet.name] = _unit_cell(sheet, header_row, hits)
    out.layouts.add("ledger")
    fast = _FAST_READERS.get(kind) if FAST_PATH else None
    if fast is not None:
        fast(sheet, header_row + 1, hits, unit, out, context)
    else:
        for r in range(header_row + 1, sheet.height):
            read_row(sheet, r, kind, hits, unit, out, context)
    if kind == "payments":
        reported_totals(sheet, header_row, hits, unit, out, context)
    return True


# ------------------------------------------------------------------ reported totals (报告数)
_PAID_RE = re.compile(
    r"(?:实际支付|实际支出|累计支出|支付合计|支出合计|合计支付|已支付)(?:金额|资金)?[:：]?(?:为|达)?"
    rf"({_NUM_TEXT})(万元|元|万)?"
)
_FINAL_RE = re.compile(
    r"(?:实际安排|安排|预算安排|预算)(?:资金|金额)?(?:合计)?[:：]?(?:为|达)?"
    rf"({_NUM_TEXT})(万元|元|万)"
)
_RATE_RE = re.compile(rf"(?:支付率|支出率|执行率|预算执行率)[:：]?(?:为|达|是)?({_NUM_TEXT})%")


def reported_totals(
    sheet: Sheet,
    header_row: int,
    hits: dict[str, tuple[int, Any]],
    unit: str | None,
    out: Extracted,
    context: dict[str, Any],
) -> None:
    """Figures the ledger states about itself: its 合计 row and summary lines such as
    "实际支付 50418.98 万元，支付率 97.61%" -> ``raw.reported_totals`` (报告的合计数).

    They are not data rows, but exactly what the warehouse compares with its own sums. The
    figure is about the sheet's project: the one project of its rows, else their common
    parent in the workbook's register; with no such project it is not kept (nothing to
    compare it with) and the row stays skipped.
    """
    rows = [r for r in out.tables.get("payments", ()) if r["sheet_name"] == sheet.name]
    scope = _scope(rows, context)
    if scope is None:
        return
    years = [r["fiscal_year"] for r in rows if r.get("fiscal_year")]
    base = {
        "sheet_name": sheet.name,
        "_submission": None,
        "project_key": scope,
        "fiscal_year": max(years),
        "period_start_year": min(years),
        "source_table": "payments",
    }
    amount_col = hits["amount"][0]
    for r in range(header_row + 1, sheet.height):
        row = sheet.rows[r]
        if not (_is_total_row(row, hits) or _is_summary(row, hits)):
            continue
        texts = [normalize_text(v).replace(" ", "") for v in row if isinstance(v, str)]
        if _is_total_row(row, hits) and amount_col < len(row) and not is_blank(row[amount_col]):
            try:
                parsed = parse_amount(row[amount_col], unit)
            except CellError as err:
                err.col = amount_col  # type: ignore[attr-defined]
                out.reject(sheet, r, amount_col, err)
                continue
            if parsed:
                out.add("reported_totals", _total_row(base, r, "paid", parsed, row[amount_col]))
        for text in texts:
            for measure, pattern in (("paid", _PAID_RE), ("final", _FINAL_RE)):
                for m in pattern.finditer(text):
                    try:
                        parsed = parse_amount(m.group(1) + (m.group(2) or ""), unit)
                    except CellError:
                        continue
                    if parsed:
                        out.add("reported_totals", _total_row(base, r, measure, parsed, text))
            for m in _RATE_RE.finditer(text):
                out.add(
                    "reported_totals",
                    {
                        **base,
                        "row_number": r + 1,
                        "measure": "pay_rate",
                        "amount_yuan": None,
                        "rate": Decimal(m.group(1).replace(",", "")) / 100,
                        "original_text": text,
                        "original_unit": "%",
                    },
                )


def _total_row(
    base: dict[str, Any], r: int, measure: str, parsed: tuple[Decimal, str], raw: Any
) -> dict[str, Any]:
    return {
        **base,
        "row_number": r + 1,
        "measure": measure,
        "amount_yuan": parsed[0],
        "rate": None,
        "original_text": normalize_text(raw),
        "original_unit": parsed[1],
    }


def _scope(rows: list[dict[str, Any]], context: dict[str, Any]) -> str | None:
    """The one project a sheet's rows are about: theirs, or their common parent (所属项目)."""
    keys = {r["project_key"] for r in rows}
    if len(keys) == 1:
        return next(iter(keys))
    parents = {context.get("parents", {}).get(k) for k in keys}
    if len(parents) == 1 and None not in parents:
        return next(iter(parents))
    return None


def _is_total_row(row: list[Any], hits: dict[str, tuple[int, Any]]) -> bool:
    """A total row says 合计 where the project would be named: its first filled cell is a total
    label and the project code cell is blank or holds that label. A code column that comes
    first (资金来源 "合计" = all sources) does not make a data row a total row (合计行)."""
    filled = [v for v in row if not is_blank(v)]
    if not filled or not isinstance(filled[0], str):
        return False
    if compact(filled[0]).rstrip(":").lower() not in _TOTAL_LABELS:
        return False
    code = _cell_text(row, hits, "project_code") if "project_code" in hits else ""
    return not code or compact(code).lower() in _TOTAL_LABELS


#: Use the column-wise fast path where one exists (tests switch it off to compare).
FAST_PATH = True


def read_row(
    sheet: Sheet,
    r: int,
    kind: str,
    hits: dict[str, tuple[int, Any]],
    unit: str | None,
    out: Extracted,
    context: dict[str, Any],
) -> None:
    """The reference row reader: skip blank and note rows, read or reject one row (逐行读取)."""
    row = sheet.rows[r]
    cells = {f: row[c] if c < len(row) else "" for f, (c, _h) in hits.items()}
    if all(is_blank(v) for v in cells.values()):
        return
    if _is_note(row, hits):
        return
    try:
        if kind != "projects":
            _check_owner(cells, hits, context)
        _READERS[kind](sheet, r, cells, hits, unit, out, context)
    except CellError as err:
        out.reject(sheet, r, getattr(err, "col", None), err)


def _check_owner(
    cells: dict[str, Any], hits: dict[str, tuple[int, Any]], context: dict[str, Any]
) -> None:
    """A data row whose 主管部门 cell names another department than the one that registered
    its project (earlier loads, else this file's register) is rejected (department_clash)."""
    dept = _text(cells.get("department_name"))
    code = _text(cells.get("project_code"))
    if not dept or not code:
        return
    owner = context.get("departments", {}).get(code)
    if owner and compact(owner) != compact(dept):
        err = clash_error(code, str(owner), dept)
        err.col = hits["department_name"][0]  # type: ignore[attr-defined]
        raise err


def _is_note(row: list[Any], hits: dict[str, tuple[int, Any]] | None = None) -> bool:
    """A total row (:func:`_is_total_row`), a summary line, a note under the table ("注：...",
    "填表人：...") or the header printed again inside a long table (表尾、注释与重复表头)."""
    filled = [v for v in row if not is_blank(v)]
    if not filled or not isinstance(filled[0], str):
        return False
    t = compact(filled[0]).rstrip(":").lower()
    if _is_total_row(row, hits or {}):
        return True
    if hits is not None and (_is_header_repeat(row, hits) or _is_summary(row, hits)):
        return True
    return len(filled) == 1 and t.startswith(("注", "说明", "备注", "填表", "审核", "note"))


def _is_summary(row: list[Any], hits: dict[str, tuple[int, Any]]) -> bool:
    """A summary line under the table ("实际支付 50418.98 万元，支付率 97.61%"): no project
    code of its own, and text stating a paid total or a rate (汇总说明行)."""
    code = _cell_text(row, hits, "project_code") if "project_code" in hits else ""
    texts = [normalize_text(v).replace(" ", "") for v in row if isinstance(v, str) and v.strip()]
    if code and code.replace(" ", "") not in texts[:1]:
        return False
    return any(_PAID_RE.search(t) or _RATE_RE.search(t) or _FINAL_RE.search(t) for t in texts)


def _is_header_repeat(row: list[Any], hits: dict[str, tuple[int, Any]]) -> bool:
    """True when ``row`` repeats the table's header (a printed page's header, 重复表头)."""
    same = sum(
        1
        for c, header in hits.values()
        if c < len(row) and isinstance(row[c], str) and label_key(row[c]) == label_key(header)
    )
    return same >= max(2, (len(hits) + 1) // 2)


def _check_required(
    sheet: Sheet, kind: str, header_row: int, hits: dict[str, tuple[int, Any]]
) -> None:
    missing = [c for c in LEDGERS[kind] if c.required and c.field not in hits]
    if kind == "payments" and "fiscal_year" not in hits and "payment_date" not in hits:
        missing.append(Col("fiscal_year", ("年度 或 支付日期",)))
    if missing:
        names = "、".join(c.aliases[0] for c in missing)
        en = ", ".join(c.field for c in missing)
        hint_zh, hint_en = _closest_headers(sheet.rows[header_row], hits, missing)
        raise FileRejected(
            "missing_required_columns",
            f"工作表「{sheet.name}」第 {header_row + 1} 行的表头缺少必填列：{names}{hint_zh}",
            f"sheet '{sheet.name}' header row {header_row + 1} lacks required columns: {en} "
            f"({names}){hint_en}",
            sheet=sheet.name,
            cell=f"{header_row + 1}:{header_row + 1}",
            expected=f"表头包含 {names} / header with {en}",
        )


def _closest_headers(
    row: list[Any], hits: dict[str, tuple[int, Any]], missing: list[Col]
) -> tuple[str, str]:
    """ "表头「支付金钱」最接近「支付金额」" for headers no field took (未识别表头的最近词)."""
    used = {c for c, _h in hits.values()}
    known = tuple(a for col in missing for a in col.aliases)
    pairs = []
    for c, v in enumerate(row):
        if c in used or not isinstance(v, str) or not v.strip():
            continue
        guess = vocabulary.closest(v, tuple(vocabulary.normalise(a) for a in known))
        if guess:
            pairs.append((compact(v), guess))
    if not pairs:
        return "", ""
    zh = "；".join(f"表头「{h}」未识别，最接近的已知列名为「{g}」" for h, g in pairs)
    en = "; ".join(f"header '{h}' is not recognised, closest known: '{g}'" for h, g in pairs)
    return f"（{zh}）", f" ({en})"


def _amount_unit(sheet: Sheet, header_row: int, hits: dict[str, tuple[int, Any]]) -> str | None:
    """The amount column's unit: header suffix, else caption; None when every amount cell
    carries its own unit ("35000万元"); otherwise the file is rejected (missing_unit)."""
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
    if _units_in_cells(sheet, header_row, col):
        return None
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


def _unit_cell(sheet: Sheet, header_row: int, hits: dict[str, tuple[int, Any]]) -> str:
    """The cell that gave the amount column its unit: the header, else the caption's unit."""
    col, header = hits["amount"]
    try:
        in_header = unit_from_label(header)
    except CellError:
        in_header = None
    if in_header is None:
        caption = unit_caption(sheet, header_row)
        if caption:
            return cell_ref(caption[1], caption[2])
    return cell_ref(header_row, col)


def _units_in_cells(sheet: Sheet, header_row: int, col: int) -> bool:
    """True when most of the amount column's cells name their unit (单元格自带单位).

    Then each cell is read in its own unit and a cell without one is a rejected row; when
    few or none do, the column's unit is unknown and the file is rejected (missing_unit).
    """
    with_unit = without = 0
    for row in sheet.rows[header_row + 1 :]:
        v = row[col] if col < len(row) else None
        if is_blank(v) or _is_note(row):
            continue
        if isinstance(v, str) and CELL_UNIT_RE.search(normalize_text(v)):
            with_unit += 1
        else:
            without += 1
    return with_unit > 0 and with_unit >= without


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
    key = vocabulary.normalise(value).replace("其中:", "")
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
    yuan, used = _at("amount", hits, lambda v: parse_amount(v, unit), raw_amount)
    if yuan < 0 and line_type not in ADJUSTMENT_LINE_TYPES:
        _negative(hits, raw_amount, cells.get("line_type"))
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
            # a cut (压减/调减) is stored as its size: the warehouse subtracts cut lines; "-500"
            # and "500" on a 压减 line say the same thing. Any other negative line is rejected.
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
    yuan, used = _at("amount", hits, lambda v: parse_amount(v, unit), raw_amount)
    if yuan < 0:
        _negative(hits, raw_amount, None)
    fund = _fund(cells.get("fund_source"))
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
        "score", hits, parse_score, _required("score", hits, cells.get("score"), "评价得分")
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
            "max_score": _at("max_score", hits, parse_score, cells.get("max_score"))
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
    stage = _code(
        "stage", hits, STAGE_WORDS, _required("stage", hits, cells.get("stage"), "阶段"), "阶段"
    )
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


def _read_indicator(
    sheet: Sheet,
    r: int,
    cells: dict[str, Any],
    hits: dict[str, tuple[int, Any]],
    unit: str | None,
    out: Extracted,
    context: dict[str, Any],
) -> None:
    """One 三级指标 row of an indicator ledger (绩效指标台账, the template's 绩效指标 sheet)."""
    code = _project(cells, hits)
    year = _at(
        "fiscal_year",
        hits,
        parse_year,
        _required("fiscal_year", hits, cells.get("fiscal_year"), "年度"),
    )
    level1 = normalize_text(_required("level1_name", hits, cells.get("level1_name"), "一级指标"))
    level3 = normalize_text(_required("level3_name", hits, cells.get("level3_name"), "三级指标"))
    direction = (
        _code("direction", hits, DIRECTIONS, cells.get("direction"), "指标方向")
        if not is_blank(cells.get("direction"))
        else None
    )
    kind = (
        _code("kind", hits, INDICATOR_KINDS, cells.get("kind"), "指标性质")
        if not is_blank(cells.get("kind"))
        else None
    )
    unit_text = _text(cells.get("unit"))
    target = _at("target", hits, parse_measure, cells.get("target"))
    actual = _at("actual", hits, parse_measure, cells.get("actual"))
    if kind is not None:
        for name, m in (("target", target), ("actual", actual)):
            if m is not None and m.kind != kind:
                err = CellError(
                    "unparseable_value",
                    f"{name} 与指标性质「{cells.get('kind')}」一致 / a {kind} value",
                    f"「{m.text}」与指标性质「{cells.get('kind')}」不符",
                    f"'{m.text}' does not fit the indicator kind '{kind}'",
                )
                err.col = hits[name][0]  # type: ignore[attr-defined]
                raise err
    t_dir = direction if (direction and target and target.kind == "quantitative") else None
    out.add(
        "indicators",
        {
            "sheet_name": sheet.name,
            "row_number": r + 1,
            "_submission": _submit(out, sheet, cells, code, year, context),
            "project_key": code,
            "fiscal_year": year,
            "scheme_code": None,
            "level1_name": level1,
            "level1_weight": None,
            "level2_name": _text(cells.get("level2_name")),
            "level2_weight": None,
            "level3_name": level3,
            "weight": _at("weight", hits, parse_weight, cells.get("weight"))
            if "weight" in hits
            else None,
            "weight_rule_text": None,
            "target_text": target.text if target else None,
            "target_kind": target.kind if target else None,
            "target_direction": (t_dir or target.direction) if target else None,
            "target_value": target.value if target else None,
            "target_unit": (target.unit or unit_text) if target else None,
            "actual_text": actual.text if actual else None,
            "actual_kind": actual.kind if actual else None,
            "actual_value": actual.value if actual else None,
            "actual_unit": (actual.unit or unit_text) if actual else None,
            "reported_score": _at("score", hits, parse_score, cells.get("score"))
            if "score" in hits
            else None,
            "deviation_reason": _text(cells.get("reason")),
            "scoring_rule_text": _text(cells.get("rule")),
        },
    )


#: budget line types whose amount may be written with a minus sign (调减/压减 lines)
ADJUSTMENT_LINE_TYPES = frozenset({"cut"})


def _negative(hits: dict[str, tuple[int, Any]], raw: Any, line_type: Any) -> None:
    """Raise negative_amount for a negative budget or payment amount (负数金额)."""
    seen = normalize_text(raw)
    kind_zh = f"类型「{normalize_text(line_type)}」的预算行" if line_type is not None else "支付"
    kind_en = (
        f"a '{normalize_text(line_type)}' budget line" if line_type is not None else ("a payment")
    )
    err = CellError(
        "negative_amount",
        "不小于 0 的金额；调减请在“类型”列选“压减/调减”并填写正数 / an amount of 0 or more; "
        "for a reduction choose the line type 压减/调减 and type the amount as a positive figure",
        f"金额「{seen}」为负数，{kind_zh}不能为负；如为调减，请将类型改为“压减”或“调减”并填正数，"
        "如为退款或冲销，请填写在原支付行中扣除后的金额",
        f"amount '{seen}' is negative, which {kind_en} cannot be; for a reduction set the line "
        "type to 压减/调减 (cut) and type a positive amount; for a refund or reversal, reduce "
        "the original payment instead",
    )
    err.col = hits["amount"][0]  # type: ignore[attr-defined]
    raise err


def _fund(value: Any) -> str | None:
    """Fund source code for a payment (资金来源): a known label's code, else the text."""
    raw = _text(value)
    return FUND_SOURCES.get(vocabulary.normalise(raw), raw) if raw else None


def _fast_payments(
    sheet: Sheet,
    start: int,
    hits: dict[str, tuple[int, Any]],
    unit: str | None,
    out: Extracted,
    context: dict[str, Any],
) -> None:
    """Payments, column by column; rows the fast path cannot take go to :func:`read_row`."""
    rows = sheet.rows[start:]

    def col(name: str) -> list[Any]:
        return columnar.column(rows, hits[name][0] if name in hits else None)

    n = len(rows)
    plain = columnar.plain_row_flags(rows)
    codes = columnar.texts(col("project_code"))
    pay_dates = columnar.dates(col("payment_date")) if "payment_date" in hits else [None] * n
    years = columnar.years(col("fiscal_year")) if "fiscal_year" in hits else [None] * n
    amounts = columnar.amounts(col("amount"), unit)
    funds = columnar.memo_map(_fund, col("fund_source"))
    depts = columnar.texts(col("department_name"))
    extra = {f: columnar.texts(col(f)) for f in ("payee", "voucher_no", "summary", "category")}
    fail = columnar.FAIL
    departments = context.get("departments", {})
    names = context.get("names", {})
    for i in range(n):
        code, pay_date, year, amount = codes[i], pay_dates[i], years[i], amounts[i]
        if (
            not plain[i]
            or code is None
            or code is fail
            or (depts[i] and departments.get(code) not in (None, depts[i]))
            or pay_date is fail
            or year is fail
            or amount is None
            or amount is fail
            or funds[i] is fail
            or not (year or pay_date)
        ):
            read_row(sheet, start + i, "payments", hits, unit, out, context)
            continue
        year = year or pay_date.year
        sub = out.submission(
            sheet=sheet.name,
            layout="ledger",
            department=depts[i] or departments.get(code) or "未登记部门",
            project_key=code,
            project_name=names.get(code),
            year=year,
        )
        yuan, used, text = amount
        out.add(
            "payments",
            {
                "sheet_name": sheet.name,
                "row_number": start + i + 1,
                "_submission": sub,
                "project_key": code,
                "fiscal_year": year,
                "payment_date": pay_date,
                "amount_yuan": yuan,
                "original_text": text,
                "original_unit": used,
                "fund_source": funds[i],
                "payee": extra["payee"][i],
                "voucher_no": extra["voucher_no"][i],
                "summary": extra["summary"][i],
                "category": extra["category"][i],
            },
        )


_FAST_READERS = {"payments": _fast_payments}

_READERS = {
    "projects": _read_project,
    "budget_lines": _read_budget,
    "payments": _read_payment,
    "evaluations": _read_evaluation,
    "milestones": _read_milestone,
    "indicators": _read_indicator,
}


def register_context(sheets: list[Sheet]) -> dict[str, Any]:
    """Department and name per project code from any projects sheet in the same workbook."""
    ctx: dict[str, Any] = {"departments": {}, "names": {}, "parents": {}}
    for sheet in sheets:
        found = find_header(sheet)
        if not found or found[0] != "projects":
            continue
        _kind, header_row, hits = found
        if "project_code" not in hits:
            continue
        for row in sheet.rows[header_row + 1 :]:
            code = _cell_text(row, hits, "project_code")
            if code and code not in ctx["departments"]:
                # the first registration wins; a second row for the same code is rejected
                # (duplicate_code) by the guards, so it must not decide the department
                ctx["departments"][code] = _cell_text(row, hits, "department_name") or None
                ctx["names"][code] = _cell_text(row, hits, "project_name") or None
                ctx["parents"][code] = _cell_text(row, hits, "parent_project_code") or None
    return ctx


def _cell_text(row: list[Any], hits: dict[str, tuple[int, Any]], name: str) -> str:
    if name not in hits or hits[name][0] >= len(row):
        return ""
    return normalize_text(row[hits[name][0]])
