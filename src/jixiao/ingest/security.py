"""Sniffing and safety checks before any workbook is parsed (安全检查与格式嗅探).

The type of a file is decided by its content, never by its extension:

* ``PK\\x03\\x04`` (zip) -> an OOXML package, checked here before calamine sees it;
* ``D0 CF 11 E0 A1 B1 1A E1`` (OLE2 compound file) -> an encrypted OOXML workbook when the
  compound file holds an ``EncryptionInfo`` stream, otherwise a ``.xls`` (BIFF8), checked by
  :func:`inspect_xls`;
* anything else -> not a workbook.

calamine has no decompression limit of its own, so :func:`inspect_package` streams every zip
entry once (bounded by the caps in :class:`Limits`) and rejects zip bombs, DTDs/entities
(XML bombs, XXE), macros, external links, absurd sheet dimensions and formulas without a
cached value before any parser runs. Our own XML parsing uses defusedxml, and
:func:`assert_defusedxml` fails loudly at start-up if openpyxl would parse without it.

The same pass collects what calamine loses: which numeric cells carry a percent number
format (``PackageReport.percent_cells``), so the reader can show them as the person saw them
("81.48%", not 0.8148). For a ``.xls``, :func:`inspect_xls` walks the compound-file
directory and the BIFF8 workbook globals (size cap, FILEPASS encryption, VBA storages and
macro sheets, external workbook references, sheet dimensions) and uses xlrd for the number
formats.
"""

from __future__ import annotations

import functools
import io
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from defusedxml import ElementTree as DefusedET

from jixiao.ingest.errors import FileRejected

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_CHUNK = 1 << 20
_OVERLAP = 64

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"

_DTD_RE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_MACRO_CT_RE = re.compile(rb"macroEnabled|vbaProject|vnd\.ms-excel\.macro|ms-office\.vba", re.I)


@dataclass(frozen=True)
class Limits:
    """Caps applied before parsing (解析前的上限)."""

    max_total_uncompressed: int = 256 * 1024 * 1024  # 256 MiB over all entries
    max_entry_ratio: int = 100  # uncompressed / compressed, per entry
    ratio_min_size: int = 1024 * 1024  # the ratio cap applies above 1 MiB
    max_entries: int = 2000
    max_rows: int = 1_048_576
    max_cols: int = 16_384
    max_cells: int = 20_000_000  # rows x columns of the used area (and of one merged range)
    #: address space a parse worker may add to what it had at start-up (bytes); the worker's
    #: start-up address space (~1.4 GB virtual, ~75 MB resident: pyarrow's reserved arenas)
    #: is not counted, so this is the parse's own budget
    max_worker_memory: int = 1 << 30
    max_parse_seconds: float = 120.0  # wall time one file may spend in a parse worker
    #: two stats of an inbox file this far apart must agree (size, mtime) and its mtime must
    #: be at least this old, or the file is still being written and waits for the next run
    #: (``JIXIAO_STABLE_SECONDS`` overrides the default, e.g. for a test suite that writes its
    #: workbooks a moment before loading them)
    stable_seconds: float = field(
        default_factory=lambda: float(os.environ.get("JIXIAO_STABLE_SECONDS", "2.0"))
    )


DEFAULT_LIMITS = Limits()


@dataclass
class PackageReport:
    """What the pre-parse inspection found (预检结果)."""

    sheet_paths: dict[str, str] = field(default_factory=dict)  # sheet name -> zip path
    hidden_sheets: list[str] = field(default_factory=list)
    dimensions: dict[str, tuple[int, int]] = field(default_factory=dict)  # sheet -> (rows, cols)
    #: 'xlsx' (OOXML zip) or 'xls' (BIFF8 in an OLE2 compound file)
    kind: str = "xlsx"
    #: sheet -> 0-based (row, col) of every numeric cell with a percent number format
    percent_cells: dict[str, set[tuple[int, int]]] = field(default_factory=dict)
    #: sheet -> 0-based (row, col) -> cached error value ("#DIV/0!") of formula cells whose
    #: result is an error: calamine reads those as blank, the reader must see the error
    error_cells: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)
    #: sheet -> (rows, cols) of the used area with every merged range, checked against the
    #: caps: the reader never pads a grid beyond it (merge fill)
    fill_extent: dict[str, tuple[int, int]] = field(default_factory=dict)


def assert_defusedxml() -> None:
    """Fail loudly unless openpyxl parses through defusedxml (确认 defusedxml 已启用)."""
    import openpyxl

    if not getattr(openpyxl, "DEFUSEDXML", False):
        raise RuntimeError(
            "openpyxl 未启用 defusedxml，拒绝解析工作簿（XML 炸弹/XXE 风险）/ "
            "openpyxl is not using defusedxml: refusing to parse workbooks (XML bomb/XXE risk). "
            "Install defusedxml>=0.7.1."
        )


def sniff(path: Path) -> str:
    """Content type of ``path``: 'zip', 'ole2' or raise :class:`FileRejected` (按内容嗅探类型).

    An OLE2 file holding an ``EncryptionInfo`` stream is a password-protected OOXML workbook
    and is rejected here; any other OLE2 file is a candidate ``.xls`` for :func:`inspect_xls`.
    """
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head == OLE2_MAGIC:
        if _ole2_has_encryption_info(path):
            raise _encrypted_ooxml()
        return "ole2"
    if not head:
        raise FileRejected(
            "empty_file",
            "文件是空的（0 字节），没有任何内容；请重新从 Excel 保存为 .xlsx 后再报送",
            "the file is empty (0 bytes); save the workbook again from Excel as .xlsx and resubmit",
            expected="非空的 .xlsx 工作簿 / a non-empty .xlsx workbook",
        )
    kind = next((k for magic, k in _OTHER_MAGIC if head.startswith(magic)), None)
    if kind is None and _looks_like_text(path):
        raise FileRejected(
            "csv_file",
            "这是 CSV/文本文件，不是 Excel 工作簿；请用 Excel 打开它，另存为 Excel 工作簿"
            "（.xlsx）后再报送",
            "this is a CSV/text file, not an Excel workbook: open it in Excel and save as "
            ".xlsx, then resubmit",
            expected=".xlsx (Excel 工作簿 / Excel workbook)",
        )
    what_zh, what_en = kind or ("其他类型的文件", "another kind of file")
    raise FileRejected(
        "not_xlsx",
        f"文件内容不是 Excel 工作簿，而是{what_zh}（只是扩展名像表格）；请用 Excel 打开原表格，"
        "另存为 Excel 工作簿（.xlsx）后再报送",
        f"the file content is not an Excel workbook but {what_en} (it starts with bytes "
        f"{head[:4].hex()}, not a zip or OLE2 header); open the original table in Excel, save "
        "as .xlsx and resubmit",
        expected=".xlsx (Office Open XML, zip)",
    )


#: file kinds that are not workbooks, by their first bytes (not mistaken for CSV text)
_OTHER_MAGIC: tuple[tuple[bytes, tuple[str, str]], ...] = (
    (b"%PDF-", ("PDF 文档", "a PDF document")),
    (b"\x89PNG", ("PNG 图片", "a PNG image")),
    (b"\xff\xd8\xff", ("JPEG 图片", "a JPEG image")),
    (b"GIF8", ("GIF 图片", "a GIF image")),
    (b"{\\rtf", ("RTF 文档", "an RTF document")),
    (b"Rar!", ("RAR 压缩包", "a RAR archive")),
    (b"7z\xbc\xaf", ("7z 压缩包", "a 7z archive")),
    (b"\x1f\x8b", ("gzip 压缩包", "a gzip archive")),
)
_TEXT_CONTROLS = frozenset(range(32)) - {9, 10, 12, 13}


def _looks_like_text(path: Path, size: int = 8192) -> bool:
    """True when the file's start is text (UTF-8, GB18030 or UTF-16 with BOM): a CSV/TXT."""
    import codecs

    with path.open("rb") as fh:
        head = fh.read(size)
    for bom, enc in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            body = head[len(bom) :]
            text = codecs.getincrementaldecoder(enc)(errors="replace").decode(body)
            return bool(text) and not any(ord(ch) in _TEXT_CONTROLS for ch in text)
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    if any(b in _TEXT_CONTROLS for b in head):
        return False
    for enc in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(enc)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return True
    return False


def _encrypted_ooxml() -> FileRejected:
    return FileRejected(
        "encrypted",
        "工作簿已加密（OLE2 容器含 EncryptionInfo）；请去掉密码后另存为 .xlsx 再报送",
        "the workbook is encrypted (OLE2 container with EncryptionInfo); remove the "
        "password, save as .xlsx and resubmit",
        expected="未加密的 .xlsx / an unencrypted .xlsx",
    )


def _ole2_has_encryption_info(path: Path) -> bool:
    """True when an OLE2 file has an ``EncryptionInfo`` stream (加密的 OOXML).

    Decided on the compound-file directory when it can be read (a ``.xls`` whose cells
    mention "EncryptionInfo" in UTF-16 is not encrypted); a directory that cannot be read
    falls back to looking for the UTF-16LE name anywhere in the file.
    """
    names = _ole2_names(path, DEFAULT_LIMITS.max_total_uncompressed)
    if names is not None:
        return "encryptioninfo" in names
    needle = "EncryptionInfo".encode("utf-16-le")
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
    return False


def inspect_package(path: Path, limits: Limits = DEFAULT_LIMITS) -> PackageReport:
    """Check an OOXML package before parsing; raise :class:`FileRejected` (解析前检查压缩包)."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileRejected(
            "corrupt_zip",
            "文件已损坏（zip 压缩包不完整，可能是上传或复制时中断）；请在 Excel 中重新打开"
            "并另存为 .xlsx 后再报送",
            f"corrupt zip archive ({exc}); open it in Excel again, save as .xlsx and resubmit",
            expected="完整的 .xlsx 文件 / a complete .xlsx file",
        ) from exc
    with zf:
        infos = zf.infolist()
        _check_entries(infos, limits)
        names = {i.filename for i in infos}
        _check_package_kind(zf, names)
        report, styles_part = _read_workbook_parts(zf, names)
        percent = _percent_styles(zf, styles_part) if styles_part in names else frozenset()
        sheet_by_path = {p: s for s, p in report.sheet_paths.items()}
        for info in infos:
            _scan_entry(zf, info, sheet_by_path.get(info.filename), report, limits, percent)
    return report


def _check_entries(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Entry count, total size and per-entry ratio caps from the central directory."""
    if len(infos) > limits.max_entries:
        raise FileRejected(
            "zip_bomb",
            f"压缩包条目过多：{len(infos)} 个（上限 {limits.max_entries}）",
            f"too many zip entries: {len(infos)} (cap {limits.max_entries})",
            expected=f"<= {limits.max_entries} entries",
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_total_uncompressed:
        raise FileRejected(
            "zip_bomb",
            f"解压后总大小 {total} 字节超过上限 {limits.max_total_uncompressed}",
            f"total uncompressed size {total} bytes exceeds the cap "
            f"{limits.max_total_uncompressed}",
            expected=f"<= {limits.max_total_uncompressed} bytes",
        )
    for i in infos:
        _check_entry_name(i.filename)
        _check_ratio(i.filename, i.file_size, i.compress_size, limits)
        if i.flag_bits & 0x1:
            raise FileRejected(
                "encrypted",
                f"zip 条目 {i.filename} 已加密",
                f"zip entry {i.filename} is encrypted",
                expected="未加密的 .xlsx / an unencrypted .xlsx",
            )


def _check_entry_name(name: str) -> None:
    """An entry whose path leaves the package (``../``, absolute, a drive) is refused: no
    Excel writes one, and an unpacking tool would write outside its folder (路径穿越)."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
        raise FileRejected(
            "corrupt_zip",
            f"压缩包含路径不安全的条目「{name}」（指向包外，Excel 不会写出这种条目，文件可能被"
            "篡改）；请在 Excel 中重新打开并另存为 .xlsx 后再报送",
            f"the zip has an entry with an unsafe path '{name}' (it points outside the "
            "package; Excel never writes one, the file may have been tampered with); open it "
            "in Excel again, save as .xlsx and resubmit",
            expected="条目路径都在包内 / every entry inside the package",
            cell=name,
        )


def _check_ratio(name: str, size: int, compressed: int, limits: Limits) -> None:
    if size > limits.ratio_min_size and size > limits.max_entry_ratio * max(compressed, 1):
        ratio = size // max(compressed, 1)
        raise FileRejected(
            "zip_bomb",
            f"条目 {name} 压缩比 {ratio}:1 超过上限 {limits.max_entry_ratio}:1",
            f"entry {name} has compression ratio {ratio}:1 over the cap {limits.max_entry_ratio}:1",
            expected=f"<= {limits.max_entry_ratio}:1",
        )


def _check_package_kind(zf: zipfile.ZipFile, names: set[str]) -> None:
    """Reject non-workbook zips (naming .xlsb and .ods), macros and external links."""
    if "xl/workbook.bin" in names:
        raise FileRejected(
            "xlsb",
            "这是 Excel 二进制工作簿（.xlsb），无法读取；请在 Excel 中打开，另存为 Excel 工作簿"
            "（.xlsx）后再报送",
            "this is an Excel binary workbook (.xlsb), which is not read; open it in Excel, "
            "save as Excel workbook (.xlsx) and resubmit",
            expected=".xlsx (Excel 工作簿 / Excel workbook)",
        )
    if _is_opendocument(zf, names):
        raise FileRejected(
            "ods",
            "这是 OpenDocument 表格（.ods，WPS/LibreOffice 格式），无法读取；请另存为 Excel "
            "工作簿（.xlsx）后再报送",
            "this is an OpenDocument spreadsheet (.ods, from LibreOffice or WPS), which is not "
            "read; save as Excel workbook (.xlsx) and resubmit",
            expected=".xlsx (Excel 工作簿 / Excel workbook)",
        )
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise FileRejected(
            "not_xlsx",
            "这是一个 zip 压缩包，但不是 Excel 工作簿；请用 Excel 打开原表格，另存为 Excel 工作簿"
            "（.xlsx）后再报送",
            "the file is a zip archive but not an Excel workbook ([Content_Types].xml or "
            "xl/workbook.xml missing); open the original table in Excel, save as .xlsx and "
            "resubmit",
            expected=".xlsx (Office Open XML)",
        )
    macro_parts = sorted(
        n
        for n in names
        if PurePosixPath(n).name.lower().startswith("vbaproject")
        or n.lower().startswith("xl/macrosheets/")
    )
    content_types = zf.read("[Content_Types].xml") if _small(zf, "[Content_Types].xml") else b""
    if macro_parts or _MACRO_CT_RE.search(content_types):
        where = ", ".join(macro_parts) or "[Content_Types].xml"
        raise FileRejected(
            "macros",
            f"工作簿包含宏（{where}）；请另存为不含宏的 .xlsx",
            f"the workbook carries macros ({where}); save it as a macro-free .xlsx",
            expected="不含宏的 .xlsx / a macro-free .xlsx",
            cell=where,
        )
    links = sorted(n for n in names if n.startswith("xl/externalLinks/"))
    if links:
        raise FileRejected(
            "external_links",
            f"工作簿含外部链接（{', '.join(links)}），不会跟随；请粘贴为数值后报送",
            f"the workbook has external links ({', '.join(links)}), which are never followed; "
            "paste them as values and resubmit",
            expected="不含外部链接 / no external links",
        )


def _is_opendocument(zf: zipfile.ZipFile, names: set[str]) -> bool:
    """An OpenDocument package: a ``mimetype`` entry naming opendocument, or content.xml."""
    if (
        "mimetype" in names
        and _small(zf, "mimetype", 1024)
        and b"opendocument" in zf.read("mimetype")
    ):
        return True
    return "content.xml" in names and "META-INF/manifest.xml" in names


def _small(zf: zipfile.ZipFile, name: str, cap: int = 4 * 1024 * 1024) -> bool:
    return zf.getinfo(name).file_size <= cap


def _read_workbook_parts(zf: zipfile.ZipFile, names: set[str]) -> tuple[PackageReport, str]:
    """Sheet names, states and part paths from workbook.xml and its rels (defusedxml).

    Also returns the styles part's path (``xl/styles.xml`` unless the rels say otherwise).
    """
    report = PackageReport()
    styles_part = "xl/styles.xml"
    for part in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        if part in names:
            _reject_dtd(zf.read(part) if _small(zf, part) else b"", part)
    try:
        wb = DefusedET.fromstring(zf.read("xl/workbook.xml"))
        rels = {}
        if "xl/_rels/workbook.xml.rels" in names:
            for rel in DefusedET.fromstring(zf.read("xl/_rels/workbook.xml.rels")):
                target = rel.get("Target", "")
                target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                rels[rel.get("Id")] = target
                if rel.get("Type", "").endswith("/styles"):
                    styles_part = target
    except Exception as exc:  # defusedxml raises its own errors for DTDs and entities
        raise FileRejected(
            "xml_dtd"
            if "DTD" in type(exc).__name__ or "Entit" in type(exc).__name__
            else "corrupt_zip",
            "workbook.xml 无法安全解析（已损坏或含不安全的 XML）；请在 Excel 中重新打开并"
            "另存为 .xlsx 后再报送",
            f"workbook.xml cannot be parsed safely ({exc}); open it in Excel again, save as .xlsx "
            "and resubmit",
            expected="合法的 OOXML / valid OOXML",
        ) from exc
    for sheet in wb.iter(f"{_NS_MAIN}sheet"):
        name = sheet.get("name", "")
        target = rels.get(sheet.get(f"{_NS_REL}id"))
        if target:
            report.sheet_paths[name] = target
        if sheet.get("state") in ("hidden", "veryHidden"):
            report.hidden_sheets.append(name)
    return report, styles_part


#: Built-in number formats that are percentages: 9 ``0%`` and 10 ``0.00%`` (ECMA-376 18.8.30).
_BUILTIN_PERCENT = frozenset({9, 10})
#: Anything in styles.xml that could make a style a percentage: a ``%`` (also as a character
#: reference) in a format code, or a built-in percent id. Without one, styles.xml is not parsed.
_PERCENT_HINT_RE = re.compile(rb"%|&#(?:37|x25);|numFmtId\s*=\s*[\"'](?:9|10)[\"']", re.I)


def is_percent_format(code: str) -> bool:
    """True when an Excel number format code shows the value times 100 with "%" (百分比格式).

    A ``%`` counts unless it is inside a quoted literal (``"%"``), escaped (``\\%``), the
    argument of ``_`` (space the width of) or ``*`` (repeat), or inside a ``[...]`` section
    (colours, conditions, locales).
    """
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if ch == '"':
            end = code.find('"', i + 1)
            i = n if end == -1 else end + 1
            continue
        if ch in "\\_*":
            i += 2
            continue
        if ch == "[":
            end = code.find("]", i + 1)
            i = n if end == -1 else end + 1
            continue
        if ch == "%":
            return True
        i += 1
    return False


def _percent_styles(zf: zipfile.ZipFile, part: str) -> frozenset[int]:
    """Indices of ``cellXfs`` entries (a cell's ``s``) whose number format is a percentage.

    styles.xml is read with defusedxml's iterparse (only the top-level ``numFmts`` and the
    ``cellXfs`` list are looked at); a styles part with no ``%`` and no built-in percent id
    is not parsed at all.
    """
    try:
        data = zf.read(part)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise FileRejected(
            "corrupt_zip",
            f"条目 {part} 已损坏；请在 Excel 中重新打开并另存为 .xlsx 后再报送",
            f"entry {part} is corrupt ({exc}); open it in Excel again, save as .xlsx and resubmit",
            expected="完整的 .xlsx / a complete .xlsx",
        ) from exc
    if not _PERCENT_HINT_RE.search(data):
        return frozenset()
    codes: dict[int, str] = {}
    xf_formats: list[int] = []
    path: list[str] = []
    try:
        for event, elem in DefusedET.iterparse(io.BytesIO(data), events=("start", "end")):
            tag = elem.tag.rpartition("}")[2]
            if event == "start":
                path.append(tag)
                continue
            path.pop()
            parent = path[-1] if path else ""
            if tag == "numFmt" and parent == "numFmts" and len(path) == 2:
                fid = _int_attr(elem.get("numFmtId"))
                if fid is not None:
                    codes[fid] = elem.get("formatCode", "")
            elif tag == "xf" and parent == "cellXfs":
                xf_formats.append(_int_attr(elem.get("numFmtId")) or 0)
                elem.clear()
            elif tag in ("cellXfs", "cellStyleXfs", "dxfs"):
                elem.clear()
    except FileRejected:
        raise
    except Exception as exc:  # defusedxml raises its own errors for DTDs and entities
        raise FileRejected(
            "xml_dtd"
            if "DTD" in type(exc).__name__ or "Entit" in type(exc).__name__
            else "corrupt_zip",
            f"{part} 无法安全解析（已损坏或含不安全的 XML）；请在 Excel 中重新打开并"
            "另存为 .xlsx 后再报送",
            f"{part} cannot be parsed safely ({exc}); open it in Excel again, save as .xlsx and "
            "resubmit",
            expected="合法的 OOXML / valid OOXML",
            cell=part,
        ) from exc
    return frozenset(
        i
        for i, fid in enumerate(xf_formats)
        if (is_percent_format(codes[fid]) if fid in codes else fid in _BUILTIN_PERCENT)
    )


def _int_attr(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _reject_dtd(data: bytes, part: str) -> None:
    if _DTD_RE.search(data):
        raise FileRejected(
            "xml_dtd",
            f"{part} 含 DTD/实体声明（可能是 XML 炸弹或 XXE），拒绝解析",
            f"{part} carries a DTD or entity declaration (possible XML bomb or XXE); refused",
            expected="OOXML 不含 DTD / OOXML without a DTD",
            cell=part,
        )


def _scan_entry(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    sheet: str | None,
    report: PackageReport,
    limits: Limits,
    percent: frozenset[int] = frozenset(),
) -> None:
    """Stream one entry: prolog (DTD), real size, and for worksheets the used area and formulas.

    Every entry's first chunk is checked for a DTD in its XML prolog (a DOCTYPE, and so any
    ENTITY, can only appear before the root element). Entries that are XML are then streamed to
    the end, so zipfile's CRC check proves they decompress to their declared size; worksheets
    are scanned for their largest cell/row reference, ``<dimension>`` and formulas on the way,
    and, when the workbook has percent styles (``percent``), for the numeric cells using one.
    """
    scan = _SheetScan() if sheet is not None else None
    pct = _PercentScan(percent) if sheet is not None and percent else None
    fx = _FormulaScan() if sheet is not None else None
    try:
        with zf.open(info) as fh:
            chunk = fh.read(_CHUNK)
            is_xml = _check_prolog(chunk, fh, info.filename)
            if not is_xml and sheet is None:
                return
            if sheet is not None and _utf16(chunk):
                raise FileRejected(
                    "unreadable",
                    f"工作表「{sheet}」的 XML 是 UTF-16 编码（Excel 只写 UTF-8）；"
                    "请在 Excel 中另存后报送",
                    f"sheet '{sheet}' XML is UTF-16 encoded (Excel writes UTF-8); re-save it "
                    "in Excel and resubmit",
                    sheet=sheet,
                    expected="UTF-8 编码的 OOXML / UTF-8 OOXML",
                )
            tail = b""
            read = 0
            while chunk:
                read += len(chunk)
                if read > info.file_size or read > limits.max_total_uncompressed:
                    raise FileRejected(
                        "zip_bomb",
                        f"条目 {info.filename} 实际解压大小超过声明",
                        f"entry {info.filename} decompresses beyond its declared size",
                        expected="声明大小与实际一致 / declared size matches",
                    )
                if scan is not None:
                    scan.feed(tail + chunk)
                if pct is not None:
                    pct.feed(chunk)
                if fx is not None:
                    fx.feed(chunk, scan is not None and scan.has_formula)
                tail = chunk[-_OVERLAP:]
                chunk = fh.read(_CHUNK)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise FileRejected(
            "corrupt_zip",
            f"条目 {info.filename} 已损坏；请在 Excel 中重新打开并另存为 .xlsx 后再报送",
            f"entry {info.filename} is corrupt ({exc}); open it in Excel again, save as .xlsx "
            "and resubmit",
            expected="完整的 .xlsx / a complete .xlsx",
        ) from exc
    if sheet is None or scan is None:
        return
    rows, cols = scan.extent()
    if rows > limits.max_rows or cols > limits.max_cols or rows * cols > limits.max_cells:
        ref = f"{_col_letters(cols)}{rows}"
        raise FileRejected(
            "absurd_dimensions",
            f"工作表「{sheet}」使用区域到 {ref}（{rows} 行 × {cols} 列），超出上限",
            f"sheet '{sheet}' uses cells up to {ref} ({rows} rows x {cols} columns), over the cap",
            sheet=sheet,
            cell=ref,
            expected=f"<= {limits.max_rows} 行/rows, <= {limits.max_cols} 列/columns, "
            f"<= {limits.max_cells} 单元格/cells",
        )
    report.fill_extent[sheet] = _check_merges(sheet, scan.merges, (rows, cols), limits)
    report.dimensions[sheet] = (scan.max_row, scan.max_col)
    if scan.has_formula:
        errors = fx.result(sheet) if fx is not None else None
        if errors is None:  # a formula cell in another form: parse the part (defusedxml)
            errors = _check_formula_cache(zf, info, sheet)
        if errors:
            report.error_cells[sheet] = errors
    if pct is not None:
        cells = _percent_cells_by_parse(zf, info, percent) if pct.unaddressed else pct.cells
        if cells:
            report.percent_cells[sheet] = cells


#: Any ``r="..."`` attribute (cells ``<c r="B7">`` and rows ``<row r="7">``, either quote,
#: optional spaces around ``=``). It starts with a literal so the regex engine skips ahead
#: fast; other attributes ending in ``r`` (``header="0.3"``) can only raise the estimate.
#: Leading zeros are skipped (``A0001048576`` is row 1048576, not 1048).
_REF_RE = re.compile(rb"r\s*=\s*[\"']([A-Z]{0,3})0*([0-9]{0,7})")
_DIM_RE = re.compile(
    rb"dimension\b[^>]*?\bref\s*=\s*[\"'](?:[A-Z]+[0-9]+:)?([A-Z]{1,3})0*([0-9]{1,7})"
)
_FORMULA_RES = (re.compile(rb"<f[\s>/]"), re.compile(rb":f[\s>/]"))
_PROLOG_MAX = 64 * 1024


_MERGE_RE = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref\s*=\s*[\"']"
    rb"\$?([A-Z]{1,3})\$?0*([0-9]{1,7})(?::\$?([A-Z]{1,3})\$?0*([0-9]{1,7}))?[\"']"
)


def _check_merges(
    sheet: str,
    merges: set[tuple[int, int, int, int]],
    used: tuple[int, int],
    limits: Limits,
) -> tuple[int, int]:
    """A merged range over the caps is ``absurd_dimensions`` before any grid is built (合并区域).

    The reader fills each merged range with its anchor value: one range over millions of cells
    (``A1000:XFD1048576`` in a 3 KB file) would otherwise grow the grid to gigabytes. Refused:
    a range of more than ``max_cells`` cells, or one that makes the used area (``used``: rows,
    columns) with every merged range exceed the caps. Returns that checked extent (rows,
    columns), the most the reader may pad the grid to.
    """
    height, width = used
    for r0, c0, r1, c1 in sorted(merges, key=lambda m: (-max(m[0], m[2]), -max(m[1], m[3]))):
        rows, cols = abs(r1 - r0) + 1, abs(c1 - c0) + 1
        top, right = max(height, r0, r1), max(width, c0, c1)
        if (
            top > limits.max_rows
            or right > limits.max_cols
            or rows * cols > limits.max_cells
            or top * right > limits.max_cells
        ):
            ref = f"{_col_letters(c0)}{r0}:{_col_letters(c1)}{r1}"
            raise FileRejected(
                "absurd_dimensions",
                f"工作表「{sheet}」的合并单元格 {ref} 覆盖 {rows} 行 × {cols} 列 = {rows * cols} "
                f"个单元格（工作表因此扩展到 {top} 行 × {right} 列），超出上限 "
                f"{limits.max_cells}；请在 Excel 中取消这个合并（或只合并表格内需要的单元格）后"
                "再报送",
                f"sheet '{sheet}' has a merged range {ref} over {rows} rows x {cols} columns = "
                f"{rows * cols} cells (stretching the sheet to {top} rows x {right} columns), "
                f"over the cap of {limits.max_cells} cells; unmerge it in Excel "
                "(merge only the cells the table needs) and resubmit",
                sheet=sheet,
                cell=ref,
                expected=f"合并区域及使用区域 <= {limits.max_cells} 单元格 / merged ranges and "
                f"the used area within {limits.max_cells} cells",
            )
        height, width = top, right
    return height, width


#: bytes at each end of a window whose references seed the scan's maximum
_SEED = 16 * 1024


@functools.lru_cache(maxsize=64)
def _refs_above(max_row: int, max_col: int) -> re.Pattern[bytes]:
    """A regex matching where ``_REF_RE`` matches with a column beyond ``max_col`` or a row
    beyond ``max_row`` (and possibly a few other places: every hit is read again).

    ``_REF_RE`` captures up to 3 letters and then, after any zeros, up to 7 digits; a capture
    is larger when it has more letters than ``max_col``'s, or as many and a larger letter at
    the first difference; or more significant digits than ``max_row``, or as many and a
    larger digit at the first difference. Possessive quantifiers take the letters
    and zeros as the capture does, so the engine does not backtrack on the (many) cells that
    are not beyond.
    """
    cs = _col_letters(max_col) if max_col > 0 else ""
    cols = [f"[A-Z]{{{len(cs) + 1}}}"] if len(cs) < 3 else []
    cols += [f"{cs[:i]}[{chr(ord(ch) + 1)}-Z]" for i, ch in enumerate(cs) if ch != "Z"]
    if max_row > 0:
        ds = str(max_row)
        rows = [f"[1-9][0-9]{{{len(ds)}}}"]
        rows += [
            f"{ds[:i]}[{int(d) + 1}-9][0-9]{{{len(ds) - i - 1}}}"
            for i, d in enumerate(ds)
            if d != "9"
        ]
    else:
        rows = ["[1-9]"]
    alts = [*cols, f"[A-Z]{{0,3}}+0*+(?:{'|'.join(rows)})"]
    return re.compile(rb"r\s*+=\s*+[\"'](?:" + "|".join(alts).encode() + b")")


class _SheetScan:
    """Largest row/column referenced by a worksheet's XML, its dimension, formulas and merged
    ranges (工作表预扫)."""

    def __init__(self) -> None:
        self.max_row = self.max_col = self.dim_row = self.dim_col = 0
        self.has_formula = False
        #: merged ranges as 1-based (row0, col0, row1, col1); a set: windows overlap
        self.merges: set[tuple[int, int, int, int]] = set()

    def feed(self, window: bytes) -> None:
        if b"mergeCell" in window:  # _MERGE_RE needs the literal: most sheets have none
            for a, b, c, d in _MERGE_RE.findall(window):
                r0, c0 = int(b), _col_index(a)
                self.merges.add((r0, c0, int(d), _col_index(c)) if c else (r0, c0, r0, c0))
        self._feed_refs(window)
        for col, row in _DIM_RE.findall(window):
            self.dim_col = max(self.dim_col, _col_index(col))
            self.dim_row = max(self.dim_row, int(row))
        if not self.has_formula and (b"<f" in window or b":f" in window):
            self.has_formula = any(r.search(window) for r in _FORMULA_RES)

    def _feed_refs(self, window: bytes) -> None:
        """The largest column and row over every ``_REF_RE`` match of ``window`` (exact).

        Seeded from the window's first and last ``_SEED`` bytes (the header and the last rows
        of a sheet usually hold the largest references), then one pass of
        :func:`_refs_above` finds only the references beyond the seed, each read again with
        ``_REF_RE``: the result equals the maximum over a ``findall`` of every reference,
        without a Python object per cell.
        """
        for start, end in ((0, _SEED), (max(0, len(window) - _SEED), len(window))):
            self._take(_REF_RE.findall(window, start, end))
        above = _refs_above(self.max_row, self.max_col)
        hits = [
            (m[1], m[2]) for h in above.finditer(window) if (m := _REF_RE.match(window, h.start()))
        ]
        self._take(hits)

    def _take(self, refs: list[tuple[bytes, bytes]]) -> None:
        if refs:
            letters, digits = zip(*refs, strict=True)
            top = max(set(letters), key=lambda x: (len(x), x))
            self.max_col = max(self.max_col, _col_index(top) if top else 0)
            self.max_row = max(self.max_row, max(map(int, filter(None, digits)), default=0))

    def extent(self) -> tuple[int, int]:
        return max(self.max_row, self.dim_row), max(self.max_col, self.dim_col)


#: An ``s="N"`` attribute naming one of the given styles (rows carry ``s`` too: see the check
#: of the enclosing tag in :class:`_PercentScan`). It starts with a literal so the regex engine
#: skips ahead fast (a leading look-behind made the scan 30x slower); the byte before it must
#: be whitespace, checked per match.
_STYLE_ATTR = rb"s\s*=\s*[\"'](?:%s)[\"']"
_XML_SPACE = frozenset(b" \t\r\n")
#: The cell tag as Excel, WPS and openpyxl write it: ``<c r="B5" s="3">`` or with ``t="…"``
#: last. When every percent ``s`` attribute of a chunk sits in such a tag, one findall gives
#: the cells; otherwise the chunk takes the general per-match path.
_CANONICAL_CELL = rb'<c r="([A-Z]{1,3})([0-9]{1,7})" s="(?:%s)"(?: t="([^"<>]*)")?/?>'
_CELL_START_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s")
_CELL_R_RE = re.compile(rb"(?<![\w:.-])r\s*=\s*[\"']([A-Z]{1,3})([0-9]{1,7})[\"']")
_CELL_T_RE = re.compile(rb"(?<![\w:.-])t\s*=\s*[\"']([^\"']*)[\"']")
_MAX_TAG = 64 * 1024  # a start tag longer than this is not a cell; it is not carried over


class _PercentScan:
    """Numeric cells whose style is a percent style, from a worksheet's raw XML (百分比单元格).

    The regex only matches ``s`` attributes naming a percent style, so a sheet without such
    cells costs one linear regex pass per chunk; each match is then checked to sit in a
    ``<c …>`` start tag (not a ``<row>``, not text) with a numeric type (no ``t``, or
    ``t="n"``). A start tag cut by a chunk boundary is carried over to the next chunk (XML
    start tags contain no ``<``, so the last ``<`` with no ``>`` after it begins the only tag
    that can be cut). ``unaddressed`` is set when such a cell has no ``r`` attribute (allowed
    by OOXML): positions then need a real parse.
    """

    def __init__(self, styles: frozenset[int]) -> None:
        alt = b"|".join(str(i).encode() for i in sorted(styles))
        self._re = re.compile(_STYLE_ATTR % alt)
        self._canonical = re.compile(_CANONICAL_CELL % alt)
        self._cols: dict[bytes, int] = {}
        self._carry = b""
        self.cells: set[tuple[int, int]] = set()
        self.unaddressed = False

    def feed(self, chunk: bytes) -> None:
        buf = self._carry + chunk if self._carry else chunk
        cut = buf.rfind(b"<")
        if cut != -1 and buf.find(b">", cut) == -1:
            body, self._carry = buf[:cut], buf[cut:]
            if len(self._carry) > _MAX_TAG:
                self._carry = b""
        else:
            body, self._carry = buf, b""
        canonical = self._canonical.findall(body)
        if len(canonical) == len(self._re.findall(body)):
            cols = self._cols
            for letters, digits, typ in canonical:
                if typ in (b"", b"n"):
                    col = cols.get(letters)
                    if col is None:
                        col = cols[letters] = _col_index(letters) - 1
                    self.cells.add((int(digits) - 1, col))
            return
        for m in self._re.finditer(body):
            if m.start() == 0 or body[m.start() - 1] not in _XML_SPACE:
                continue  # "cs=…", "xs=…": another attribute's name ends in s
            start = body.rfind(b"<", max(0, m.start() - _MAX_TAG), m.start())
            if start == -1 or body.find(b">", start, m.start()) != -1:
                continue  # not inside a start tag (text, or a tag already closed)
            if not _CELL_START_RE.match(body, start):
                continue  # <row s="3" customFormat="1">: a row style, not a cell
            end = body.find(b">", m.end(), m.end() + _MAX_TAG)
            tag = body[start : end if end != -1 else m.end()]
            t = _CELL_T_RE.search(tag)
            if t is not None and t.group(1) not in (b"", b"n"):
                continue
            r = _CELL_R_RE.search(tag)
            if r is None:
                self.unaddressed = True
                continue
            self.cells.add((int(r.group(2)) - 1, _col_index(r.group(1)) - 1))


def _percent_cells_by_parse(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, styles: frozenset[int]
) -> set[tuple[int, int]]:
    """Percent cells of a worksheet with cells lacking ``r`` (defusedxml iterparse).

    Rows and cells without ``r`` follow the previous one, as spreadsheet readers do.
    """
    cells: set[tuple[int, int]] = set()
    row = col = -1
    with zf.open(info) as fh:
        for event, elem in DefusedET.iterparse(fh, events=("start", "end")):
            tag = elem.tag.rpartition("}")[2]
            if event == "start":
                if tag == "row":
                    r = _int_attr(elem.get("r"))
                    row, col = (r - 1 if r else row + 1), -1
                elif tag == "c":
                    ref = elem.get("r")
                    m = re.fullmatch(r"([A-Z]{1,3})([0-9]{1,7})", ref or "")
                    if m:
                        row, col = int(m.group(2)) - 1, _col_index(m.group(1)) - 1
                    else:
                        col += 1
                    style = _int_attr(elem.get("s"))
                    if style in styles and elem.get("t") in (None, "", "n"):
                        cells.add((row, col))
                continue
            if tag in ("c", "row"):
                elem.clear()
    return cells


def _check_prolog(first: bytes, fh: Any, part: str) -> bool:
    """Reject a DTD in the XML prolog of ``part``; True when the part is XML (XML 序言检查).

    The prolog is what precedes the root element: an XML declaration, processing
    instructions, comments and whitespace, and (refused here) a ``<!DOCTYPE``, the only place
    entities can be declared. A prolog longer than 64 KiB is refused as suspicious.
    """
    data = first
    while True:
        verdict = _walk_prolog(_as_text_bytes(data))
        if verdict is not None:
            break
        more = fh.read(_CHUNK) if len(data) < _PROLOG_MAX else b""
        if not more:
            verdict = "dtd" if len(data) >= _PROLOG_MAX else "xml"  # truncated: parser fails
            break
        data += more
    if verdict == "dtd":
        _reject_dtd(b"<!DOCTYPE", part)
    return verdict == "xml"


def _walk_prolog(data: bytes) -> str | None:
    """'xml' (root element reached), 'dtd', 'other' (not XML) or None (need more bytes)."""
    pos = 0
    while True:
        while pos < len(data) and data[pos] in b" \t\r\n":
            pos += 1
        if data.startswith(b"<?", pos):
            end, close = data.find(b"?>", pos + 2), 2
        elif data.startswith(b"<!--", pos):
            end, close = data.find(b"-->", pos + 4), 3
        elif data.startswith(b"<!", pos):
            return "dtd"
        elif pos >= len(data) or data[pos:] in (b"<", b"<!", b"<!-"):
            return None
        else:
            return "xml" if data.startswith(b"<", pos) else "other"
        if end == -1:
            return None
        pos = end + close


def _utf16(data: bytes) -> str | None:
    """'utf-16' / 'utf-16-le' / 'utf-16-be' when ``data`` looks like UTF-16 XML, else None."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if data.startswith(b"<\x00"):
        return "utf-16-le"
    if data.startswith(b"\x00<"):
        return "utf-16-be"
    return None


def _as_text_bytes(data: bytes) -> bytes:
    """Bytes of the prolog as ASCII-compatible text (UTF-16 parts decoded, BOM dropped)."""
    enc = _utf16(data)
    if enc:
        return data[: len(data) - len(data) % 2].decode(enc, errors="replace").encode("utf-8")
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


#: A formula cell as Excel, WPS and openpyxl write it: ``<c r="D7" s="2" t="e"><f>1/0</f>
#: <v>#DIV/0!</v></c>`` (the ``<f>`` element also as ``<f .../>`` or ``<f ...>…</f>``, the
#: ``<v>`` optional). The start tag's groups: column, row, the other attributes.
_CELL_TAG_RE = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"((?: [A-Za-z]+="[^"<>]*")*)>')
#: the rest of such a cell from its ``<f``; the regex starts at the (few) formulas, not at
#: every cell, and the cell's start tag right before it is matched with ``_CELL_TAG_RE``
_FORMULA_TAIL_RE = re.compile(
    rb"<f(?:[ \t\r\n][^<>]*)?(?:/>|>[^<]*</f>)(?:<v>([^<]*)</v>|<v */>)?</c>"
)
_FORMULA_START_RE = re.compile(rb"<f[\s>/]")
_MAIN_XMLNS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_MAX_CELL = 1 << 20  # a cell longer than this is not carried over: the part is parsed instead


class _FormulaScan:
    """Formula cells with their cached value, from a worksheet's raw XML (公式缓存值预扫).

    Fed the same chunks as the other scans, so a sheet with formulas needs no second
    decompression and no defusedxml parse when every formula sits in a cell of Excel's form
    (``_CELL_TAG_RE`` then ``_FORMULA_TAIL_RE``; checked per chunk: as many such cells as
    ``<f`` starts) and the sheet's default namespace is SpreadsheetML's (what
    :func:`_check_formula_cache` looks at). Otherwise :meth:`result` returns None and the
    part is parsed as before. A cell cut by a chunk boundary is carried over (the chunk is
    cut after its last ``</c>``).
    """

    def __init__(self) -> None:
        self._carry = b""
        self._first = True
        self.usable = True
        #: the first formula cell without a cached value (sheet order), as "D7"
        self.missing: str | None = None
        self.errors: dict[tuple[int, int], str] = {}

    def feed(self, chunk: bytes, formulas: bool = True) -> None:
        """Take the next chunk; ``formulas`` False (the :class:`_SheetScan` of this and every
        earlier window found no formula) keeps only the carry-over, not the cells."""
        if not self.usable:
            return
        buf = self._carry + chunk if self._carry else chunk
        if self._first:  # wait for the root tag (its namespaces), at most _PROLOG_MAX bytes
            root = buf.find(b"<worksheet")
            end = buf.find(b">", root) if root != -1 else -1
            if end == -1 and len(buf) < _PROLOG_MAX:
                self._carry = buf
                return
            self._first = False
            if end == -1 or _MAIN_XMLNS not in buf[root:end]:
                self.usable = False
                return
            buf = buf[end + 1 :]  # the prolog and the root tag are checked here, not below
        cut = buf.rfind(b"</c>")
        if cut == -1:
            body, self._carry = b"", buf
        else:
            body, self._carry = (buf[: cut + 4] if formulas else b""), buf[cut + 4 :]
        if len(self._carry) > _MAX_CELL:
            self.usable = False
            return
        self._take(body)

    def _take(self, body: bytes) -> None:
        if b"<f" not in body and b":f" not in body:
            return
        if (
            (b":f" in body and _FORMULA_RES[1].search(body))  # a prefixed <x:f>
            or b"xmlns" in body  # a namespace declared below the root
            or b"<!" in body  # a comment or CDATA section: what is markup needs a parser
            or b"<?" in body  # a processing instruction
        ):
            self.usable = False
            return
        cells = []
        for tail in _FORMULA_TAIL_RE.finditer(body):
            at = tail.start()
            tag = _CELL_TAG_RE.fullmatch(body, body.rfind(b"<c ", 0, at), at)
            if tag is None:
                self.usable = False
                return
            cells.append((tag[1], tag[2], tag[3], tail[1]))
        if len(cells) != len(_FORMULA_START_RE.findall(body)):
            self.usable = False
            return
        for letters, digits, attrs, value in cells:
            if not value:
                if self.missing is None:
                    self.missing = (letters + digits).decode()
                continue
            if b' t="e"' in attrs:
                if b"&" in value or b"\r" in value:
                    self.usable = False  # an entity or a CR in the value: the parser's text
                    return
                self.errors[(int(digits) - 1, _col_index(letters) - 1)] = value.decode()

    def result(self, sheet: str) -> dict[tuple[int, int], str] | None:
        """The error cells (raising for a formula without a cached value), or None when the
        sheet must be parsed instead."""
        if self._first:
            self.usable = False  # no root tag seen
        if self.usable and self._carry:
            self._take(self._carry)
            self._carry = b""
        if not self.usable:
            return None
        if self.missing is not None:
            raise _no_cached_value(sheet, self.missing)
        return self.errors


def _no_cached_value(sheet: str, ref: str) -> FileRejected:
    return FileRejected(
        "formula_no_cached_value",
        f"工作表「{sheet}」单元格 {ref} 的公式没有缓存值；请在 Excel 中打开并"
        "重新计算、保存后再报送",
        f"sheet '{sheet}' cell {ref} holds a formula with no cached value; open "
        "it in Excel, recalculate, save and resubmit",
        sheet=sheet,
        cell=ref,
        expected="公式带计算结果 / a formula with its computed value",
    )


def _check_formula_cache(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, sheet: str
) -> dict[tuple[int, int], str]:
    """A formula cell without a cached ``<v>`` is an error, never a zero (公式无缓存值).

    Returns the formula cells whose cached result is an Excel error (``t="e"``: #DIV/0!,
    #N/A, #REF! ...) by 0-based (row, column), so the reader sees the error, not a blank.
    """
    errors: dict[tuple[int, int], str] = {}
    with zf.open(info) as fh:
        for _event, elem in DefusedET.iterparse(fh, events=("end",)):
            if elem.tag != f"{_NS_MAIN}c":
                continue
            f = elem.find(f"{_NS_MAIN}f")
            if f is not None:
                v = elem.find(f"{_NS_MAIN}v")
                if v is None or v.text is None or v.text == "":
                    raise _no_cached_value(sheet, elem.get("r", "?"))
                if elem.get("t") == "e":
                    m = _CELL_REF_RE.fullmatch(elem.get("r", ""))
                    if m:
                        errors[(int(m.group(2)) - 1, _col_index(m.group(1)) - 1)] = str(v.text)
            elem.clear()
    return errors


_CELL_REF_RE = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


def _col_index(letters: bytes | str) -> int:
    n = 0
    for ch in letters if isinstance(letters, str) else letters.decode():
        n = n * 26 + (ord(ch) - 64)
    return n


def _col_letters(n: int) -> str:
    s = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s or "A"


# ------------------------------------------------------------------ .xls (BIFF8 in OLE2)
_RESAVE_ZH = "请在 Excel/WPS 中打开后另存为 .xlsx 再报送"
_RESAVE_EN = "open it in Excel or WPS, save as .xlsx and resubmit"
#: compound-file storages that hold VBA code (Excel: _VBA_PROJECT_CUR/VBA; Word: Macros)
_VBA_STORAGES = frozenset({"_vba_project_cur", "_vba_project", "vba", "macros"})
_BIFF_BOF, _BIFF_EOF, _BIFF_FILEPASS = 0x0809, 0x000A, 0x002F
_BIFF_BOUNDSHEET, _BIFF_SUPBOOK, _BIFF_DIMENSIONS = 0x0085, 0x01AE, 0x0200
_BIFF8 = 0x0600
#: BOUNDSHEET sheet types: 0 worksheet (or dialog), 1 Excel 4.0 macro sheet, 2 chart, 6 VB module
_MACRO_SHEET_TYPES = {1: "Excel 4.0 宏表 / macro sheet", 6: "VB 模块 / VB module"}
#: SUPBOOK "cch" values of the two references that are not another workbook
_SUPBOOK_SELF, _SUPBOOK_ADDIN = 0x0401, 0x3A01


def _unreadable_xls(why_zh: str, why_en: str) -> FileRejected:
    return FileRejected(
        "unreadable",
        f"无法读取 .xls 工作簿（{why_zh}）；{_RESAVE_ZH}",
        f"the .xls workbook cannot be read ({why_en}); {_RESAVE_EN}",
        expected="可由 Excel/WPS 正常打开的 .xls 或 .xlsx / an .xls or .xlsx that Excel opens",
    )


def _ole2_names(path: Path, cap: int) -> set[str] | None:
    """Lower-cased names in an OLE2 file's directory; None if unreadable or over ``cap``."""
    from xlrd.compdoc import CompDoc

    try:
        if path.stat().st_size > cap:
            return None
        return {d.name.lower() for d in CompDoc(path.read_bytes(), logfile=io.StringIO()).dirlist}
    except Exception:  # a damaged compound file: xlrd raises CompDocError, struct/index errors
        return None


def inspect_xls(path: Path, limits: Limits = DEFAULT_LIMITS) -> PackageReport:
    """Check a ``.xls`` (OLE2 compound file, BIFF8) before parsing (解析前检查 .xls).

    Refused: over the size cap (``zip_bomb``: the file is read whole), a damaged compound
    file or BIFF stream (``unreadable``), a password (``encrypted``: FILEPASS record; or an
    ``EncryptionInfo`` stream), VBA storages or Excel 4.0 macro sheets (``macros``), references
    to other workbooks (``external_links``), Excel 5.0/95 and older (``legacy_xls``: no
    ``Workbook`` stream or a BIFF version before BIFF8), an OLE2 file that is no workbook
    (``not_xlsx``), sheets over the dimension caps. The report names hidden sheets, the
    dimensions from each sheet's DIMENSIONS record and the percent-formatted numeric cells.
    """
    from xlrd.compdoc import CompDoc

    size = path.stat().st_size
    if size > limits.max_total_uncompressed:
        raise FileRejected(
            "zip_bomb",
            f".xls 文件大小 {size} 字节超过上限 {limits.max_total_uncompressed}",
            f".xls file size {size} bytes exceeds the cap {limits.max_total_uncompressed}",
            expected=f"<= {limits.max_total_uncompressed} bytes",
        )
    data = path.read_bytes()
    try:
        doc = CompDoc(data, logfile=io.StringIO())
        names = {d.name.lower(): d.name for d in doc.dirlist}
    except Exception as exc:  # CompDocError, struct/index errors on a damaged directory
        raise _unreadable_xls("OLE2 复合文档已损坏", f"corrupt OLE2 compound file: {exc}") from exc
    if "encryptioninfo" in names:
        raise _encrypted_ooxml()
    vba = sorted(names[n] for n in names.keys() & _VBA_STORAGES)
    if vba:
        raise FileRejected(
            "macros",
            f"工作簿包含宏（VBA 存储 {', '.join(vba)}）；请另存为不含宏的 .xlsx",
            f"the workbook carries macros (VBA storage {', '.join(vba)}); save it as a "
            "macro-free .xlsx",
            expected="不含宏的 .xlsx / a macro-free .xlsx",
            cell=vba[0],
        )
    try:
        stream = doc.get_named_stream("Workbook") if "workbook" in names else None
    except Exception as exc:
        raise _unreadable_xls("Workbook 数据流已损坏", f"corrupt Workbook stream: {exc}") from exc
    if stream is None:
        if "book" in names:
            raise _legacy_xls("Excel 5.0/95（BIFF5）", "Excel 5.0/95 (BIFF5)")
        raise FileRejected(
            "not_xlsx",
            "OLE2 复合文档中没有 Excel 工作簿（可能是 Word/PowerPoint 文件）",
            "the OLE2 compound file holds no Excel workbook (a Word or PowerPoint file?)",
            expected=".xlsx 或 .xls 工作簿 / an .xlsx or .xls workbook",
        )
    report = PackageReport(kind="xls")
    for name, offset in _biff_globals(stream, report):
        rows, cols = _biff_dimensions(stream, offset, name)
        if rows > limits.max_rows or cols > limits.max_cols or rows * cols > limits.max_cells:
            ref = f"{_col_letters(cols)}{rows}"
            raise FileRejected(
                "absurd_dimensions",
                f"工作表「{name}」使用区域到 {ref}（{rows} 行 × {cols} 列），超出上限",
                f"sheet '{name}' uses cells up to {ref} ({rows} rows x {cols} columns), "
                "over the cap",
                sheet=name,
                cell=ref,
                expected=f"<= {limits.max_rows} 行/rows, <= {limits.max_cols} 列/columns, "
                f"<= {limits.max_cells} 单元格/cells",
            )
        report.dimensions[name] = (rows, cols)
    report.percent_cells = _xls_percent_cells(data, set(report.hidden_sheets))
    return report


def _legacy_xls(what_zh: str, what_en: str) -> FileRejected:
    return FileRejected(
        "legacy_xls",
        f"这是{what_zh}格式的旧版工作簿，无法可靠读取；{_RESAVE_ZH}",
        f"this workbook is in the {what_en} format, too old to read reliably; {_RESAVE_EN}",
        expected=".xlsx，或 Excel 97-2003 .xls (BIFF8) / .xlsx, or an Excel 97-2003 .xls (BIFF8)",
    )


def _biff_records(stream: bytes, pos: int) -> Iterator[tuple[int, bytes]]:
    """(record type, data) of the BIFF records from ``pos`` to the end of the stream."""
    n = len(stream)
    while pos + 4 <= n:
        rtype, length = (
            int.from_bytes(stream[pos : pos + 2], "little"),
            int.from_bytes(stream[pos + 2 : pos + 4], "little"),
        )
        if pos + 4 + length > n:
            raise _unreadable_xls("BIFF 记录被截断", "truncated BIFF record")
        yield rtype, stream[pos + 4 : pos + 4 + length]
        pos += 4 + length


def _biff_globals(stream: bytes, report: PackageReport) -> list[tuple[str, int]]:
    """Walk the workbook globals: version, FILEPASS, sheets (name, BOF offset), SUPBOOKs.

    Fills ``report.hidden_sheets``; returns the worksheets (visible or not) in order.
    """
    records = _biff_records(stream, 0)
    first = next(records, None)
    if first is None or first[0] != _BIFF_BOF or len(first[1]) < 4:
        raise _unreadable_xls("Workbook 数据流不以 BOF 记录开头", "Workbook stream has no BOF")
    version = int.from_bytes(first[1][:2], "little")
    if version != _BIFF8:
        raise _legacy_xls(f"BIFF 版本 0x{version:04X}", f"BIFF version 0x{version:04X}")
    sheets: list[tuple[str, int]] = []
    for rtype, body in records:
        if rtype == _BIFF_EOF:
            return sheets
        if rtype == _BIFF_FILEPASS:
            raise FileRejected(
                "encrypted",
                "工作簿已设置打开密码（.xls 含 FILEPASS 加密记录）；"
                "请去掉密码后另存为 .xlsx 再报送",
                "the workbook is password-protected (.xls with a FILEPASS encryption record); "
                "remove the password, save as .xlsx and resubmit",
                expected="未加密的 .xlsx 或 .xls / an unencrypted .xlsx or .xls",
            )
        if rtype == _BIFF_BOUNDSHEET and len(body) >= 8:
            offset = int.from_bytes(body[:4], "little")
            state, kind = body[4] & 0x03, body[5]
            name = _biff_short_string(body, 6)
            if kind in _MACRO_SHEET_TYPES:
                raise FileRejected(
                    "macros",
                    f"工作簿包含宏（{_MACRO_SHEET_TYPES[kind]}「{name}」）；请另存为不含宏的 .xlsx",
                    f"the workbook carries macros ({_MACRO_SHEET_TYPES[kind]} '{name}'); save "
                    "it as a macro-free .xlsx",
                    expected="不含宏的 .xlsx / a macro-free .xlsx",
                    sheet=name,
                )
            if state:
                report.hidden_sheets.append(name)
            if kind == 0:
                sheets.append((name, offset))
        elif rtype == _BIFF_SUPBOOK and len(body) >= 4:
            cch = int.from_bytes(body[2:4], "little")
            if cch not in (_SUPBOOK_SELF, _SUPBOOK_ADDIN):
                raise FileRejected(
                    "external_links",
                    "工作簿含外部链接（引用其他工作簿），不会跟随；请粘贴为数值后报送",
                    "the workbook has external links (references to other workbooks), which "
                    "are never followed; paste them as values and resubmit",
                    expected="不含外部链接 / no external links",
                )
    raise _unreadable_xls("Workbook 数据流缺少 EOF 记录", "Workbook stream has no EOF record")


def _biff_short_string(body: bytes, pos: int) -> str:
    """A BIFF8 ShortXLUnicodeString: 1-byte length, flags (bit 0: UTF-16LE), characters."""
    cch, flags = body[pos], body[pos + 1]
    raw = body[pos + 2 : pos + 2 + cch * (2 if flags & 1 else 1)]
    return raw.decode("utf-16-le" if flags & 1 else "latin-1", errors="replace")


def _biff_dimensions(stream: bytes, offset: int, sheet: str) -> tuple[int, int]:
    """(rows, cols) of a worksheet's used area from its DIMENSIONS record ((0, 0) if none)."""
    if (
        offset + 4 > len(stream)
        or int.from_bytes(stream[offset : offset + 2], "little") != _BIFF_BOF
    ):
        raise _unreadable_xls(
            f"工作表「{sheet}」的位置无效", f"sheet '{sheet}' points to no BOF record"
        )
    for rtype, body in _biff_records(
        stream, offset + 4 + int.from_bytes(stream[offset + 2 : offset + 4], "little")
    ):
        if rtype == _BIFF_DIMENSIONS and len(body) >= 12:
            rows = int.from_bytes(body[4:8], "little")
            cols = int.from_bytes(body[10:12], "little")
            return rows, cols
        if rtype in (_BIFF_EOF, _BIFF_BOF):
            break
    return 0, 0


def _xls_percent_cells(data: bytes, hidden: set[str]) -> dict[str, set[tuple[int, int]]]:
    """Numeric cells of the visible sheets whose XF's number format is a percentage (xlrd).

    Only the globals are parsed (``on_demand``) until some XF turns out to be a percent
    format; only then are the sheets' cells read.
    """
    import xlrd

    out: dict[str, set[tuple[int, int]]] = {}
    try:
        book = xlrd.open_workbook(
            file_contents=data, formatting_info=True, on_demand=True, logfile=io.StringIO()
        )
    except Exception as exc:  # xlrd.XLRDError, CompDocError, struct errors on damaged records
        raise _unreadable_xls("BIFF 数据无法解析", f"BIFF data cannot be parsed: {exc}") from exc
    try:
        formats = book.format_map
        percent = {
            i
            for i, xf in enumerate(book.xf_list)
            if xf.format_key in formats and is_percent_format(formats[xf.format_key].format_str)
        }
        if not percent:
            return out
        for idx, name in enumerate(book.sheet_names()):
            if name in hidden:
                continue
            sh = book.sheet_by_index(idx)
            cells = {
                (r, c)
                for r in range(sh.nrows)
                for c, typ in enumerate(sh.row_types(r))
                if typ == xlrd.XL_CELL_NUMBER and sh.cell_xf_index(r, c) in percent
            }
            if cells:
                out[name] = cells
            book.unload_sheet(idx)
    except Exception as exc:
        raise _unreadable_xls("BIFF 数据无法解析", f"BIFF data cannot be parsed: {exc}") from exc
    finally:
        book.release_resources()
    return out


def check_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> PackageReport:
    """Sniff and inspect ``path``; raise :class:`FileRejected` naming the file (安全检查入口)."""
    try:
        if sniff(path) == "ole2":
            return inspect_xls(path, limits)
        return inspect_package(path, limits)
    except FileRejected as exc:
        raise exc.with_file(path.name) from exc
