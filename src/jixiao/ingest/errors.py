"""Rejections at file and row level (文件级隔离与行级拒绝).

Every rejection carries a machine-readable ``reason_code`` (listed in ``REASON_CODES`` and
documented in docs/input-formats.md), where it happened (file, sheet, cell) and what was
expected, with a message in Chinese and in English.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from jixiao.errors import DataError

#: reason_code -> (short Chinese description, short English description)
REASON_CODES: dict[str, tuple[str, str]] = {
    # file level (the file is quarantined)
    "not_xlsx": ("不是 xlsx 工作簿", "not an xlsx workbook"),
    "corrupt_zip": ("zip 压缩包已损坏", "corrupt zip archive"),
    "legacy_xls": (
        "Excel 5.0/95 或更早的 .xls 格式",
        "Excel 5.0/95 or older .xls (BIFF5 or earlier) workbook",
    ),
    "encrypted": ("工作簿已加密", "encrypted workbook"),
    "macros": ("工作簿包含宏", "workbook carries macros"),
    "zip_bomb": (
        "解压后体积/压缩比/条目数超限",
        "decompressed size, ratio or entry count over the cap",
    ),
    "xml_dtd": ("XML 含 DTD/实体声明", "XML carries a DTD or entity declaration"),
    "absurd_dimensions": ("工作表尺寸异常", "absurd sheet dimensions"),
    "external_links": ("工作簿含外部链接", "workbook carries external links"),
    "formula_no_cached_value": ("公式没有缓存值", "formula without a cached value"),
    "unknown_template": ("无法识别的模板", "unknown template"),
    "ambiguous_layout": (
        "无法确定表格版式（两种版式同样吻合）",
        "ambiguous layout (two fit equally)",
    ),
    "missing_required_columns": ("缺少必填列", "missing required columns"),
    "missing_required_field": ("缺少必填项", "missing required field"),
    "missing_unit": ("缺少金额单位", "missing amount unit"),
    "unknown_unit": ("无法识别的单位", "unknown unit"),
    "unreadable": ("无法读取工作簿", "workbook cannot be read"),
    "unreadable_file": (
        "文件无法读取（权限或磁盘错误）",
        "file cannot be read (permission or I/O error)",
    ),
    "symlink": ("收件箱中的符号链接", "a symbolic link in the inbox"),
    "empty_file": ("空文件", "empty file"),
    "csv_file": ("CSV 或文本文件，而非 xlsx 工作簿", "a CSV or text file, not an xlsx workbook"),
    "xlsb": ("Excel 二进制工作簿（.xlsb）", "Excel binary workbook (.xlsb)"),
    "ods": ("OpenDocument 表格（.ods）", "OpenDocument spreadsheet (.ods)"),
    "resource_limit": (
        "解析超出单个文件的内存或时间上限",
        "parsing exceeded the per-file memory or time budget",
    ),
    "parse_error": ("解析工作簿时发生意外错误", "unexpected error while parsing the workbook"),
    "implausible_amount": (
        "金额按所写单位读取不合理（可能单位写错）",
        "amounts implausible in the unit written (probably the wrong unit)",
    ),
    # row level (the row is rejected, the rest of the file loads)
    "unparseable_value": ("无法解析的值", "unparseable value"),
    "sub_fen_precision": ("金额精度小于分", "amount more precise than one fen"),
    "unknown_code": ("无法识别的代码值", "unknown code value"),
    "missing_value": ("缺少必填值", "missing required value"),
    "value_out_of_range": ("数值超出允许范围或不是有限数", "number out of range or not finite"),
    "negative_amount": ("金额为负数", "negative amount"),
    "date_out_of_range": ("日期或年度超出允许范围", "date or fiscal year out of the allowed range"),
    "duplicate_code": ("同一表中项目编码重复", "the same project code twice in one register"),
    "department_clash": (
        "项目编码已由另一部门登记",
        "project code already registered by another department",
    ),
    "template_example": ("模板示例行未删除或未修改", "the template's example row left in"),
    "reported_mismatch": (
        "报告数与其组成部分不一致（如合计、得分率）",
        "a reported figure disagrees with its parts (a total, a score rate)",
    ),
}


def _check(code: str) -> str:
    if code not in REASON_CODES:
        raise ValueError(f"unknown reason_code {code!r}")
    return code


@dataclass(frozen=True)
class Rejection:
    """Where and why something was rejected (拒绝原因)."""

    reason_code: str
    message_zh: str
    message_en: str
    file: str = ""
    sheet: str | None = None
    cell: str | None = None
    expected: str | None = None

    def __post_init__(self) -> None:
        _check(self.reason_code)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FileRejected(DataError):
    """The whole file cannot be loaded and is quarantined (文件被隔离)."""

    def __init__(
        self,
        reason_code: str,
        message_zh: str,
        message_en: str,
        *,
        sheet: str | None = None,
        cell: str | None = None,
        expected: str | None = None,
        file: str = "",
    ) -> None:
        self.rejection = Rejection(
            reason_code,
            message_zh,
            message_en,
            file=file,
            sheet=sheet,
            cell=cell,
            expected=expected,
        )
        super().__init__(f"[{reason_code}] {message_zh} / {message_en}")

    @property
    def reason_code(self) -> str:
        return self.rejection.reason_code

    def with_file(self, file: str) -> FileRejected:
        """The same rejection naming ``file`` (补充文件名)."""
        r = self.rejection
        return FileRejected(
            r.reason_code,
            r.message_zh,
            r.message_en,
            sheet=r.sheet,
            cell=r.cell,
            expected=r.expected,
            file=file,
        )


@dataclass
class RowRejection:
    """One rejected data row (被拒绝的行)."""

    sheet: str
    row_number: int
    cell: str | None
    reason_code: str
    expected: str
    message_zh: str
    message_en: str
    raw_values: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check(self.reason_code)


class CellError(ValueError):
    """A cell value could not be parsed (单元格值无法解析); becomes a RowRejection."""

    def __init__(self, reason_code: str, expected: str, message_zh: str, message_en: str) -> None:
        self.reason_code = _check(reason_code)
        self.expected = expected
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(message_en)
