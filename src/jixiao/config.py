"""Where jixiao keeps its files.

Every path derives from one root, ``JIXIAO_HOME`` (default: ``<project>/var``), so a test
can point the whole pipeline at a temporary folder with one environment variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    """Resolved paths for one jixiao installation (一套部署的目录)."""

    home: Path

    @property
    def inbox(self) -> Path:
        """Departmental workbooks land here (部门报送的工作簿)."""
        return self.home / "inbox"

    @property
    def quarantine(self) -> Path:
        """Rejected files, kept byte for byte (隔离区)."""
        return self.home / "quarantine"

    @property
    def warehouse(self) -> Path:
        """The working DuckDB file: raw schema + dbt models (工作库, read-write)."""
        return self.home / "warehouse" / "jixiao.duckdb"

    @property
    def published_dir(self) -> Path:
        """Published, read-only copy for BI tools (发布库)."""
        return self.home / "published"

    @property
    def published(self) -> Path:
        return self.published_dir / "jixiao.duckdb"

    @property
    def reports(self) -> Path:
        """Yearly reports (年度报告)."""
        return self.home / "reports"

    @property
    def quality(self) -> Path:
        """Data stewards' quality report site and gate results (质量报告)."""
        return self.home / "quality"

    @property
    def feedback(self) -> Path:
        """Feedback workbooks for the submitting departments (给报送部门的反馈)."""
        return self.home / "feedback"

    @property
    def staging(self) -> Path:
        """One snapshot of each inbox file, taken before it is hashed and parsed (读取快照)."""
        return self.home / "staging"

    @property
    def runs(self) -> Path:
        """Per-run stage records for the stewards' report (每次运行的各阶段记录)."""
        return self.quality / "runs"

    @property
    def dbt_project_dir(self) -> Path:
        return PROJECT_ROOT / "dbt_project"

    @property
    def expectations_dir(self) -> Path:
        return PROJECT_ROOT / "expectations"

    def ensure(self) -> Settings:
        for p in (
            self.inbox,
            self.quarantine,
            self.warehouse.parent,
            self.published_dir,
            self.reports,
            self.quality,
            self.feedback,
            self.staging,
            self.runs,
        ):
            p.mkdir(parents=True, exist_ok=True)
        return self


def get_settings(home: str | os.PathLike[str] | None = None) -> Settings:
    """Settings from ``home``, else ``$JIXIAO_HOME``, else ``<project>/var``."""
    root = home or os.environ.get("JIXIAO_HOME") or (PROJECT_ROOT / "var")
    return Settings(home=Path(root).resolve())
