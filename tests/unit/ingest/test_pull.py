"""Pulling workbooks from the departments' sources (jixiao.ingest.pull) with folder sources and
scripted clients: new and changed files only, atomic writes with the remote time kept, a source
that is down fails alone, the sources file refuses credentials (拉取)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jixiao.config import Settings
from jixiao.ingest.pull import (
    FolderClient,
    RemoteFile,
    Source,
    SourcesError,
    load_sources,
    pull,
)

OLD = 1_700_000_000.0  # 2023-11-14: a department's save time, long before the pull


def _drop(
    folder: Path, name: str, data: bytes = b"PK\x03\x04 workbook", mtime: float = OLD
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def _inbox(settings: Settings) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in settings.inbox.iterdir()}


def test_no_sources_file_means_the_local_inbox_only(settings: Settings) -> None:
    assert load_sources(settings.home / "sources.yml") == []
    assert pull(settings) == []


def test_new_and_changed_files_only_with_the_remote_time_kept(
    settings: Settings, tmp_path: Path
) -> None:
    a, b = tmp_path / "xinfeng", tmp_path / "jiangmen"
    _drop(a, "自评表.xlsx")
    _drop(a, "说明.txt")  # not a workbook: not pulled
    _drop(b, "台账.xlsx", b"PK\x03\x04 ledger")
    sources = [Source("新丰县", "folder", str(a)), Source("江门市", "folder", str(b))]
    first = pull(settings, sources)
    assert [(r.name, r.status, r.pulled) for r in first] == [
        ("新丰县", "passed", ["自评表.xlsx"]),
        ("江门市", "passed", ["台账.xlsx"]),
    ]
    assert set(_inbox(settings)) == {"自评表.xlsx", "台账.xlsx"}
    assert (settings.inbox / "自评表.xlsx").stat().st_mtime == OLD  # the department's time
    # the source is left as it was
    assert sorted(p.name for p in a.iterdir()) == ["自评表.xlsx", "说明.txt"]
    # a second night pulls nothing
    second = pull(settings, sources)
    assert [(r.pulled, r.unchanged) for r in second] == [([], 1), ([], 1)]
    # a resubmitted file (new content, new save time) is pulled again
    _drop(a, "自评表.xlsx", b"PK\x03\x04 workbook v2", mtime=OLD + 3600)
    third = pull(settings, sources)
    assert third[0].pulled == ["自评表.xlsx"] and third[1].pulled == []
    assert _inbox(settings)["自评表.xlsx"] == b"PK\x03\x04 workbook v2"


def test_one_source_down_fails_alone(settings: Settings, tmp_path: Path) -> None:
    good = tmp_path / "good"
    _drop(good, "a.xlsx")
    sources = [
        Source("断线", "folder", str(tmp_path / "missing")),
        Source("正常", "folder", str(good)),
    ]
    down, ok = pull(settings, sources, attempts=2, delay=0)
    assert down.status == "failed" and "missing" in (down.error or "")
    assert ok.status == "passed" and ok.pulled == ["a.xlsx"]
    assert set(_inbox(settings)) == {"a.xlsx"}


def test_same_name_from_two_departments_is_kept_apart(settings: Settings, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _drop(a, "自评表.xlsx", b"PK A")
    _drop(b, "自评表.xlsx", b"PK B")
    pull(settings, [Source("甲局", "folder", str(a)), Source("乙局", "folder", str(b))])
    assert _inbox(settings) == {"自评表.xlsx": b"PK A", "乙局__自评表.xlsx": b"PK B"}


def test_delete_after_pull_only_when_configured(settings: Settings, tmp_path: Path) -> None:
    a = tmp_path / "a"
    _drop(a, "x.xlsx")
    (result,) = pull(settings, [Source("甲局", "folder", str(a), delete_after_pull=True)])
    assert result.removed == 1 and not (a / "x.xlsx").exists()
    assert set(_inbox(settings)) == {"x.xlsx"}


class _Flaky(FolderClient):
    """A folder whose listing fails ``fails`` times, and whose fetch can break half-way."""

    def __init__(self, source: Source, fails: int, break_fetch: bool = False) -> None:
        super().__init__(source)
        self.fails, self.break_fetch = fails, break_fetch

    def list(self) -> list[RemoteFile]:
        if self.fails:
            self.fails -= 1
            raise ConnectionResetError("connection reset by peer")
        return super().list()

    def fetch(self, name: str, local: Path) -> None:
        if self.break_fetch:
            local.write_bytes(b"PK half a file")
            raise ConnectionResetError("transfer interrupted")
        super().fetch(name, local)


def test_transient_errors_are_retried(settings: Settings, tmp_path: Path) -> None:
    a = tmp_path / "a"
    _drop(a, "x.xlsx")
    (result,) = pull(
        settings,
        [Source("甲局", "folder", str(a))],
        attempts=3,
        delay=0,
        opener=lambda s: _Flaky(s, fails=2),
    )
    assert result.status == "passed" and result.pulled == ["x.xlsx"]


def test_a_half_transferred_file_never_reaches_the_inbox(
    settings: Settings, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    _drop(a, "x.xlsx")
    (result,) = pull(
        settings,
        [Source("甲局", "folder", str(a))],
        attempts=2,
        delay=0,
        opener=lambda s: _Flaky(s, fails=0, break_fetch=True),
    )
    assert result.status == "failed" and "interrupted" in (result.error or "")
    assert list(settings.inbox.iterdir()) == []  # no partial file, no leftover .part
    # and the next night tries it again (it was never recorded as pulled)
    (again,) = pull(settings, [Source("甲局", "folder", str(a))])
    assert again.pulled == ["x.xlsx"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("sources: [{name: 甲局, kind: sftp, path: /up, conn_id: c, password: x}]", "credentials"),
        ("sources: [{name: 甲局, kind: sftp, path: /up}]", "conn_id"),
        ("sources: [{name: 甲局, kind: ftp, path: /up}]", "kind"),
        ("sources: [{name: 甲局, kind: folder, path: /up, colour: red}]", "unknown keys"),
        ("sources: [{name: 甲局, kind: folder}]", "path"),
        (
            "sources: [{name: 甲, kind: folder, path: /a}, {name: 甲, kind: folder, path: /b}]",
            "duplicate",
        ),
        ("sources: {name: 甲局}", "list"),
        ("sources: [unclosed", "YAML"),
    ],
)
def test_a_wrong_sources_file_says_what_to_fix(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "sources.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourcesError, match=says) as err:
        load_sources(path)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(err.value))  # and in Chinese


def test_a_valid_sources_file(tmp_path: Path) -> None:
    path = tmp_path / "sources.yml"
    path.write_text(
        "sources:\n"
        "  - {name: 新丰县政务服务数据管理局, kind: sftp, conn_id: sftp_xinfeng, path: /upload}\n"
        "  - {name: 江门市, kind: folder, path: /mnt/jm, patterns: ['*.xlsx'],"
        " delete_after_pull: true}\n",
        encoding="utf-8",
    )
    xf, jm = load_sources(path)
    assert (xf.kind, xf.conn_id, xf.patterns, xf.delete_after_pull) == (
        "sftp",
        "sftp_xinfeng",
        ("*.xlsx", "*.xlsm", "*.xls"),
        False,
    )
    assert (jm.kind, jm.patterns, jm.delete_after_pull) == ("folder", ("*.xlsx",), True)
