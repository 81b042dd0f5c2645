"""Shared pieces of the layout readers: output container and label matching (版式读取公共部分)."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jixiao.ingest.errors import CellError, FileRejected, RowRejection
from jixiao.ingest.values import check_year, compact, is_blank, normalize_text, parse_unit
from jixiao.ingest.workbook import Sheet, cell_ref


@dataclass(frozen=True)
class Evidence:
    """Why a layout thinks it can read a sheet (版式识别证据).

    ``score`` adds up what was found: a table's own header columns are strong evidence (0.2 to
    0.4 each kind of header), labels of a header block are medium (about 0.1 each), a title is
    weak (0.05). The registry offers every sheet to every layout and the best score wins; two
    scores within :data:`AMBIGUITY_MARGIN` of each other reject the file naming both layouts.
    ``reasons`` say in words what was found (kept in the load log).
    """

    layout: str
    score: float
    reasons: tuple[str, ...] = ()
    #: anything the detector computed that the reader can reuse (header row, columns ...)
    detail: Any = None


@dataclass
class Extracted:
    """What a layout reader produced from one workbook (解析结果).

    ``tables`` maps a raw table name to rows (dicts keyed by its columns, without the file
    lineage columns, which the loader adds); every row has ``sheet_name`` and ``row_number``.
    ``submissions`` lists (department, project, year) keys; each data row carries
    ``_submission`` (the index into ``submissions``) which the loader turns into an id.
    """

    layouts: set[str] = field(default_factory=set)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rejections: list[RowRejection] = field(default_factory=list)
    submissions: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[dict[str, str]] = field(default_factory=list)
    #: per sheet read: the winning layout, its score and reasons, and the runner-up
    detections: list[dict[str, Any]] = field(default_factory=list)
    #: sheet -> the cell that gave its amounts their unit (header or "金额单位" caption)
    unit_cells: dict[str, str] = field(default_factory=dict)
    _submission_index: dict[tuple[str, str, int], int] = field(default_factory=dict, repr=False)

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.tables.setdefault(table, []).append(row)

    def submission(
        self,
        *,
        sheet: str,
        layout: str,
        department: str,
        project_key: str,
        project_name: str | None,
        year: int,
    ) -> int:
        """Index of the submission for this key in this sheet, created on first use."""
        key = (sheet, project_key, year)
        found = self._submission_index.get(key)
        if found is not None:
            return found
        self._submission_index[key] = len(self.submissions)
        self.submissions.append(
            {
                "sheet_name": sheet,
                "layout": layout,
                "department_name": department,
                "project_key": project_key,
                "project_name": project_name,
                "fiscal_year": year,
            }
        )
        return len(self.submissions) - 1

    def reject(
        self,
        sheet: Sheet,
        row: int,
        col: int | None,
        err: CellError,
        raw: Iterable[Any] | None = None,
    ) -> None:
        """Record a row-level rejection at 0-based (row, col)."""
        values = [normalize_text(v) for v in (raw if raw is not None else sheet.rows[row])]
        while values and values[-1] == "":
            values.pop()
        where = cell_ref(row, col) if col is not None else f"{row + 1}"
        self.rejections.append(
            RowRejection(
                sheet=sheet.name,
                row_number=row + 1,
                cell=cell_ref(row, col) if col is not None else None,
                reason_code=err.reason_code,
                expected=err.expected,
                message_zh=f"工作表「{sheet.name}」{where}：{err.message_zh}；应为：{err.expected}",
                message_en=f"sheet '{sheet.name}' {where}: {err.message_en}; expected: {err.expected}",  # noqa: E501
                raw_values=values,
            )
        )


def label_key(value: Any) -> str:
    """Normalised label: no spaces, lower case, no '*', colon, or trailing (unit) (标签规范化)."""
    return _label_key_text(value) if isinstance(value, str) else _label_key(value)


@lru_cache(maxsize=8192)
def _label_key_text(value: str) -> str:
    """label_key for text, memoised: layout detection asks for the same labels many times."""
    return _label_key(value)


def _label_key(value: Any) -> str:
    t = compact(value).lower().lstrip("*").rstrip(":")
    t = re.sub(r"\([^()]*\)$", "", t)
    return t.rstrip(":")


def project_key(code: str | None, department: str, name: str) -> str:
    """Project code, else '<department>/<project name>' (项目键)."""
    return code if code else f"{department}/{name}"


def find_cells(
    sheet: Sheet, pred: Callable[[str], bool], max_rows: int | None = None
) -> list[tuple[int, int, str]]:
    """(row, col, compact text) of cells whose compact text satisfies ``pred``."""
    return [(r, c, t) for r, c, t, _low in text_cells(sheet, max_rows) if pred(t)]


def cells_starting_with(
    sheet: Sheet, prefixes: tuple[str, ...], max_rows: int | None = None
) -> list[tuple[int, int, str]]:
    """``find_cells(sheet, lambda t: t.startswith(prefixes), max_rows)``, read through the
    sheet's label index (a lower-case prefix of two letters or more can only start a text
    whose lower-case form starts with it; other prefixes scan)."""
    cells = text_cells(sheet, max_rows)
    if not all(len(p) >= 2 and p == p.lower() for p in prefixes):
        return [(r, c, t) for r, c, t, _low in cells if t.startswith(prefixes)]
    grid: _TextGrid = sheet.cache["text_cells"]
    return [
        (r, c, t)
        for r, c, t, _low in (grid.cells[i] for i in grid.starting_with(prefixes, len(cells)))
        if t.startswith(prefixes)
    ]


def memo(sheet: Sheet, key: str, compute: Callable[[Sheet], Any]) -> Any:
    """``compute(sheet)``, once per sheet (detection results are asked for by several layouts
    and again by the reader that wins; kept in the sheet's cache)."""
    if key not in sheet.cache:
        sheet.cache[key] = compute(sheet)
    return sheet.cache[key]


class RowKeys:
    """A header row as the detectors compare it: each cell's :func:`label_key` ('' for a
    cell that is not text) and how many cells hold non-blank text (行标签)."""

    __slots__ = ("keys", "n_text")

    def __init__(self, row: list[Any]) -> None:
        self.keys = [_label_key_text(v) if isinstance(v, str) else "" for v in row]
        self.n_text = sum(1 for v in row if isinstance(v, str) and v.strip())


def row_keys(sheet: Sheet, r: int) -> RowKeys:
    """The :class:`RowKeys` of row ``r``, worked out once per sheet (every layout's header
    scan reads the same top rows: the ledger, sub-project, score and indicator headers)."""
    cached: dict[int, RowKeys] | None = sheet.cache.get("row_keys")
    if cached is None:
        cached = sheet.cache["row_keys"] = {}
    found = cached.get(r)
    if found is None:
        found = cached[r] = RowKeys(sheet.rows[r])
    return found


def text_cells(sheet: Sheet, max_rows: int | None = None) -> list[tuple[int, int, str, str]]:
    """(row, col, compact text, lower-case text) of every text cell, normalised once per sheet.

    Every layout asks for labels many times; the grid is normalised once, row by row as far
    as the asks reach (a ledger's 2,000 payment rows are never normalised when the form
    detectors only look at its first 80), and kept in the sheet's cache; the rows above
    ``max_rows`` are a prefix of it. A ``max_rows`` of 0 or None means the whole sheet. The
    list returned may be the cache itself: read it, do not keep or change it.
    """
    grid: _TextGrid | None = sheet.cache.get("text_cells")
    if grid is None:
        grid = sheet.cache["text_cells"] = _TextGrid()
    height = len(sheet.rows)
    # None or 0 (a table header on the sheet's first row): no rows above it to limit the
    # search to, so a caption or label beside or under the table is looked for everywhere
    want = height if not max_rows else min(max_rows, height)
    if grid.rows < want:
        grid.extend(sheet.rows, want)
    cells = grid.cells
    if want >= grid.rows:
        return cells  # the cache itself: callers only read it, before asking again
    return cells[: bisect.bisect_left(cells, (want,))]


class _TextGrid:
    """The normalised text cells of a sheet's first ``rows`` rows (built lazily by rows), and
    an index from the first two characters of their lower-case text to their positions in
    ``cells`` (label lookups read only the cells that can start with one of their labels)."""

    __slots__ = ("cells", "index", "rows")

    def __init__(self) -> None:
        self.cells: list[tuple[int, int, str, str]] = []
        self.index: dict[str, list[int]] = {}
        self.rows = 0

    def extend(self, rows: list[list[Any]], upto: int) -> None:
        cells, index = self.cells, self.index
        for r in range(self.rows, upto):
            for c, v in enumerate(rows[r]):
                if isinstance(v, str) and v:
                    t = compact_text(v)
                    if t:
                        low = t.lower()
                        index.setdefault(low[:2], []).append(len(cells))
                        cells.append((r, c, t, low))
        self.rows = upto

    def starting_with(self, prefixes: tuple[str, ...], end: int) -> list[int]:
        """Positions (in reading order, below ``end``) of the cells whose lower-case text
        starts with one of ``prefixes`` (the same cells as scanning ``cells[:end]``)."""
        if any(len(p) < 2 for p in prefixes):  # a label of one letter (or none): scan
            return [i for i in range(end) if self.cells[i][3].startswith(prefixes)]
        found: set[int] = set()
        for p in dict.fromkeys(x[:2] for x in prefixes):
            for i in self.index.get(p, ()):
                if i >= end:
                    break
                if self.cells[i][3].startswith(prefixes):
                    found.add(i)
        return sorted(found)


def compact_text(value: str) -> str:
    """:func:`compact` of a text cell; short texts memoised (ledgers repeat their payees,
    categories and summaries on every row, forms their labels on every sheet), long ones not
    (a cache must not keep a hostile file's megabyte cells alive)."""
    return _compact_short(value) if len(value) <= 64 else compact(value)


@lru_cache(maxsize=32768)
def _compact_short(value: str) -> str:
    return compact(value)


def value_right_of(sheet: Sheet, r: int, c: int) -> tuple[Any, int] | None:
    """First non-blank cell right of (r, c) that is not the label itself (merged fill)."""
    label = sheet.get(r, c)
    row = sheet.rows[r]
    for cc in range(c + 1, len(row)):
        v = row[cc]
        if not is_blank(v) and v != label:
            return v, cc
    return None


def labelled_value(
    sheet: Sheet, labels: Iterable[str], max_rows: int | None = None
) -> tuple[str, int, int] | None:
    """Value of a label cell ("项目名称" | value, or "项目名称：value") -> (text, row, col).

    ``labels`` are in priority order: when the sheet has several of them (主管部门 and
    需求单位), the earlier label wins wherever it stands; among cells with the same label
    the first in reading order.
    """
    keys = list(dict.fromkeys(label_key(x) for x in labels))
    prefixes = tuple(keys)
    cells = text_cells(sheet, max_rows)  # builds the grid (and its index) as far as asked
    grid: _TextGrid = sheet.cache["text_cells"]
    best: tuple[int, tuple[str, int, int]] | None = None
    for i in grid.starting_with(prefixes, len(cells)):
        r, c, t, _low = grid.cells[i]
        found = _label_hit(sheet, r, c, t, keys)
        if found is None:
            continue
        rank, value = found
        if best is None or rank < best[0]:
            best = (rank, value)
            if rank == 0:
                break
    return best[1] if best else None


def _label_hit(
    sheet: Sheet, r: int, c: int, t: str, keys: list[str]
) -> tuple[int, tuple[str, int, int]] | None:
    """(priority, (value, row, col)) when the cell at (r, c) is one of ``keys`` with a value."""
    key = label_key(t)
    if key in keys:
        found = value_right_of(sheet, r, c)
        if found is not None:
            return keys.index(key), (normalize_text(found[0]), r, found[1])
        return None
    for i, k in enumerate(keys):
        m = re.match(rf"^{re.escape(k)}[:：]?(.+)$", t, re.IGNORECASE)
        if m and t[len(k) : len(k) + 1] in (":", "："):
            return i, (normalize_text(m.group(1)), r, c)
    return None


def unit_caption(sheet: Sheet, before_row: int | None = None) -> tuple[str, int, int] | None:
    """A "金额单位：万元" caption above ``before_row`` -> (unit, row, col of the unit itself:
    B1 when A1 says "金额单位：" and B1 "万元"); an unknown unit raises naming that cell."""
    for r, c, t in find_cells(
        sheet, lambda t: "金额单位" in t or t.lower().startswith("unit:"), before_row
    ):
        m = re.search(r"(?:金额单位|unit)[:：]?(.*)$", t, re.IGNORECASE)
        raw = m.group(1) if m else ""
        at = c
        if not raw:
            found = value_right_of(sheet, r, c)
            raw, at = (compact(found[0]), found[1]) if found else ("", c)
        if raw:
            return unit_or_reject(raw, sheet, r, at), r, at
    return None


def unit_or_reject(text: str, sheet: Sheet, r: int, c: int) -> str:
    """parse_unit, turning an unknown unit into a file-level rejection naming the cell."""
    try:
        return parse_unit(text)
    except CellError as err:
        raise FileRejected(
            "unknown_unit",
            f"工作表「{sheet.name}」单元格 {cell_ref(r, c)}：{err.message_zh}",
            f"sheet '{sheet.name}' cell {cell_ref(r, c)}: {err.message_en}",
            sheet=sheet.name,
            cell=cell_ref(r, c),
            expected=err.expected,
        ) from err


def raw_json(values: list[str]) -> str:
    return json.dumps(values, ensure_ascii=False)


def merged_span(sheet: Sheet, r: int, c: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The merged range holding 0-based (r, c), if any (所在合并区域); the first in the
    sheet's list when several do. The ranges crossing each row are listed once per sheet."""
    by_row: dict[int, list[tuple[tuple[int, int], tuple[int, int]]]] | None = sheet.cache.get(
        "merged_by_row"
    )
    if by_row is None:
        by_row = sheet.cache["merged_by_row"] = {}
    ranges = by_row.get(r)
    if ranges is None:
        ranges = by_row[r] = [rng for rng in sheet.merged if rng[0][0] <= r <= rng[1][0]]
    for rng in ranges:
        if rng[0][1] <= c <= rng[1][1]:
            return rng
    return None


def unit_in_name(name: str) -> str | None:
    """The unit in an indicator's name: "视频终端接入数量（万路）" -> '万路' (指标名中的单位)."""
    m = re.search(r"\(([^()]{1,8})\)\s*$", normalize_text(name).replace(" ", ""))
    if m and not re.search(r"\d", m.group(1)) and m.group(1) not in ("是/否",):
        return m.group(1)
    return None


def is_note_text(value: Any) -> bool:
    """Text that starts a note under a table (注：/说明：/填表人：…)."""
    t = compact(value)
    return t.startswith(
        ("注:", "注1", "注：", "说明:", "备注:", "填表人", "审核人", "填报人", "note")
    )


def first_text(row: list[Any]) -> str:
    """Compact text of the first non-blank cell of a row."""
    for v in row:
        if not is_blank(v):
            return compact(v)
    return ""


def header_year(sheet: Sheet, year: int, r: int | None = None, c: int | None = None) -> int:
    """A form's year (from its title or header) within plausibility.yaml ``fiscal_years``,
    else the file is rejected ``date_out_of_range`` naming the cell (表头年度超出范围)."""
    try:
        return check_year(year)
    except CellError as err:
        where = cell_ref(r, c) if r is not None and c is not None else None
        at_zh = f"单元格 {where} " if where else ""
        at_en = f"cell {where} " if where else ""
        raise FileRejected(
            "date_out_of_range",
            f"工作表「{sheet.name}」{at_zh}表头年度：{err.message_zh}",
            f"sheet '{sheet.name}' {at_en}header year: {err.message_en}",
            sheet=sheet.name,
            cell=where,
            expected=err.expected,
        ) from err


def field_code(err: CellError) -> str:
    """The file-level reason for a bad header field: its own when out of range, else
    missing_required_field (表头字段的拒绝原因)."""
    return err.reason_code if err.reason_code == "date_out_of_range" else "missing_required_field"


def clash_error(code: str, owner: str, dept: str) -> CellError:
    """``department_clash``: ``code`` is registered by ``owner``, submitted for ``dept``."""
    return CellError(
        "department_clash",
        f"只报送本部门登记的项目；项目「{code}」属于「{owner}」/ only projects your "
        f"department registered; '{code}' belongs to '{owner}'",
        f"项目编码「{code}」已由「{owner}」登记，本文件以「{dept}」的名义报送了该项目的数据；"
        f"请核对项目编码是否填错，或请「{owner}」报送该项目的数据（如项目已划转，请联系数据"
        "管理员办理变更）",
        f"project code '{code}' is registered by '{owner}', but this file submits it for "
        f"'{dept}': check the project code, or have '{owner}' submit this project (if the "
        "project has moved between departments, ask the data steward to record the change)",
    )


def missing_field(sheet: Sheet, label_zh: str, label_en: str) -> FileRejected:
    """A form whose required header field is absent (表头缺少必填项)."""
    return FileRejected(
        "missing_required_field",
        f"工作表「{sheet.name}」找不到必填项「{label_zh}」",
        f"sheet '{sheet.name}' has no '{label_zh}' ({label_en}) field",
        sheet=sheet.name,
        expected=f"「{label_zh}」标签及其值 / a '{label_zh}' label with a value",
    )


def closest_hint(
    row: Iterable[Any], known: Iterable[str], used: Iterable[int] = ()
) -> tuple[str, str]:
    """("（表头「实际完成情况值」未识别，最接近的已知列名为「实际完成值」）", English) for the
    headers of ``row`` no column took, each with the closest of ``known`` (最接近的已知列名);
    ("", "") when none is close."""
    from jixiao.ingest import vocabulary  # the vocabulary module imports values, not us

    taken = set(used)
    pool = tuple(dict.fromkeys(vocabulary.normalise(k) for k in known))
    pairs = []
    for c, v in enumerate(row):
        if c in taken or not isinstance(v, str) or not v.strip():
            continue
        guess = vocabulary.closest(v, pool)
        if guess and guess != vocabulary.normalise(v):
            pairs.append((compact(v), guess))
    if not pairs:
        return "", ""
    zh = "；".join(f"表头「{h}」未识别，最接近的已知列名为「{g}」" for h, g in pairs)
    en = "; ".join(f"header '{h}' is not recognised, closest known: '{g}'" for h, g in pairs)
    return f"（{zh}）", f" ({en})"


def find_columns(
    row: list[Any], spec: dict[str, tuple[str, ...]], keys: list[str] | None = None
) -> dict[str, int]:
    """Columns of a header row whose label starts with one of the spec's prefixes (first hit).

    A cell goes to the first field, in the spec's order, whose prefixes it starts with and
    which no cell left of it took. Which fields a label can start is worked out once per spec
    and label (header scans ask every row of a sheet's top for the same few specs). ``keys``:
    the row's label keys when the caller has them (:func:`row_keys`).
    """
    prefixes, fields_for = _spec_index(spec)
    cols: dict[str, int] = {}
    for c, v in enumerate(row):
        if not isinstance(v, str) or not v.strip():
            continue
        key = keys[c] if keys is not None else _label_key_text(v)
        if not key.startswith(prefixes):
            continue
        fields = fields_for.get(key)
        if fields is None:
            fields = tuple(f for f, ps in spec.items() if key.startswith(ps))
            if len(fields_for) < 4096:
                fields_for[key] = fields
        for field_name in fields:
            if field_name not in cols:
                cols[field_name] = c
                break
    return cols


#: id(spec) -> (the spec's items, every prefix of the spec, label key -> fields it can start)
_SPECS: dict[
    int, tuple[tuple[tuple[str, tuple[str, ...]], ...], tuple[str, ...], dict[str, tuple[str, ...]]]
] = {}


def _spec_index(
    spec: dict[str, tuple[str, ...]],
) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    items = tuple(spec.items())
    found = _SPECS.get(id(spec))
    if found is None or found[0] != items:  # a new spec (or one changed since: start again)
        if len(_SPECS) > 64:  # specs are module constants; a caller's own dicts do not pile up
            _SPECS.clear()
        found = _SPECS[id(spec)] = (items, tuple(p for _f, ps in items for p in ps), {})
    return found[1], found[2]
