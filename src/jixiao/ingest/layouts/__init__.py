"""Layout readers (版式读取): A selfeval_form, B scoring_table, C ledger.

:func:`extract` looks at every visible sheet, decides its layout by matching labels, and
collects rows for the raw tables plus row-level rejections. Instruction sheets and sheets that
match no layout are ignored and reported; a workbook where no sheet matches is rejected as
``unknown_template``.
"""

from __future__ import annotations

from typing import Any

from jixiao.ingest.errors import FileRejected
from jixiao.ingest.layouts import ledger, scoring, selfeval
from jixiao.ingest.layouts.common import Extracted
from jixiao.ingest.values import compact
from jixiao.ingest.workbook import Workbook

INSTRUCTION_SHEETS = ("填写说明", "填报说明", "说明", "instructions", "readme", "使用说明")


def extract(
    workbook: Workbook, context: dict[str, Any] | None = None, lookups: set[str] | None = None
) -> Extracted:
    """Rows and rejections from every sheet of ``workbook`` (解析工作簿).

    ``context`` gives department and name per project code from earlier loads; every code
    looked up in it is added to ``lookups`` (so a caller can tell whether a parse made with
    an older context is still valid).
    """
    out = Extracted(ignored=list(workbook.ignored))
    ctx = ledger.register_context(workbook.sheets)
    seen = lookups if lookups is not None else set()
    for key in ("departments", "names"):
        merged = _Recording(seen, (context or {}).get(key, {}))
        merged.update({k: v for k, v in ctx[key].items() if v})
        ctx[key] = merged
    for sheet in workbook.sheets:
        if compact(sheet.name).lower() in INSTRUCTION_SHEETS:
            out.ignored.append(
                {
                    "sheet": sheet.name,
                    "why": "instructions",
                    "message_zh": "填写说明页，已忽略",
                    "message_en": "instructions sheet, ignored",
                }
            )
        elif not any(v not in ("", None) for row in sheet.rows for v in row):
            out.ignored.append(
                {
                    "sheet": sheet.name,
                    "why": "empty",
                    "message_zh": "空工作表，已忽略",
                    "message_en": "empty sheet, ignored",
                }
            )
        elif selfeval.detect(sheet):
            selfeval.read_sheet(sheet, workbook.name, out)
        elif scoring.detect(sheet):
            scoring.read_sheet(sheet, workbook.name, out)
        elif not ledger.read_sheet(sheet, workbook.name, out, ctx):
            out.ignored.append(
                {
                    "sheet": sheet.name,
                    "why": "unknown_layout",
                    "message_zh": "未识别的表格版式，已忽略",
                    "message_en": "layout not recognised, ignored",
                }
            )
    if not out.layouts:
        names = ", ".join(s.name for s in workbook.sheets) or "(无可见工作表 / no visible sheet)"
        raise FileRejected(
            "unknown_template",
            f"没有任何工作表符合已知版式（工作表：{names}）",
            f"no sheet matches a known layout (sheets: {names})",
            sheet=workbook.sheets[0].name if workbook.sheets else None,
            expected="项目支出绩效自评表、指标评分表或台账（见 docs/input-formats.md）/ "
            "a self-evaluation form, scoring table or ledger (see docs/input-formats.md)",
        )
    return out


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
