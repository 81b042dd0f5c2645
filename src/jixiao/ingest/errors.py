"""Rejections at file and row level (文件级隔离与行级拒绝).

Every rejection carries a machine-readable ``reason_code`` (listed in ``REASON_CODES`` and
documented in docs/input-formats.md), where it happened (file, sheet, cell) and what was
expected, with a message in Chinese and in English.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
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
    #: the submitting department when it was read before the rejection (its feedback folder)
    department: str | None = None

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
        department: str | None = None,
    ) -> None:
        self.rejection = Rejection(
            reason_code,
            message_zh,
            message_en,
            file=file,
            sheet=sheet,
            cell=cell,
            expected=expected,
            department=department,
        )
        super().__init__(f"[{reason_code}] {message_zh} / {message_en}")

    @property
    def reason_code(self) -> str:
        return self.rejection.reason_code

    def _replaced(self, **changes: Any) -> FileRejected:
        r = replace(self.rejection, **changes)
        return FileRejected(
            r.reason_code,
            r.message_zh,
            r.message_en,
            sheet=r.sheet,
            cell=r.cell,
            expected=r.expected,
            file=r.file,
            department=r.department,
        )

    def with_file(self, file: str) -> FileRejected:
        """The same rejection naming ``file`` (补充文件名)."""
        return self._replaced(file=file)

    def with_department(self, department: str | None) -> FileRejected:
        """The same rejection naming the submitting department, if not named yet (补充部门)."""
        if self.rejection.department or not department:
            return self
        return self._replaced(department=department)


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


#: reason_code -> (how to fix it, in Chinese; how to fix it, in English): the last column of
#: the feedback workbook a department receives (反馈表“修改方法”). Every code in REASON_CODES
#: has one (tests/unit/test_feedback_reason_fixes.py).
REASON_FIXES: dict[str, tuple[str, str]] = {
    "not_xlsx": (
        "请在 Excel 中打开原表，选择“文件 → 另存为 → Excel 工作簿 (*.xlsx)”后重新报送。",
        "Open the original in Excel, choose File → Save As → Excel Workbook (*.xlsx) and resubmit.",
    ),
    "corrupt_zip": (
        "文件已损坏（可能未完整下载或复制）。请从原始来源重新保存为 .xlsx 后重新报送。",
        "The file is damaged (perhaps an incomplete download or copy). Save it again as .xlsx "
        "from the original and resubmit.",
    ),
    "legacy_xls": (
        "这是 Excel 95 或更早的格式。请用 Excel 打开后另存为“Excel 工作簿 (*.xlsx)”再报送。",
        "This is Excel 95 or older. Open it in Excel and save as Excel Workbook (*.xlsx), then "
        "resubmit.",
    ),
    "encrypted": (
        "请取消工作簿密码（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后重新报送。",
        "Remove the password (File → Info → Protect Workbook → Encrypt with Password, clear it) "
        "and resubmit.",
    ),
    "macros": (
        "请删除宏，另存为不含宏的“Excel 工作簿 (*.xlsx)”（不要用 .xlsm）后重新报送。",
        "Remove the macros and save as a macro-free Excel Workbook (*.xlsx, not .xlsm), then "
        "resubmit.",
    ),
    "zip_bomb": (
        "文件解压后过大。请删除多余的工作表、图片和空白行列，只保留报送内容后重新保存报送。",
        "The file is far too large once unpacked. Delete extra sheets, pictures and empty rows "
        "or columns, keep only the submission, save and resubmit.",
    ),
    "xml_dtd": (
        "文件含不安全的 XML 声明（通常由非 Excel 工具生成）。"
        "请用 Excel 打开并另存为 .xlsx 后报送。",
        "The file carries unsafe XML declarations (usually written by a non-Excel tool). Open "
        "it in Excel, save as .xlsx and resubmit.",
    ),
    "absurd_dimensions": (
        "工作表的已用区域或合并单元格异常大。请删除表格之外的空行空列、取消整行整列的合并后重新报送。",
        "A sheet's used range or a merged range is absurdly large. Delete the empty rows and "
        "columns beyond the table and unmerge whole-row or whole-column merges, then resubmit.",
    ),
    "external_links": (
        "请断开外部链接（数据 → 编辑链接 → 断开链接），把引用其他文件的公式改为数值后重新报送。",
        "Break the external links (Data → Edit Links → Break Link) so formulas that point at "
        "other files become values, then resubmit.",
    ),
    "formula_no_cached_value": (
        "公式没有计算结果。请在 Excel 中打开、按 F9 重新计算并保存后报送（或把公式粘贴为数值）。",
        "A formula has no calculated value. Open the file in Excel, press F9 to recalculate and "
        "save (or paste the formulas as values), then resubmit.",
    ),
    "unknown_template": (
        "未识别出表格。请使用下发的模板（jixiao template 可生成），"
        "保留表头行的原有文字后重新报送。",
        "No known table was recognised. Use the issued template (jixiao template makes one) "
        "and keep its header wording, then resubmit.",
    ),
    "ambiguous_layout": (
        "同一工作表像两种表格。请每张工作表只放一种表格，并使用模板中的表头文字后重新报送。",
        "The sheet looks like two kinds of table. Put one table per sheet, with the template's "
        "header wording, and resubmit.",
    ),
    "missing_required_columns": (
        "表头缺少必填列。请按模板补齐所列的列（列名可参照提示中最接近的已知列名）后重新报送。",
        "The header lacks required columns. Add the columns named (see the closest known "
        "header in the message) as in the template and resubmit.",
    ),
    "missing_required_field": (
        "表中缺少必填项（如项目名称、主管部门、年度）。请在所示单元格填写后重新报送。",
        "A required field (such as project name, department or year) is missing. Fill in the "
        "cell shown and resubmit.",
    ),
    "missing_unit": (
        "请在表头或表格上方写明金额单位（如“金额单位：万元”或“单位：元”）后重新报送。",
        "State the amount unit in the header or above the table (e.g. 金额单位：万元 or "
        "单位：元) and resubmit.",
    ),
    "unknown_unit": (
        "金额单位只能是“元”“千元”“万元”或“亿元”。请把所示单元格的单位改为其中之一，"
        "金额按该单位填写后重新报送。",
        "The amount unit must be 元, 千元, 万元 or 亿元 (yuan, thousand, ten thousand or hundred "
        "million yuan). Change the unit in the cell shown to one of them, with the amounts in "
        "that unit, and resubmit.",
    ),
    "unreadable": (
        "工作簿无法读取。请用 Excel 打开确认能正常显示，另存为新的 .xlsx 文件后重新报送。",
        "The workbook cannot be read. Check that it opens in Excel, save it as a new .xlsx "
        "file and resubmit.",
    ),
    "unreadable_file": (
        "文件无法读取（权限或磁盘错误），并非内容问题。请联系数据管理员检查文件权限，或重新上传。",
        "The file cannot be read (permissions or a disk error), not a content problem. Ask the "
        "data steward to check the file's permissions, or upload it again.",
    ),
    "symlink": (
        "收件箱只接受真实文件，不接受快捷方式或符号链接。请上传文件本身。",
        "The inbox accepts real files only, not shortcuts or symbolic links. Upload the file "
        "itself.",
    ),
    "empty_file": (
        "文件是空的（0 字节），可能保存或上传未完成。请重新保存工作簿后再报送。",
        "The file is empty (0 bytes); saving or uploading probably did not finish. Save the "
        "workbook again and resubmit.",
    ),
    "csv_file": (
        "这是 CSV 或文本文件。请用 Excel 打开，按模板整理后另存为“Excel 工作簿 (*.xlsx)”再报送。",
        "This is a CSV or text file. Open it in Excel, arrange it as in the template, save as "
        "Excel Workbook (*.xlsx) and resubmit.",
    ),
    "xlsb": (
        "这是 Excel 二进制工作簿（.xlsb）。请在 Excel 中另存为“Excel 工作簿 (*.xlsx)”后报送。",
        "This is an Excel binary workbook (.xlsb). In Excel, save it as Excel Workbook (*.xlsx) "
        "and resubmit.",
    ),
    "ods": (
        "这是 OpenDocument 表格（.ods）。请在 WPS/LibreOffice/Excel 中另存为 .xlsx 后报送。",
        "This is an OpenDocument spreadsheet (.ods). Save it as .xlsx in WPS, LibreOffice or "
        "Excel and resubmit.",
    ),
    "resource_limit": (
        "文件过大或过于复杂，超出了单个文件的处理上限。请删除多余的工作表、图片和空白区域，"
        "或把内容拆成几个文件后重新报送。",
        "The file is too large or complex for the per-file limit. Delete extra sheets, "
        "pictures and empty areas, or split it into several files, and resubmit.",
    ),
    "parse_error": (
        "读取时发生意外错误。请用 Excel 打开并另存为新的 .xlsx 后重新报送；"
        "如仍失败，请把文件发给数据管理员。",
        "An unexpected error occurred while reading. Open the file in Excel, save it as a new "
        ".xlsx and resubmit; if it fails again, send the file to the data steward.",
    ),
    "implausible_amount": (
        "金额按所写单位读取不合理，多半是单位写错（如按元填写却标注“万元”）。请核对单位说明与金额，"
        "改正其一后重新报送。",
        "The amounts are implausible in the unit written, most likely the wrong unit (e.g. "
        "yuan typed under a 万元 caption). Check the unit caption against the amounts, correct "
        "one of them and resubmit.",
    ),
    "unparseable_value": (
        "请在所示单元格填写所要求的格式（如数字不带文字、日期写成 2023-03-31、"
        "百分比写成 95%）后重新报送。",
        "Enter the cell shown in the form expected (a number without words, a date such as "
        "2023-03-31, a percentage such as 95%) and resubmit.",
    ),
    "sub_fen_precision": (
        "金额最多保留两位小数（到分；以万元为单位时最多六位小数）。请在所示单元格四舍五入后重新报送。",
        "Amounts may have at most two decimals (one fen; six decimals in 万元). Round the cell "
        "shown and resubmit.",
    ),
    "unknown_code": (
        "所填代码不在允许的取值中。请从模板的下拉列表或填写说明中选择一个值后重新报送。",
        "The code entered is not one of the allowed values. Choose a value from the template's "
        "drop-down list or instructions and resubmit.",
    ),
    "missing_value": (
        "所示单元格为必填项。请填写后重新报送；确实没有数值的请填 0 或按填写说明处理。",
        "The cell shown is required. Fill it in and resubmit; where there truly is no value, "
        "enter 0 or follow the instructions.",
    ),
    "value_out_of_range": (
        "数值超出允许范围或不是有效数字。请核对所示单元格（如得分不超过分值、"
        "比率在 0%~100% 附近）后重新报送。",
        "The number is out of range or not a valid number. Check the cell shown (a score not "
        "above its weight, a rate near 0-100%) and resubmit.",
    ),
    "negative_amount": (
        "金额不能为负数。调减预算请使用“调减”行（填正数），冲销支出请按填写说明单独列示后重新报送。",
        "Amounts may not be negative. Record a budget cut on a 调减 (cut) line as a positive "
        "number, and a reversed payment as the instructions say, then resubmit.",
    ),
    "date_out_of_range": (
        "日期或年度不在允许范围内。请核对所示单元格的年份（如 2023 而不是 1899 或 2999）"
        "后重新报送。",
        "The date or fiscal year is outside the allowed range. Check the year in the cell shown "
        "(e.g. 2023, not 1899 or 2999) and resubmit.",
    ),
    "duplicate_code": (
        "同一张表中项目编码重复。请删除重复的行或改正其中一个编码后重新报送。",
        "The same project code appears twice in one register. Delete the duplicate row or "
        "correct one of the codes and resubmit.",
    ),
    "department_clash": (
        "该项目编码已由另一部门登记。请核对编码是否填错；确属本部门的项目，请联系财政部门确认归属。",
        "This project code is registered by another department. Check the code for a typo; if "
        "the project is yours, ask the finance bureau to confirm who owns it.",
    ),
    "template_example": (
        "请删除模板中的示例行（或替换为本单位的真实数据）后重新报送。",
        "Delete the template's example rows (or replace them with your own data) and resubmit.",
    ),
    "reported_mismatch": (
        "所报合计数或比率与其组成部分计算结果不一致。请核对所示单元格的计算后重新报送。",
        "A reported total or rate disagrees with its parts. Check the calculation in the cell "
        "shown and resubmit.",
    ),
}
