"""One exclusive file lock (文件锁), the one way jixiao serialises work on one machine: the run
records (:mod:`jixiao.runs`), the quality gates (:mod:`jixiao.quality.context`) and the Spark
raw export (:mod:`jixiao.warehouse.spark`). A second holder waits; the lock ends with the
process, so a crash never leaves it held."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created with its folder) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
