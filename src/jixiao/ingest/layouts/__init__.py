"""Layout readers (版式读取) as a registry with scored detection.

Every layout module offers the same interface:

* ``LAYOUT`` – its name (written to the load log and to ``raw.submissions.layout``);
* ``detect(sheet) -> Evidence | None`` – how strongly the sheet looks like this layout, and why;
* ``read_sheet(sheet, file_name, out, context)`` – typed raw rows into ``out``.

:func:`extract` offers every visible sheet to every layout. The best score wins; a sheet
whose best score is below :data:`MIN_SCORE` is ignored and reported (``unknown_layout``, with
what came closest); two layouts within :data:`AMBIGUITY_MARGIN` of each other reject the file
naming both, never a silent guess. A table's own headers are strong evidence, a title weak
(see :class:`~jixiao.ingest.layouts.common.Evidence`). Instruction, cover and empty sheets
are ignored and reported; a workbook where no sheet matches is rejected as
``unknown_template``. Which layout read each sheet, with its score and reasons, is kept in
``Extracted.detections`` (the loader writes it to ``raw.load_log.layout_evidence``).
"""

from __future__ import annotations

from collections import Counter
from types import ModuleType
from typing import Any

from jixiao.ingest import vocabulary
from jixiao.ingest.errors import FileRejected
from jixiao.ingest.layouts import (
    evaluation_form,
    guards,
    ledger,
    scoring,
    selfeval,
    subprojects,
)
from jixiao.ingest.layouts.common import Evidence, Extracted, labelled_value
from jixiao.ingest.workbook import Sheet, Workbook

#: every layout, in no particular order: detection is by score, not by position
LAYOUTS: tuple[ModuleType, ...] = (selfeval, scoring, evaluation_form, subprojects, ledger)
#: below this a sheet is not taken to be of any layout (ignored and reported)
MIN_SCORE = 0.3
#: the winner must beat the runner-up by more than this, else the file is rejected
AMBIGUITY_MARGIN = 0.1
#: when no sheet fits, a sheet this close is read anyway for its reader's precise rejection
WEAK_SCORE = 0.15


def _ignored(sheet: str, why: str, zh: str, en: str) -> dict[str, str]:
    return {"sheet": sheet, "why": why, "message_zh": zh, "message_en": en}


def _skip_reason(sheet: Sheet) -> dict[str, str] | None:
    """Why a sheet is not offered to the layouts at all (说明页、封面、空表), or None."""
    name = vocabulary.normalise(sheet.name)
    if name in vocabulary.terms("sheets", "instructions"):
        return _ignored(
            sheet.name, "instructions", "填写说明页，已忽略", "instructions sheet, ignored"
        )
    if name in vocabulary.terms("sheets", "cover"):
        return _ignored(
            sheet.name, "cover", "封面/目录页，已忽略", "cover or contents sheet, ignored"
        )
    if not any(v not in ("", None) for row in sheet.rows for v in row):
        return _ignored(sheet.name, "empty", "空工作表，已忽略", "empty sheet, ignored")
    return None


def detect(sheet: Sheet) -> list[Evidence]:
    """Every layout's evidence for ``sheet``, best first (each layout asked once)."""
    found = [ev for layout in LAYOUTS if (ev := layout.detect(sheet)) is not None]
    return sorted(found, key=lambda ev: -ev.score)


def choose(sheet: Sheet) -> tuple[ModuleType | None, list[Evidence]]:
    """The layout that reads ``sheet`` (None: none fits), and all the evidence.

    Raises ``FileRejected('ambiguous_layout')`` when the two best are too close to call.
    """
    ranked = detect(sheet)
    if not ranked or ranked[0].score < MIN_SCORE:
        return None, ranked
    best = ranked[0]
    if len(ranked) > 1 and ranked[1].score >= MIN_SCORE:
        second = ranked[1]
        if best.score - second.score <= AMBIGUITY_MARGIN:
            raise FileRejected(
                "ambiguous_layout",
                f"工作表「{sheet.name}」同时像「{_zh(best.layout)}」（{_why(best)}）和"
                f"「{_zh(second.layout)}」（{_why(second)}），无法确定按哪种版式读取",
                f"sheet '{sheet.name}' looks like both '{best.layout}' ({_why(best)}) and "
                f"'{second.layout}' ({_why(second)}); cannot tell which layout to read it as",
                sheet=sheet.name,
                expected="每张工作表只放一种表格（如自评表与台账分开放在不同工作表）/ one kind "
                "of table per sheet (e.g. the self-evaluation form and a ledger on separate "
                "sheets)",
            )
    return _BY_NAME[best.layout], ranked


def extract(
    workbook: Workbook, context: dict[str, Any] | None = None, lookups: set[str] | None = None
) -> Extracted:
    """Rows and rejections from every sheet of ``workbook`` (解析工作簿).

    ``context`` gives department and name per project code from earlier loads; every code
    looked up in it is added to ``lookups`` (so a caller can tell whether a parse made with
    an older context is still valid). After every sheet is read, :func:`guards.apply` rejects
    template examples, duplicate codes and rows for another department's projects, and
    quarantines a file whose amounts are implausible in their unit. A file rejected after its
    department was read names it (:func:`submitting_department`), so the rejection reaches
    that department's feedback.
    """
    out = Extracted(ignored=list(workbook.ignored))
    try:
        return _extract(workbook, context, lookups, out)
    except FileRejected as exc:
        department = submitting_department(out) or _labelled_department(
            workbook, exc.rejection.sheet
        )
        raise exc.with_department(department) from exc


def _labelled_department(workbook: Workbook, sheet_name: str | None) -> str | None:
    """The 主管部门 written in the header block of the rejected sheet, if any (表头部门)."""
    for sheet in workbook.sheets:
        if sheet.name != sheet_name:
            continue
        try:
            found = labelled_value(sheet, vocabulary.entry("labels", "department"))
        except Exception:  # only a hint for the feedback folder: never a second failure
            return None
        return found[0].strip() or None if found else None
    return None


def submitting_department(out: Extracted) -> str | None:
    """The department the rows read so far name (most rows; ties: first by name), or None."""
    counts: Counter[str] = Counter()
    for sub in out.submissions:
        if sub.get("department_name"):
            counts[sub["department_name"]] += 1
    for row in out.tables.get("projects", []):
        if row.get("department_name"):
            counts[row["department_name"]] += 1
    if not counts:
        return None
    return min(counts, key=lambda d: (-counts[d], d))


def _extract(
    workbook: Workbook, context: dict[str, Any] | None, lookups: set[str] | None, out: Extracted
) -> Extracted:
    ctx = ledger.register_context(workbook.sheets)
    seen = lookups if lookups is not None else set()
    prior = _Recording(seen, (context or {}).get("departments", {}))
    registered = {k: v for k, v in ctx["departments"].items() if v}  # this file's registers
    for key in ("departments", "names"):
        merged = _Recording(seen, (context or {}).get(key, {}))
        merged.update({k: v for k, v in ctx[key].items() if v})
        ctx[key] = merged
    nearest: tuple[Sheet, Evidence] | None = None
    for sheet in workbook.sheets:
        skip = _skip_reason(sheet)
        if skip is not None:
            out.ignored.append(skip)
            continue
        layout, ranked = choose(sheet)
        if layout is None and ranked and (nearest is None or ranked[0].score > nearest[1].score):
            nearest = (sheet, ranked[0])
        if layout is None:
            closest = f"（最接近：{_zh(ranked[0].layout)}，{_why(ranked[0])}）" if ranked else ""
            closest_en = f" (closest: {ranked[0].layout}, {_why(ranked[0])})" if ranked else ""
            out.ignored.append(
                _ignored(
                    sheet.name,
                    "unknown_layout",
                    f"未识别的表格版式，已忽略{closest}",
                    f"layout not recognised, ignored{closest_en}",
                )
            )
            continue
        out.detections.append(_detection(sheet, ranked))
        layout.read_sheet(sheet, workbook.name, out, ctx)
    if not out.layouts and nearest is not None and nearest[1].score >= WEAK_SCORE:
        # nothing fits, but one sheet nearly does (a ledger lacking a required column): its
        # own reader says precisely what is missing, which helps the clerk more than
        # "unknown template"
        sheet, evidence = nearest
        _BY_NAME[evidence.layout].read_sheet(sheet, workbook.name, Extracted(), ctx)
    if not out.layouts:
        names = ", ".join(s.name for s in workbook.sheets) or "(无可见工作表 / no visible sheet)"
        raise FileRejected(
            "unknown_template",
            f"没有任何工作表符合已知版式（工作表：{names}）",
            f"no sheet matches a known layout (sheets: {names})",
            sheet=workbook.sheets[0].name if workbook.sheets else None,
            expected="项目支出绩效自评表、指标评分表、评价结果表、子项目支出表或台账（见 "
            "docs/input-formats.md）/ a self-evaluation form, scoring table, evaluation "
            "result, sub-project table or ledger (see docs/input-formats.md)",
        )
    budgets = _Recording(seen, (context or {}).get("budgets", {}))
    guards.apply(workbook, out, prior, registered, budgets)
    return out


_LAYOUT_ZH = {
    "selfeval_form": "项目支出绩效自评表",
    "scoring_table": "指标评分表",
    "ledger": "台账",
    "evaluation_form": "评价结果表",
    "subproject_table": "子项目支出表",
}
_BY_NAME: dict[str, ModuleType] = {m.LAYOUT: m for m in LAYOUTS}


def _zh(layout: str) -> str:
    return _LAYOUT_ZH.get(layout, layout)


def _why(ev: Evidence) -> str:
    return f"{ev.score:.2f}: " + "; ".join(ev.reasons)


def _detection(sheet: Sheet, ranked: list[Evidence]) -> dict[str, Any]:
    best = ranked[0]
    runner = ranked[1] if len(ranked) > 1 else None
    return {
        "sheet": sheet.name,
        "layout": best.layout,
        "score": round(best.score, 3),
        "reasons": list(best.reasons),
        "runner_up": runner.layout if runner else None,
        "runner_up_score": round(runner.score, 3) if runner else None,
    }


class _Recording(dict[str, Any]):
    """A dict that notes every key read from it (记录被查询的键)."""

    def __init__(self, seen: set[str], data: dict[str, Any]) -> None:
        super().__init__(data)
        self.seen = seen

    def get(self, key: str, default: Any = None) -> Any:
        self.seen.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.seen.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.seen.add(key)
        return super().__contains__(key)
