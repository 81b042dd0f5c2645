"""Genuine legacy ``.xls`` workbooks (Excel 97-2003, BIFF8) for samples and tests (旧版 .xls 样例).

- :func:`write_xls` writes a BIFF8 ``.xls`` with xlwt from a simple description: per sheet the
  rows of values from A1, merged ranges, per-cell number formats (``"0.00%"``,
  ``'yyyy"年"m"月"d"日"'``) and the sheet state (visible / hidden / veryHidden).
- :func:`xlsx_to_xls` renders an openpyxl-readable ``.xlsx`` as the same workbook in BIFF8:
  the cached values (what Excel shows for formulas), merged ranges, every cell's number format
  (percent, dates, …), hidden sheets and the active sheet. It is what a department's "另存为
  Excel 97-2003 工作簿" gives, minus fonts, borders, fills, column widths and formulas.
- :func:`with_filepass`, :func:`with_vba` and :func:`compound_file_tree` build the broken
  ``.xls`` variants of the bad-input corpus from a genuine one.

xlwt is a development dependency (only samples and tests write ``.xls``); it is imported
when a function here is called.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

#: BIFF8 sheet size
MAX_ROWS, MAX_COLS = 65_536, 256

_STATES = {"visible": 0, "hidden": 1, "veryHidden": 2}
_REF_RE = re.compile(r"([A-Z]{1,3})([0-9]+)")


@dataclass
class XlsSheet:
    """One worksheet to write (工作表描述).

    ``rows``: values from A1 (``None`` = empty cell; str, int, float, Decimal, bool, date,
    datetime, time). ``merged``: ranges such as ``"A1:C1"`` or 0-based inclusive
    ``(first_row, first_col, last_row, last_col)``; only the top-left cell's value is kept, as
    in Excel. ``formats``: number format per 0-based ``(row, col)`` (or ``"B5"``).
    ``state``: 'visible', 'hidden' or 'veryHidden'.
    """

    rows: Sequence[Sequence[Any]] = ()
    merged: Sequence[str | tuple[int, int, int, int]] = ()
    formats: Mapping[tuple[int, int] | str, str] = field(default_factory=dict)
    state: str = "visible"


def _cell(ref: str) -> tuple[int, int]:
    m = _REF_RE.fullmatch(ref)
    if not m:
        raise ValueError(f"not a cell reference: {ref!r}")
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1


def _range(spec: str | tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    if isinstance(spec, str):
        first, _, last = spec.partition(":")
        (r1, c1), (r2, c2) = _cell(first), _cell(last or first)
        return r1, c1, r2, c2
    return spec


def write_xls(
    path: Path, sheets: Mapping[str, XlsSheet | Sequence[Sequence[Any]]], *, active: int = 0
) -> Path:
    """Write ``sheets`` (name -> :class:`XlsSheet` or plain rows) as a BIFF8 ``.xls``."""
    import xlwt

    book = xlwt.Workbook()
    styles: dict[str, Any] = {}

    def style(fmt: str | None) -> Any:
        if fmt is None:
            return xlwt.Style.default_style
        if fmt not in styles:
            xf = xlwt.XFStyle()
            xf.num_format_str = fmt
            styles[fmt] = xf
        return styles[fmt]

    for name, spec in sheets.items():
        sheet = spec if isinstance(spec, XlsSheet) else XlsSheet(rows=spec)
        if sheet.state not in _STATES:
            raise ValueError(f"sheet state must be one of {sorted(_STATES)}: {sheet.state!r}")
        ws = book.add_sheet(name)
        ws.visibility = _STATES[sheet.state]
        formats = {_cell(k) if isinstance(k, str) else k: v for k, v in sheet.formats.items()}
        merged = [_range(m) for m in sheet.merged]
        covered = {
            (r, c)
            for r1, c1, r2, c2 in merged
            for r in range(r1, r2 + 1)
            for c in range(c1, c2 + 1)
            if (r, c) != (r1, c1)
        }
        if len(sheet.rows) > MAX_ROWS or any(len(row) > MAX_COLS for row in sheet.rows):
            raise ValueError(f"sheet {name!r} is larger than a .xls sheet (65,536 x 256)")
        for r, row in enumerate(sheet.rows):
            for c, value in enumerate(row):
                if value is None or (r, c) in covered:
                    continue
                fmt = formats.get((r, c))
                if isinstance(value, (dt.date, dt.time)) and fmt in (None, "General"):
                    fmt = _default_date_format(value)
                ws.write(r, c, _xls_value(value), style(fmt))
        for r1, c1, r2, c2 in merged:
            ws.merge(r1, r2, c1, c2, style(formats.get((r1, c1))))
    visible = [
        i
        for i, spec in enumerate(sheets.values())
        if not isinstance(spec, XlsSheet) or spec.state == "visible"
    ]
    if visible:
        book.active_sheet = active if active in visible else visible[0]
        book.get_sheet(book.active_sheet).selected = True
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(path))
    return path


def _default_date_format(value: dt.date | dt.time) -> str:
    if isinstance(value, dt.datetime):
        return "yyyy-mm-dd hh:mm:ss" if value.time() != dt.time() else "yyyy-mm-dd"
    if isinstance(value, dt.date):
        return "yyyy-mm-dd"
    return "hh:mm:ss"


def _xls_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.time, bool, int, float, str)):
        return value
    return str(value)


def xlsx_to_xls(src_xlsx: Path, dst_xls: Path) -> Path:
    """The workbook ``src_xlsx`` saved as a BIFF8 ``.xls`` (另存为 Excel 97-2003 工作簿).

    Kept: sheet order, names and states (hidden, very hidden), every value as Excel caches it
    (a formula becomes its cached result; one never calculated becomes empty), merged
    ranges, each non-General number format (percent, dates, custom codes), the active sheet.
    Chart sheets are dropped (xlwt writes worksheets only).
    """
    from openpyxl import load_workbook

    wb = load_workbook(src_xlsx, data_only=True)
    try:
        sheets: dict[str, XlsSheet] = {}
        for ws in wb.worksheets:
            rows: list[list[Any]] = []
            formats: dict[tuple[int, int] | str, str] = {}
            for r, cells in enumerate(ws.iter_rows()):
                row = []
                for c, cell in enumerate(cells):
                    row.append(cell.value)
                    fmt = cell.number_format
                    if cell.value is not None and fmt and fmt != "General":
                        formats[(r, c)] = fmt
                rows.append(row)
            merged = [
                (m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1)
                for m in ws.merged_cells.ranges
            ]
            sheets[ws.title] = XlsSheet(rows, merged, formats, ws.sheet_state)
        active = wb.worksheets.index(wb.active) if wb.active in wb.worksheets else 0
    finally:
        wb.close()
    return write_xls(dst_xls, sheets, active=active)


# ------------------------------------------------------------------ broken variants
_SECTOR = 512
_ENDOFCHAIN, _FREESECT, _FATSECT, _NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
_MINI_CUTOFF = 4096
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")

#: A compound-file tree: stream name -> bytes, storage name -> another tree.
Tree = Mapping[str, Any]


def compound_file_tree(tree: Tree) -> bytes:
    """An OLE2 compound file ([MS-CFB] v3) holding ``tree`` below its root storage.

    Streams shorter than 4,096 bytes are zero-padded to 4,096 (so no mini stream is needed;
    the declared size includes the padding). Siblings are chained in the directory's
    required order (name length, then upper-case name).
    """
    entries: list[dict[str, Any]] = [{"name": "Root Entry", "kind": 5, "child": _NOSTREAM}]
    bodies: list[tuple[int, bytes]] = []  # (entry id, padded body)

    def add(children: Tree) -> int:
        ids = []
        for name in sorted(children, key=lambda n: (len(n), n.upper())):
            value = children[name]
            entry: dict[str, Any] = {"name": name, "child": _NOSTREAM, "right": _NOSTREAM}
            entries.append(entry)
            ids.append(len(entries) - 1)
            if isinstance(value, (bytes, bytearray)):
                data = bytes(value) + b"\0" * max(0, _MINI_CUTOFF - len(value))
                entry.update(kind=2, size=len(data))
                bodies.append((ids[-1], data + b"\0" * (-len(data) % _SECTOR)))
            else:
                entry.update(kind=1)
                entry["child"] = add(value)
        for a, b in itertools.pairwise(ids):
            entries[a]["right"] = b
        return ids[0] if ids else _NOSTREAM

    entries[0]["child"] = add(tree)
    dir_bytes = b"".join(_dir_entry(e) for e in entries)
    dir_bytes += _dir_entry({"name": "", "kind": 0}) * (-len(entries) % 4)
    n_dir = len(dir_bytes) // _SECTOR
    n_body = sum(len(b) // _SECTOR for _, b in bodies)
    n_fat = 1
    while n_fat * (_SECTOR // 4) < n_fat + n_dir + n_body:
        n_fat += 1
    if n_fat > 109:
        raise ValueError("compound file too large for the header's FAT list")
    fat = [_FATSECT] * n_fat
    first_dir = len(fat)
    fat += [*range(first_dir + 1, first_dir + n_dir), _ENDOFCHAIN]
    for entry_id, body in bodies:
        start, n = len(fat), len(body) // _SECTOR
        entries[entry_id]["start"] = start
        fat += [*range(start + 1, start + n), _ENDOFCHAIN]
    fat += [_FREESECT] * (n_fat * (_SECTOR // 4) - len(fat))
    dir_bytes = b"".join(_dir_entry(e) for e in entries)
    dir_bytes += _dir_entry({"name": "", "kind": 0}) * (-len(entries) % 4)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        OLE2_MAGIC,
        b"\0" * 16,
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,
        n_fat,
        first_dir,
        0,
        _MINI_CUTOFF,
        _ENDOFCHAIN,
        0,
        _ENDOFCHAIN,
        0,
    )
    header += struct.pack("<109I", *range(n_fat), *([_FREESECT] * (109 - n_fat)))
    return (
        header
        + struct.pack(f"<{len(fat)}I", *fat)
        + dir_bytes
        + b"".join(body for _, body in bodies)
    )


def _dir_entry(e: Mapping[str, Any]) -> bytes:
    raw = (e["name"] + "\0").encode("utf-16-le") if e["name"] else b""
    if len(raw) > 64:
        raise ValueError(f"OLE2 name too long: {e['name']!r}")
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        raw,
        len(raw),
        e["kind"],
        1,  # black
        _NOSTREAM,
        e.get("right", _NOSTREAM),
        e.get("child", _NOSTREAM),
        b"\0" * 16,
        0,
        0,
        0,
        e.get("start", _ENDOFCHAIN if e["kind"] in (2, 5) else 0),
        e.get("size", 0),
    )


def workbook_stream(xls: bytes) -> bytes:
    """The ``Workbook`` stream (BIFF8 records) of a ``.xls`` file's bytes."""
    import io

    from xlrd.compdoc import CompDoc

    stream = CompDoc(xls, logfile=io.StringIO()).get_named_stream("Workbook")
    if stream is None:
        raise ValueError("no Workbook stream")
    return bytes(stream)


def with_filepass(xls: bytes) -> bytes:
    """``xls`` with a FILEPASS record (RC4 encryption header) right after the globals' BOF.

    This is where Excel puts it when a workbook gets an open password. The record is
    well-formed (wEncryptionType 1 = RC4, version 1.1, 16-byte salt, verifier and verifier
    hash), but the records after it are left in clear text and the salt/verifier are not
    derived from any password: every reader stops at FILEPASS (xlrd: "Workbook is
    encrypted"), so that is all a rejection test needs. The sheets' BOF offsets in the
    BOUNDSHEET records are shifted by the inserted bytes, so the file stays consistent.
    """
    stream = workbook_stream(xls)
    bof_len = struct.unpack_from("<H", stream, 2)[0]
    body = struct.pack("<HHH", 1, 1, 1) + bytes(range(16)) + bytes(range(16, 48))
    record = struct.pack("<HH", 0x002F, len(body)) + body
    head, tail = stream[: 4 + bof_len], stream[4 + bof_len :]
    tail = _shift_boundsheets(tail, len(record))
    return compound_file_tree({"Workbook": head + record + tail})


def _shift_boundsheets(globals_tail: bytes, delta: int) -> bytes:
    out, pos = bytearray(globals_tail), 0
    while pos + 4 <= len(out):
        rtype, length = struct.unpack_from("<HH", out, pos)
        if rtype == 0x0085:
            (offset,) = struct.unpack_from("<I", out, pos + 4)
            struct.pack_into("<I", out, pos + 4, offset + delta)
        if rtype == 0x000A:
            break
        pos += 4 + length
    return bytes(out)


def with_vba(xls: bytes) -> bytes:
    """``xls`` with the VBA project storages Excel writes for a macro workbook (含宏 .xls):
    ``_VBA_PROJECT_CUR`` holding ``PROJECT``, ``PROJECTwm`` and a ``VBA`` storage (``dir``,
    ``_VBA_PROJECT``, ``Module1``). The module source is a placeholder, not compressed VBA."""
    vba = {
        "dir": b"\x01" + b'Attribute VB_Name = "Module1"',
        "_VBA_PROJECT": b"\xcc\x61\xff\xff\x00",
        "Module1": b'Sub AutoOpen()\r\n    MsgBox "hello"\r\nEnd Sub\r\n',
    }
    project = b'ID="{00000000-0000-0000-0000-000000000000}"\r\nModule=Module1\r\n'
    tree: dict[str, Any] = {
        "Workbook": workbook_stream(xls),
        "_VBA_PROJECT_CUR": {"PROJECT": project, "PROJECTwm": b"Module1\0", "VBA": vba},
    }
    return compound_file_tree(tree)


def biff5_book(xls: bytes) -> bytes:
    """An Excel 5.0/95 file: a ``Book`` stream whose BOF says BIFF5 (version 0x0500).

    Built from ``xls``'s records with the BOF version changed (the rest stays BIFF8 records,
    which is enough to test that the version is refused before anything else is read).
    """
    stream = bytearray(workbook_stream(xls))
    struct.pack_into("<H", stream, 4, 0x0500)
    return compound_file_tree({"Book": bytes(stream)})
