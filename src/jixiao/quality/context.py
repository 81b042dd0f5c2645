"""The GX runtime context (运行时 GX 上下文).

``expectations/`` (version controlled) is the source of truth: suites, validation
definitions, checkpoints and ``great_expectations.yml``. Each gate run copies those into
``<JIXIAO_HOME>/quality/gx/`` and points the ``jixiao_frames`` datasource at that copy's
``uncommitted/frames/``, so runtime state (frames, validation results, Data Docs) lives
under ``JIXIAO_HOME`` and never in the checkout; two installations never share it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jixiao.config import Settings
from jixiao.locks import file_lock

PLACEHOLDER = "base_directory: uncommitted/frames"
COPIED = ("great_expectations.yml", "expectations", "validation_definitions", "checkpoints")
KEEP_RUNS = 14  # validation results kept per suite for Data Docs (older ones are pruned)


def runtime_dir(settings: Settings) -> Path:
    """Root of the runtime GX context (运行时上下文目录)."""
    return settings.quality / "gx"


def frames_dir(settings: Settings) -> Path:
    """Where a run writes one parquet file per suite (校验数据帧目录)."""
    return runtime_dir(settings) / "uncommitted" / "frames"


def full_frames_dir(settings: Settings) -> Path:
    """Every column of each suite's frame, for the failing rows' samples (完整数据帧目录).

    GX reads ``frames_dir``: only the columns its suite's expectations name, so a gate's pandas
    frames hold no column nothing checks. The sample rows of a failure are read from here.
    """
    return runtime_dir(settings) / "uncommitted" / "frames_full"


def data_docs_index(settings: Settings) -> Path:
    """Data Docs entry page (GX 数据文档首页)."""
    return runtime_dir(settings) / "uncommitted" / "data_docs" / "local_site" / "index.html"


@contextmanager
def locked(settings: Settings) -> Iterator[None]:
    """One gate run at a time per installation (同一部署串行执行闸门)."""
    with file_lock(runtime_dir(settings) / ".lock"):
        yield


def prepare(settings: Settings) -> Path:
    """Refresh the runtime copy of ``expectations/`` and return its root."""
    src = settings.expectations_dir
    dst = runtime_dir(settings)
    dst.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        target = dst / name
        if target.is_dir():
            shutil.rmtree(target)
        if (src / name).is_dir():
            shutil.copytree(src / name, target)
        else:
            shutil.copy2(src / name, target)
    config = (dst / "great_expectations.yml").read_text(encoding="utf-8")
    if PLACEHOLDER not in config:
        raise RuntimeError(
            f"{src / 'great_expectations.yml'} 缺少 {PLACEHOLDER!r} / "
            f"{src / 'great_expectations.yml'} lacks the line {PLACEHOLDER!r}"
        )
    config = config.replace(PLACEHOLDER, f"base_directory: {frames_dir(settings)}")
    (dst / "great_expectations.yml").write_text(config, encoding="utf-8")
    for frames in (frames_dir(settings), full_frames_dir(settings)):
        if frames.exists():
            shutil.rmtree(frames)
        frames.mkdir(parents=True)
    _prune_validations(dst / "uncommitted" / "validations")
    return dst


def _prune_validations(store: Path) -> None:
    """Keep the last ``KEEP_RUNS`` results per suite so Data Docs stay quick to build."""
    if not store.is_dir():
        return
    for suite_dir in (p for p in store.iterdir() if p.is_dir()):
        runs = sorted(
            (p for p in suite_dir.glob("*/*") if p.is_dir()), key=lambda p: p.stat().st_mtime
        )
        for old in runs[:-KEEP_RUNS]:
            shutil.rmtree(old, ignore_errors=True)


def open_context(root: Path) -> Any:
    """Open the runtime file context; GX is imported here, never at module import."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    return gx.get_context(mode="file", context_root_dir=str(root))
