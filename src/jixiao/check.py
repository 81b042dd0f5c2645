"""Check workbooks before they are submitted (报送前自查): ``jixiao check FILE...``.

The same detection, parsing, plausibility checks and scoring preview as the nightly, on a
private scratch copy: each file is copied into a temporary ``JIXIAO_HOME``, loaded there by
the nightly's ingest (quarantine and rejected rows with their reasons), the warehouse is built
there by the same dbt project (recomputed scores and review flags), and the submitter's
feedback workbook and CSV (``jixiao.reports.feedback``, the one the nightly writes) are copied
to the output folder. The real warehouse, inbox and reports are never opened.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jixiao.config import get_settings
from jixiao.errors import DataError


class CheckInputError(DataError):
    """A file given to ``jixiao check`` cannot be read at all (待检查文件不存在或不可读)."""


@dataclass
class CheckedFile:
    """One checked file's verdict (单个文件的自查结果)."""

    file: str
    status: str
    errors: int
    warnings: int
    xlsx: str | None
    csv: str | None


@dataclass
class CheckResult:
    """What ``jixiao check`` found (自查结果)."""

    files: list[CheckedFile] = field(default_factory=list)
    scored: bool = False
    build_problem: str | None = None

    @property
    def errors(self) -> int:
        return sum(f.errors for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [dataclasses.asdict(f) for f in self.files],
            "errors": self.errors,
            "warnings": sum(f.warnings for f in self.files),
            "scored": self.scored,
            "build_problem": self.build_problem,
        }


def check_files(files: list[Path], out: Path, score: bool = True) -> CheckResult:
    """Check ``files`` as the nightly would and write their feedback into ``out`` (自查)."""
    from jixiao.ingest.loader import ingest_files
    from jixiao.ingest.security import DEFAULT_LIMITS
    from jixiao.reports.feedback import INDEX_NAME, write_feedback

    bad = [f for f in files if not f.is_file()]
    if bad:
        names = "、".join(str(f) for f in bad)
        raise CheckInputError(
            f"找不到文件或不是普通文件：{names}。请给出工作簿的路径。"
            f" / Not found or not a regular file: {', '.join(str(f) for f in bad)}."
            " Give the path of each workbook."
        )
    result = CheckResult()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jixiao-check-") as tmp:
        scratch = get_settings(Path(tmp)).ensure()
        copies = []
        for i, f in enumerate(files):
            # one folder per file keeps two files of the same name apart
            target = scratch.inbox / f"{i:03d}" / f.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
            copies.append(target)
        # the copies are ours and complete: no wait for a file that is still being written
        summary = ingest_files(
            scratch, copies, dataclasses.replace(DEFAULT_LIMITS, stable_seconds=0)
        )
        if score and summary.files_loaded:
            result.scored, result.build_problem = _score(scratch)
        write_feedback(scratch)
        entries = json.loads((scratch.feedback / INDEX_NAME).read_text(encoding="utf-8"))
        for entry in entries:
            xlsx = _copy_out(scratch.home / entry["xlsx"], out)
            csv = _copy_out(scratch.home / entry["csv"], out)
            result.files.append(
                CheckedFile(
                    file=entry["file"],
                    status=entry["status"],
                    errors=int(entry["errors"]),
                    warnings=int(entry["warnings"]),
                    xlsx=str(xlsx),
                    csv=str(csv),
                )
            )
    return result


def _score(scratch: Any) -> tuple[bool, str | None]:
    """Build the scratch warehouse (dbt, without the unit tests) for the scores and review
    flags; a failing data test is reported, not raised: the feedback still gets written."""
    from jixiao.warehouse.dbt import DbtBuildFailed, build

    try:
        build(scratch, exclude_resource_types=("unit_test",))
    except DbtBuildFailed as exc:
        return False, str(exc)
    return True, None


def _copy_out(path: Path, out: Path) -> Path:
    """Copy a feedback file into ``out`` without overwriting another file's (输出反馈)."""
    target = out / path.name
    n = 2
    while target.exists() and target.read_bytes() != path.read_bytes():
        target = out / f"{path.name.split('.', 1)[0]}（{n}）.{path.name.split('.', 1)[1]}"
        n += 1
    shutil.copyfile(path, target)
    return target
