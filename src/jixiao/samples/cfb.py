"""A minimal OLE2 compound-file writer (复合文档, [MS-CFB] version 3), for bad-input samples.

Office saves an encrypted workbook, and old Excel saves a ``.xls``, as an OLE2 compound file
rather than a zip. This writes just enough of one (a root storage holding a few streams,
each at least 4096 bytes so no mini stream is needed) for content sniffers and OLE readers
to see the stream names. No third-party library (olefile) is needed.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
SECTOR = 512
ENDOFCHAIN = 0xFFFFFFFE
FREESECT = 0xFFFFFFFF
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
MINI_CUTOFF = 4096


def _pad(data: bytes, size: int = SECTOR) -> bytes:
    return data + b"\0" * (-len(data) % size)


def _dir_entry(
    name: str,
    kind: int,
    *,
    child: int = NOSTREAM,
    right: int = NOSTREAM,
    start: int = ENDOFCHAIN,
    size: int = 0,
) -> bytes:
    raw = (name + "\0").encode("utf-16-le") if name else b""
    if len(raw) > 64:
        raise ValueError(f"OLE2 name too long: {name!r}")
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        raw,
        len(raw),
        kind,
        1,
        NOSTREAM,
        right,
        child,
        b"\0" * 16,
        0,
        0,
        0,
        start,
        size,
    )


def compound_file(streams: Sequence[tuple[str, bytes]]) -> bytes:
    """Bytes of a compound file whose root storage holds ``streams`` (name, data)."""
    if len(streams) > 3:
        raise ValueError("at most 3 streams (one directory sector)")
    bodies = [
        _pad(data if len(data) >= MINI_CUTOFF else data + b"\0" * (MINI_CUTOFF - len(data)))
        for _, data in streams
    ]
    fat: list[int] = [FATSECT, ENDOFCHAIN]  # sector 0 = FAT, sector 1 = directory
    starts = []
    for body in bodies:
        n = len(body) // SECTOR
        first = len(fat)
        starts.append(first)
        fat += [first + i + 1 for i in range(n - 1)] + [ENDOFCHAIN]
    if len(fat) > SECTOR // 4:
        raise ValueError("streams too large for a single FAT sector")
    fat += [FREESECT] * (SECTOR // 4 - len(fat))
    # Directory: root (id 0) -> children chained through right siblings, ordered by
    # (name length, upper-case name) as the format requires.
    order = sorted(range(len(streams)), key=lambda i: (len(streams[i][0]), streams[i][0].upper()))
    ids = {idx: pos + 1 for pos, idx in enumerate(order)}
    entries = [_dir_entry("Root Entry", 5, child=ids[order[0]] if order else NOSTREAM)]
    for pos, idx in enumerate(order):
        right = ids[order[pos + 1]] if pos + 1 < len(order) else NOSTREAM
        name, data = streams[idx]
        size = max(len(data), MINI_CUTOFF)
        entries.append(_dir_entry(name, 2, right=right, start=starts[idx], size=size))
    while len(entries) < 4:
        entries.append(_dir_entry("", 0))
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        MAGIC,
        b"\0" * 16,
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,
        1,
        1,
        0,
        MINI_CUTOFF,
        ENDOFCHAIN,
        0,
        ENDOFCHAIN,
        0,
    )
    difat = struct.pack("<109I", 0, *([FREESECT] * 108))
    out = header + difat
    assert len(out) == SECTOR
    out += struct.pack(f"<{SECTOR // 4}I", *fat)
    out += b"".join(entries)
    return out + b"".join(bodies)
