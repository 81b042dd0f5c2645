"""Start-up of the ingest pool's worker processes (载入进程池的工作进程启动).

Imported once by the ``forkserver`` process (see ``set_forkserver_preload`` in
:mod:`jixiao.ingest.loader`), so every worker forked from it starts with the readers imported
and pyarrow's lazy pandas import (~0.3 s on its first conversion from Python objects)
already done, instead of paying both in each worker.

:func:`init_worker` is each worker's initializer: it caps the worker's address space
(``RLIMIT_AS``) at what it had at start-up plus the per-file budget
(``Limits.max_worker_memory``), so a workbook that needs more makes the worker fail
(``MemoryError``, or the process dies) instead of the machine; the loader then quarantines
that file as ``resource_limit`` and replaces the worker.
"""

from __future__ import annotations

import os
import resource

import pyarrow as pa

from jixiao.ingest import prepare

__all__ = ["address_space", "init_worker", "prepare", "ready"]

pa.array([1])


def address_space() -> int:
    """This process's virtual memory size in bytes (``VmSize``; 0 where /proc is missing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def init_worker(max_memory: int) -> None:
    """Cap this worker's address space at its start-up size plus ``max_memory`` bytes.

    The start-up size (~1.4 GB virtual, of which ~75 MB resident: pyarrow's reserved arenas
    and the libraries) is measured here, so ``max_memory`` is what one parse may add.
    0 or less: no cap.
    """
    if max_memory <= 0:
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = address_space() + max_memory
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def ready() -> int:
    """A no-op task: submitted when a pool is created, so its first worker starts at once."""
    return os.getpid()
