"""Sniffing and safety checks before any workbook is parsed (安全检查与格式嗅探).

The type of a file is decided by its content, never by its extension:

* ``PK\\x03\\x04`` (zip) -> an OOXML package, checked here before calamine sees it;
* ``D0 CF 11 E0 A1 B1 1A E1`` (OLE2 compound file) -> an encrypted OOXML workbook when the
  compound file holds an ``EncryptionInfo`` stream, otherwise a legacy ``.xls``;
* anything else -> not a workbook.

calamine has no decompression limit of its own, so :func:`inspect_package` streams every zip
entry once (bounded by the caps in :class:`Limits`) and rejects zip bombs, DTDs/entities
(XML bombs, XXE), macros, external links, absurd sheet dimensions and formulas without a
cached value before any parser runs. Our own XML parsing uses defusedxml, and
:func:`assert_defusedxml` fails loudly at start-up if openpyxl would parse without it.
"""

from __future__ import annotations

import re
import zipfile
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
    max_cells: int = 20_000_000  # rows x columns of the used area


DEFAULT_LIMITS = Limits()


@dataclass
class PackageReport:
    """What the pre-parse inspection found (预检结果)."""

    sheet_paths: dict[str, str] = field(default_factory=dict)  # sheet name -> zip path
    hidden_sheets: list[str] = field(default_factory=list)
    dimensions: dict[str, tuple[int, int]] = field(default_factory=dict)  # sheet -> (rows, cols)


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
    """Content type of ``path``: 'zip' or raise :class:`FileRejected` (按内容嗅探类型)."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head == OLE2_MAGIC:
        if _ole2_has_encryption_info(path):
            raise FileRejected(
                "encrypted",
                "工作簿已加密（OLE2 容器含 EncryptionInfo）；请去掉密码后另存为 .xlsx 再报送",
                "the workbook is encrypted (OLE2 container with EncryptionInfo); remove the "
                "password, save as .xlsx and resubmit",
                expected="未加密的 .xlsx / an unencrypted .xlsx",
            )
        raise FileRejected(
            "legacy_xls",
            "这是旧版 .xls（OLE2/BIFF）工作簿；请在 Excel 中另存为 .xlsx 再报送",
            "this is a legacy .xls (OLE2/BIFF) workbook; save it as .xlsx in Excel and resubmit",
            expected=".xlsx (Office Open XML)",
        )
    raise FileRejected(
        "not_xlsx",
        f"文件内容不是 xlsx 工作簿（开头字节 {head[:4].hex()}，应为 zip 504b0304）",
        f"the file content is not an xlsx workbook (starts with {head[:4].hex()}, "
        "expected zip 504b0304)",
        expected=".xlsx (Office Open XML, zip)",
    )


def _ole2_has_encryption_info(path: Path) -> bool:
    """True when an OLE2 file names an ``EncryptionInfo`` stream (directory names are UTF-16LE)."""
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
            f"zip 压缩包已损坏：{exc}",
            f"corrupt zip archive: {exc}",
            expected="完整的 .xlsx 文件 / a complete .xlsx file",
        ) from exc
    with zf:
        infos = zf.infolist()
        _check_entries(infos, limits)
        names = {i.filename for i in infos}
        _check_package_kind(zf, names)
        report = _read_workbook_parts(zf, names)
        sheet_by_path = {p: s for s, p in report.sheet_paths.items()}
        for info in infos:
            _scan_entry(zf, info, sheet_by_path.get(info.filename), report, limits)
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
        _check_ratio(i.filename, i.file_size, i.compress_size, limits)
        if i.flag_bits & 0x1:
            raise FileRejected(
                "encrypted",
                f"zip 条目 {i.filename} 已加密",
                f"zip entry {i.filename} is encrypted",
                expected="未加密的 .xlsx / an unencrypted .xlsx",
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
    """Reject non-workbook zips, macros and external links."""
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise FileRejected(
            "not_xlsx",
            "zip 包不是 Excel 工作簿（缺少 [Content_Types].xml 或 xl/workbook.xml）",
            "the zip is not an Excel workbook ([Content_Types].xml or xl/workbook.xml missing)",
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


def _small(zf: zipfile.ZipFile, name: str, cap: int = 4 * 1024 * 1024) -> bool:
    return zf.getinfo(name).file_size <= cap


def _read_workbook_parts(zf: zipfile.ZipFile, names: set[str]) -> PackageReport:
    """Sheet names, states and part paths from workbook.xml and its rels (defusedxml)."""
    report = PackageReport()
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
    except Exception as exc:  # defusedxml raises its own errors for DTDs and entities
        raise FileRejected(
            "xml_dtd"
            if "DTD" in type(exc).__name__ or "Entit" in type(exc).__name__
            else "corrupt_zip",
            f"workbook.xml 无法安全解析：{exc}",
            f"workbook.xml cannot be parsed safely: {exc}",
            expected="合法的 OOXML / valid OOXML",
        ) from exc
    for sheet in wb.iter(f"{_NS_MAIN}sheet"):
        name = sheet.get("name", "")
        target = rels.get(sheet.get(f"{_NS_REL}id"))
        if target:
            report.sheet_paths[name] = target
        if sheet.get("state") in ("hidden", "veryHidden"):
            report.hidden_sheets.append(name)
    return report


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
) -> None:
    """Stream one entry: prolog (DTD), real size, and for worksheets the used area and formulas.

    Every entry's first chunk is checked for a DTD in its XML prolog (a DOCTYPE, and so any
    ENTITY, can only appear before the root element). Entries that are XML are then streamed to
    the end, so zipfile's CRC check proves they decompress to their declared size; worksheets
    are scanned for their largest cell/row reference, ``<dimension>`` and formulas on the way.
    """
    scan = _SheetScan() if sheet is not None else None
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
                tail = chunk[-_OVERLAP:]
                chunk = fh.read(_CHUNK)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise FileRejected(
            "corrupt_zip",
            f"条目 {info.filename} 已损坏：{exc}",
            f"entry {info.filename} is corrupt: {exc}",
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
    report.dimensions[sheet] = (scan.max_row, scan.max_col)
    if scan.has_formula:
        _check_formula_cache(zf, info, sheet)


#: Any ``r="..."`` attribute (cells ``<c r="B7">`` and rows ``<row r="7">``, either quote,
#: optional spaces around ``=``). It starts with a literal so the regex engine skips ahead
#: fast; other attributes ending in ``r`` (``header="0.3"``) can only raise the estimate.
_REF_RE = re.compile(rb"r\s*=\s*[\"']([A-Z]{0,3})([0-9]{0,7})")
_DIM_RE = re.compile(
    rb"dimension\b[^>]*?\bref\s*=\s*[\"'](?:[A-Z]+[0-9]+:)?([A-Z]{1,3})([0-9]{1,7})"
)
_FORMULA_RES = (re.compile(rb"<f[\s>/]"), re.compile(rb":f[\s>/]"))
_PROLOG_MAX = 64 * 1024


class _SheetScan:
    """Largest row/column referenced by a worksheet's XML, its dimension, formulas (工作表预扫)."""

    def __init__(self) -> None:
        self.max_row = self.max_col = self.dim_row = self.dim_col = 0
        self.has_formula = False

    def feed(self, window: bytes) -> None:
        refs = _REF_RE.findall(window)
        if refs:
            letters, digits = zip(*refs, strict=True)
            top = max(set(letters), key=lambda x: (len(x), x))
            self.max_col = max(self.max_col, _col_index(top) if top else 0)
            self.max_row = max(self.max_row, max(map(int, filter(None, digits)), default=0))
        for col, row in _DIM_RE.findall(window):
            self.dim_col = max(self.dim_col, _col_index(col))
            self.dim_row = max(self.dim_row, int(row))
        if not self.has_formula:
            self.has_formula = any(r.search(window) for r in _FORMULA_RES)

    def extent(self) -> tuple[int, int]:
        return max(self.max_row, self.dim_row), max(self.max_col, self.dim_col)


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


def _check_formula_cache(zf: zipfile.ZipFile, info: zipfile.ZipInfo, sheet: str) -> None:
    """A formula cell without a cached ``<v>`` is an error, never a zero (公式无缓存值)."""
    with zf.open(info) as fh:
        for _event, elem in DefusedET.iterparse(fh, events=("end",)):
            if elem.tag != f"{_NS_MAIN}c":
                continue
            f = elem.find(f"{_NS_MAIN}f")
            if f is not None:
                v = elem.find(f"{_NS_MAIN}v")
                if v is None or v.text is None or v.text == "":
                    ref = elem.get("r", "?")
                    raise FileRejected(
                        "formula_no_cached_value",
                        f"工作表「{sheet}」单元格 {ref} 的公式没有缓存值；请在 Excel 中打开并"
                        "重新计算、保存后再报送",
                        f"sheet '{sheet}' cell {ref} holds a formula with no cached value; open "
                        "it in Excel, recalculate, save and resubmit",
                        sheet=sheet,
                        cell=ref,
                        expected="公式带计算结果 / a formula with its computed value",
                    )
            elem.clear()


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


def check_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> PackageReport:
    """Sniff and inspect ``path``; raise :class:`FileRejected` naming the file (安全检查入口)."""
    try:
        sniff(path)
        return inspect_package(path, limits)
    except FileRejected as exc:
        raise exc.with_file(path.name) from exc
