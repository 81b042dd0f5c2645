"""DuckDB storage versions of the published file (发布库的存储格式版本).

DuckDB 2.0 writes new files with ``storage_compatibility_version = 'latest'``, whose header
carries storage version number 999; DuckDB 1.4.x (bundled by the Metabase DuckDB driver)
only opens files whose number is between 64 and 67 and refuses the rest with
"Trying to read a database file with version number 999". The published file is therefore
created with ``ATTACH ... (STORAGE_VERSION 'v1.4.0')``, which DuckDB 2.0 accepts and which
writes number 67.

The number is a real, checkable property of the file: bytes 8..11 of a DuckDB file are the
magic ``DUCK`` and bytes 12..19 the storage version number (little-endian uint64).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from jixiao.errors import JixiaoError

#: Storage version the published file is written with (发布库的存储兼容版本).
#: Override with ``JIXIAO_PUBLISH_STORAGE_VERSION`` (e.g. ``v1.2.0`` for older BI drivers).
DEFAULT_STORAGE_VERSION = "v1.4.0"

#: Storage version number written in the file header for each ``STORAGE_VERSION`` value,
#: as DuckDB 2.0 writes them (checked by tests/integration/publish/test_storage_version.py).
STORAGE_VERSION_NUMBERS: dict[str, int] = {
    "v1.0.0": 64,
    "v1.1.0": 64,
    "v1.2.0": 65,
    "v1.3.0": 66,
    "v1.4.0": 67,
    "v1.5.0": 68,
}

#: Highest storage number each DuckDB release line can open (读取端可打开的最高版本号).
MAX_READABLE_NUMBER: dict[str, int] = {
    "1.0": 64,
    "1.1": 64,
    "1.2": 65,
    "1.3": 66,
    "1.4": 67,
    "1.5": 68,
}

_MAGIC = b"DUCK"


class StorageVersionError(JixiaoError, ValueError):
    """The file is not a DuckDB file or has an unexpected storage version (存储版本错误)."""


def configured_storage_version() -> str:
    """The storage version to publish with: env override or the default (配置的存储版本)."""
    value = os.environ.get("JIXIAO_PUBLISH_STORAGE_VERSION", DEFAULT_STORAGE_VERSION).strip()
    if value not in STORAGE_VERSION_NUMBERS:
        raise StorageVersionError(
            f"JIXIAO_PUBLISH_STORAGE_VERSION 取值 {value!r} 无效，应为 "
            f"{', '.join(STORAGE_VERSION_NUMBERS)} 之一 / invalid value {value!r} for "
            f"JIXIAO_PUBLISH_STORAGE_VERSION; expected one of {', '.join(STORAGE_VERSION_NUMBERS)}"
        )
    return value


def read_storage_number(path: Path) -> int:
    """Storage version number from a DuckDB file header (读取文件头中的存储版本号)."""
    with open(path, "rb") as fh:
        header = fh.read(20)
    if len(header) < 20 or header[8:12] != _MAGIC:
        raise StorageVersionError(
            f"{path} 不是 DuckDB 数据库文件（文件头第 8-11 字节应为 'DUCK'）/ "
            f"{path} is not a DuckDB database file (bytes 8-11 should be 'DUCK')"
        )
    return int(struct.unpack("<Q", header[12:20])[0])


def readable_by(path: Path, duckdb_line: str) -> bool:
    """Whether DuckDB ``duckdb_line`` (e.g. ``"1.4"``) can open ``path`` (旧版能否读取)."""
    return read_storage_number(path) <= MAX_READABLE_NUMBER[duckdb_line]
