"""Semantic guards over what the layout readers produced (语义校验).

The readers turn each cell into a typed value; some mistakes only show across rows, sheets or
files. :func:`apply` runs after every sheet of a workbook has been read and before anything
is loaded:

* **template examples** (``template_example``): a row whose project code carries the
  template's reserved example prefix (``示例-`` / ``EXAMPLE-``), or a row left exactly as an
  older template printed its example, is rejected: delete the example row;
* **duplicate codes** (``duplicate_code``): the same project code twice in one register
  (same sheet, same years): the second row is rejected naming the first;
* **department ownership** (``department_clash``): rows for a project that an earlier load
  registered under another department are rejected naming both departments and the code;
  projects new to the warehouse are accepted;
* **implausible units** (``implausible_amount``, file level): a project's amounts, or the
  file's, beyond the ceilings of ``plausibility.yaml``, or payments ``unit_ratio`` times the
  project's budget in the same file, quarantine the file showing both readings of the unit.

Rejected rows are taken out of every table (all table rows of that sheet row) so that
``rows read = loaded + rejected`` holds, and submissions left without rows are dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jixiao.ingest import template
from jixiao.ingest.errors import CellError, FileRejected
from jixiao.ingest.layouts.common import Extracted, clash_error
from jixiao.ingest.plausibility import bounds
from jixiao.ingest.values import UNIT_FACTORS, WAN, compact, format_decimal, normalize_text
from jixiao.ingest.workbook import Sheet, Workbook

_Row = dict[str, Any]


def apply(
    workbook: Workbook,
    out: Extracted,
    prior: Mapping[str, Any],
    registered: Mapping[str, Any] | None = None,
    budgets: Mapping[str, Any] | None = None,
) -> None:
    """Run every guard over ``out`` (in place); ``prior`` is project code -> department from
    earlier loads (the run context), ``registered`` the same from this file's own registers
    (the first registration of a code in the file); ``budgets`` optionally project code ->
    {fiscal year: budget in yuan} from earlier loads (compared with ``year_ratio``)."""
    sheets = {s.name: s for s in workbook.sheets}
    dropped: set[tuple[str, int]] = set()
    template_examples(sheets, out, dropped, _looks_like_template(workbook, out))
    duplicate_codes(sheets, out, dropped)
    department_clashes(sheets, out, dropped, prior, registered or {})
    _drop(out, dropped)
    implausible_amounts(out, budgets or {})


# ------------------------------------------------------------------ helpers


def _rows(out: Extracted) -> Iterable[tuple[str, _Row]]:
    for table, rows in out.tables.items():
        for row in rows:
            yield table, row


def _code_col(sheet: Sheet, r: int, code: str) -> int | None:
    """The column of row ``r`` (0-based) holding ``code``, if any (项目编码所在列)."""
    want = compact(code)
    for c, v in enumerate(sheet.rows[r] if r < sheet.height else ()):
        if v not in (None, "") and compact(v) == want:
            return c
    return None


def _reject(
    sheets: dict[str, Sheet],
    out: Extracted,
    dropped: set[tuple[str, int]],
    row: _Row,
    code: str | None,
    err: CellError,
) -> None:
    """Reject the sheet row of ``row`` once (first guard wins) and mark it for dropping."""
    key = (row["sheet_name"], row["row_number"])
    if key in dropped:
        return
    dropped.add(key)
    sheet = sheets.get(row["sheet_name"])
    if sheet is None:  # pragma: no cover - every row comes from a sheet of the workbook
        return
    r = row["row_number"] - 1
    col = _code_col(sheet, r, code) if code else None
    out.reject(sheet, r, col, err, raw=sheet.rows[r] if r < sheet.height else [])


def _drop(out: Extracted, dropped: set[tuple[str, int]]) -> None:
    """Take the rejected sheet rows out of every table; drop submissions left without rows."""
    if not dropped:
        return
    before = {r.get("_submission") for _t, r in _rows(out)} - {None}
    for table in list(out.tables):
        out.tables[table] = [
            r for r in out.tables[table] if (r["sheet_name"], r["row_number"]) not in dropped
        ]
    after = {r.get("_submission") for _t, r in _rows(out)} - {None}
    gone = before - after
    if not gone:
        return
    keep = [i for i in range(len(out.submissions)) if i not in gone]
    index = {old: new for new, old in enumerate(keep)}
    out.submissions[:] = [out.submissions[i] for i in keep]
    out._submission_index.clear()
    for i, s in enumerate(out.submissions):
        out._submission_index[(s["sheet_name"], s["project_key"], s["fiscal_year"])] = i
    for _t, r in _rows(out):
        if r.get("_submission") is not None:
            r["_submission"] = index[r["_submission"]]


def _department_of(out: Extracted, table: str, row: _Row) -> str | None:
    if table == "projects":
        return row.get("department_name")
    idx = row.get("_submission")
    if idx is None:
        return None
    dept = out.submissions[idx].get("department_name")
    return str(dept) if dept else None


# ------------------------------------------------------------------ template examples


def _looks_like_template(workbook: Workbook, out: Extracted) -> bool:
    """A workbook made from ``jixiao template``: its instructions sheet and ledger sheets."""
    names = {s.name for s in workbook.sheets} | {i["sheet"] for i in out.ignored}
    return "填写说明" in names and len(names & set(template.SHEETS)) >= 2


def is_example_code(code: Any) -> bool:
    """True for a project code with the template's reserved example prefix (示例-/EXAMPLE-)."""
    text = normalize_text(code).upper()
    return bool(text) and text.startswith(template.EXAMPLE_PREFIXES)


def _example_err(code: str | None) -> CellError:
    shown = code or ""
    return CellError(
        "template_example",
        "本单位的实际数据（删除模板示例行）/ your own figures (delete the template's example row)",
        f"这是模板自带的示例行（项目编码「{shown}」），不是本单位的数据；请删除该行，或用本单位"
        "的实际项目编码和数据覆盖后再提交",
        f"this is the template's example row (project code '{shown}'), not your data; delete "
        "the row, or overwrite it with your own project code and figures, and submit again",
    )


def template_examples(
    sheets: dict[str, Sheet], out: Extracted, dropped: set[tuple[str, int]], legacy: bool
) -> None:
    """Reject example rows: a reserved-prefix code anywhere, and, in a workbook made from the
    template, a row exactly as an older template printed its example (模板示例行)."""
    examples = {
        name: _norm_row(values) for name, values in template.LEGACY_EXAMPLES.items() if legacy
    }
    example_code: dict[Any, bool] = {}
    for _table, row in _rows(out):
        code = row.get("project_code") or row.get("project_key")
        hit = example_code.get(code)
        if hit is None:
            hit = example_code[code] = is_example_code(code)
        if hit:
            _reject(sheets, out, dropped, row, code, _example_err(code))
            continue
        example = examples.get(row["sheet_name"])
        sheet = sheets.get(row["sheet_name"])
        if example is None or sheet is None or row["row_number"] > sheet.height:
            continue
        if normalize_text(code) != example[0]:
            continue  # cheap first: the example's project code
        if _norm_row(sheet.rows[row["row_number"] - 1]) == example:
            _reject(sheets, out, dropped, row, code, _example_err(code))


def _norm_row(values: Iterable[Any]) -> list[str]:
    out = [normalize_text(v) for v in values]
    while out and out[-1] == "":
        out.pop()
    return out


# ------------------------------------------------------------------ duplicate codes


def duplicate_codes(
    sheets: dict[str, Sheet], out: Extracted, dropped: set[tuple[str, int]]
) -> None:
    """The same project code twice in one register (same sheet and years): the second row
    is rejected naming the first (登记表内项目编码重复)."""
    first: dict[tuple[str, str, Any, Any], int] = {}
    for row in out.tables.get("projects", ()):
        code = row.get("project_code")
        if not code or (row["sheet_name"], row["row_number"]) in dropped:
            continue
        key = (
            row["sheet_name"],
            compact(code),
            row.get("period_start_year"),
            row.get("period_end_year"),
        )
        earlier = first.get(key)
        if earlier is None:
            first[key] = row["row_number"]
            continue
        sheet = row["sheet_name"]
        err = CellError(
            "duplicate_code",
            "同一登记表中每个项目编码只出现一次 / each project code once per register",
            f"项目编码「{code}」在工作表「{sheet}」第 {earlier} 行已经登记过，本行重复；请删除重复"
            "的行，或改正其中一行的项目编码",
            f"project code '{code}' is already registered on row {earlier} of sheet "
            f"'{sheet}'; this row repeats it: delete the duplicate or correct one of the codes",
        )
        _reject(sheets, out, dropped, row, code, err)


# ------------------------------------------------------------------ department ownership


def department_clashes(
    sheets: dict[str, Sheet],
    out: Extracted,
    dropped: set[tuple[str, int]],
    prior: Mapping[str, Any],
    registered: Mapping[str, Any],
) -> None:
    """Rows for a project registered by another department, in an earlier load or earlier in
    this file (its first registration), are rejected (部门归属)."""
    same: dict[tuple[Any, Any], tuple[Any, bool]] = {}  # (code, department) -> (owner, ok)
    for table, row in _rows(out):
        key = row.get("project_code") if table == "projects" else row.get("project_key")
        if not key or (row["sheet_name"], row["row_number"]) in dropped:
            continue
        dept = _department_of(out, table, row)
        found = same.get((key, dept))
        if found is None:
            owner = prior.get(key) or registered.get(key)
            ok = not owner or not dept or dept == "未登记部门" or compact(owner) == compact(dept)
            found = same[(key, dept)] = (owner, ok)
        owner, ok = found
        if ok:
            continue
        err = clash_error(str(key), str(owner), str(dept))
        _reject(sheets, out, dropped, row, str(key), err)


# ------------------------------------------------------------------ implausible units


def yuan_text(yuan: Decimal) -> str:
    """An amount in yuan for a clerk: "45.5 亿元", "45.5 万元", "318 元" (金额的中文读法)."""
    a = abs(yuan)
    if a >= Decimal(10) ** 8:
        return f"{format_decimal((yuan / Decimal(10) ** 8).quantize(Decimal('0.01')))} 亿元"
    if a >= WAN:
        return f"{format_decimal((yuan / WAN).quantize(Decimal('0.01')))} 万元"
    return f"{format_decimal(yuan)} 元"


def _factor(unit: str | None) -> Decimal:
    """Yuan per ``unit`` (seeds/unit_factors.csv); 1 for 元 or no unit."""
    return UNIT_FACTORS.get(unit or "元", Decimal(1))


def _written(yuan: Decimal, unit: str | None) -> str:
    factor = _factor(unit)
    return f"{format_decimal(yuan / factor)} {unit or '元'}"


def _readings(yuan: Decimal, unit: str | None) -> tuple[str, str]:
    """(zh, en) of "as written ... ; if 元 ..." for an amount read in ``unit``."""
    written = _written(yuan, unit)
    zh = f"按所写单位：{written} = {yuan_text(yuan)}"
    en = f"as written: {written} = {yuan_text(yuan)}"
    if _factor(unit) > 1:
        alt = yuan / _factor(unit)
        zh += f"；若实为元：{format_decimal(alt)} 元 = {yuan_text(alt)}"
        en += f"; if the figures are in 元: {format_decimal(alt)} 元 = {yuan_text(alt)}"
    return zh, en


_AMOUNT_TABLES = ("budget_lines", "payments", "funding_reported")


def implausible_amounts(out: Extracted, budgets: Mapping[str, Any] | None = None) -> None:
    """Quarantine a file whose amounts are implausible in the unit written (单位读取不合理)."""
    b = bounds()
    groups: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    units: dict[tuple[Any, ...], str | None] = {}
    totals: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    for table, row in _rows(out):
        if table not in _AMOUNT_TABLES:
            continue
        for column in _yuan_columns(row):
            value = row[column]
            if not isinstance(value, Decimal):
                continue
            fund = row.get("fund_source") if table != "payments" else None
            key = (
                table,
                row["sheet_name"],
                row.get("project_key"),
                row.get("fiscal_year"),
                column,
                row.get("line_type"),
                fund,
            )
            groups[key] += value
            units[key] = row.get("original_unit")
            if fund in (None, "total"):
                totals[(table, column, row.get("line_type"))] += value
    for key, total in groups.items():
        if total > b.max_project_yuan:
            _too_big(out, key, total, units[key], b.max_project_yuan, "project")
    for (table, column, line_type), total in totals.items():
        if total > b.max_file_total_yuan:
            sheet = next(k[1] for k in groups if k[0] == table and k[4] == column)
            unit = next(units[k] for k in groups if k[0] == table and k[4] == column)
            key = (table, sheet, None, None, column, line_type, None)
            _too_big(out, key, total, unit, b.max_file_total_yuan, "file")
    _payments_against_budget(out, groups, units, b.unit_ratio)
    _year_against_year(out, groups, units, b.year_ratio, budgets or {})


@lru_cache(maxsize=64)
def _yuan_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(k for k in keys if k.endswith("_yuan"))


def _yuan_columns(row: _Row) -> tuple[str, ...]:
    """The amount columns (``*_yuan``) of a row, worked out once per set of columns."""
    return _yuan_keys(tuple(row))


def _what(table: str, column: str, line_type: Any) -> tuple[str, str]:
    if table == "payments":
        return "支付金额合计", "payments"
    if table == "budget_lines":
        return f"预算行（{line_type}）合计", f"budget lines ({line_type})"
    return f"项目资金（{column}）", f"funding block ({column})"


def _too_big(
    out: Extracted,
    key: tuple[Any, ...],
    total: Decimal,
    unit: str | None,
    ceiling: Decimal,
    scope: str,
) -> None:
    table, sheet, project, year, column, line_type, _fund = key
    what_zh, what_en = _what(table, column, line_type)
    zh, en = _readings(total, unit)
    where_zh = f"项目「{project}」{year} 年度的" if scope == "project" else "全文件的"
    where_en = f"project '{project}' {year}: " if scope == "project" else "the whole file: "
    limit = yuan_text(ceiling)
    raise _rejected(
        out,
        sheet,
        f"工作表「{sheet}」{where_zh}{what_zh}超过 {limit}，按所写单位读取不合理（{zh}）",
        f"sheet '{sheet}' {where_en}{what_en} exceed {limit}, implausible in the unit written "
        f"({en})",
    )


def _payments_against_budget(
    out: Extracted,
    groups: dict[tuple[Any, ...], Decimal],
    units: dict[tuple[Any, ...], str | None],
    ratio: Decimal,
) -> None:
    """Payments ``ratio`` times the project's budget in the same file (支付额远超预算)."""
    budget: dict[tuple[Any, Any], Decimal] = {}
    for (table, _s, project, year, column, line_type, fund), total in groups.items():
        is_budget = (table == "budget_lines" and line_type in ("initial", "final")) or (
            table == "funding_reported"
            and column in ("initial_budget_yuan", "final_budget_yuan")
            and fund == "total"
        )
        if is_budget and total > 0:
            budget[(project, year)] = max(budget.get((project, year), Decimal(0)), total)
    for key, paid in groups.items():
        table, sheet, project, year, _c, _l, _f = key
        if table != "payments" or _factor(units[key]) == 1:
            continue
        base = budget.get((project, year))
        if base is None or paid <= base * ratio:
            continue
        zh, en = _readings(paid, units[key])
        raise _rejected(
            out,
            sheet,
            f"工作表「{sheet}」项目「{project}」{year} 年度的支付金额合计是本文件中该项目预算"
            f"（{yuan_text(base)}）的 {format_decimal((paid / base).quantize(Decimal(1)))} 倍，"
            f"按所写单位读取不合理（{zh}）",
            f"sheet '{sheet}' project '{project}' {year}: payments are "
            f"{format_decimal((paid / base).quantize(Decimal(1)))} times the project's budget in "
            f"this file ({yuan_text(base)}), implausible in the unit written ({en})",
        )


def _is_budget(table: str, column: str, line_type: Any) -> bool:
    return (table == "budget_lines" and line_type in ("initial", "final")) or (
        table == "funding_reported" and column in ("initial_budget_yuan", "final_budget_yuan")
    )


def _year_against_year(
    out: Extracted,
    groups: dict[tuple[Any, ...], Decimal],
    units: dict[tuple[Any, ...], str | None],
    ratio: Decimal,
    budgets: Mapping[str, Any],
) -> None:
    """A project's amount of one kind read as 万元 that is ``ratio`` times its figure for
    another year in the same file (同一项目不同年度相差万倍: 元写在万元下). Budgets only
    (年初预算, 调整后预算, the funding block's budget columns): payments and spending may
    well start small in a project's first year."""
    by_kind: dict[tuple[Any, ...], list[tuple[Any, Decimal, Any]]] = defaultdict(list)
    for key, total in groups.items():
        table, _sheet, project, year, column, line_type, fund = key
        if year is not None and total > 0 and _is_budget(table, column, line_type):
            by_kind[(table, project, column, line_type, fund)].append((year, total, key))
    for (_t, project, _c, _l, _f), entries in by_kind.items():
        earlier = budgets.get(project) or {}
        years = {y for y, _total, _k in entries}
        for y, amount in earlier.items():
            if y not in years and isinstance(amount, Decimal) and amount > 0:
                entries.append((y, amount, None))
    for entries in by_kind.values():
        if len(entries) < 2:
            continue
        low_year, low, _k = min(entries, key=lambda e: e[1])
        for year, total, key in entries:
            if key is None or _factor(units[key]) == 1 or total < low * ratio:
                continue
            table, sheet, project, _y, column, line_type, _f = key
            what_zh, what_en = _what(table, column, line_type)
            zh, en = _readings(total, units[key])
            times = format_decimal((total / low).quantize(Decimal(1)))
            raise _rejected(
                out,
                sheet,
                f"工作表「{sheet}」项目「{project}」{year} 年度的{what_zh}是 {low_year} 年度"
                f"（{yuan_text(low)}）的 {times} 倍，按所写单位读取不合理（{zh}）",
                f"sheet '{sheet}' project '{project}' {year}: {what_en} are {times} times "
                f"{low_year}'s ({yuan_text(low)}), implausible in the unit written ({en})",
            )


def _rejected(out: Extracted, sheet: str, zh: str, en: str) -> FileRejected:
    cell = out.unit_cells.get(sheet)
    where_zh = f"金额单位见单元格 {cell}" if cell else "请核对金额单位"
    where_en = f"the unit is set in cell {cell}" if cell else "check the money unit"
    return FileRejected(
        "implausible_amount",
        f"{zh}；{where_zh}：如金额按元填写，请把单位改为“元”，否则请核对金额",
        f"{en}; {where_en}: if the amounts are in 元 (yuan), set the unit to 元, otherwise "
        "check the figures",
        sheet=sheet,
        cell=cell,
        expected="金额与所写单位一致（元、千元、万元、亿元）/ amounts in the unit written "
        "(元, 千元, 万元 or 亿元)",
    )
