"""Start-up of the ingest pool's worker processes (载入进程池的工作进程启动).

Imported once by the ``forkserver`` process (see ``set_forkserver_preload`` in
:mod:`jixiao.ingest.loader`), so every worker forked from it starts with the readers imported
and pyarrow's lazy pandas import (~0.3 s on its first conversion from Python objects)
already done, instead of paying both in each worker.
"""

from __future__ import annotations

import pyarrow as pa

from jixiao.ingest import prepare

__all__ = ["prepare"]

pa.array([1])
