"""The code stays as clean as the day it was written: ruff (lint + format) and mypy on src/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from jixiao.config import PROJECT_ROOT

BIN = Path(sys.executable).parent
PATHS = ["src", "tests", "dags", "scripts"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)


def test_ruff_lint() -> None:
    proc = _run(str(BIN / "ruff"), "check", *PATHS)
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_ruff_format() -> None:
    proc = _run(str(BIN / "ruff"), "format", "--check", *PATHS)
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_mypy() -> None:
    proc = _run(str(BIN / "mypy"))
    assert proc.returncode == 0, proc.stdout[-4000:]
