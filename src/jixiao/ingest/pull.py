"""Pull the departments' workbooks from where they put them (从各部门的来源拉取工作簿).

Departments drop workbooks into their own folder on a file share or an SFTP server. A sources
file (YAML; ``JIXIAO_SOURCES_FILE``, default ``$JIXIAO_HOME/sources.yml``; none means the
local inbox only) lists them::

    sources:
      - name: 新丰县政务服务数据管理局      # shown in the report; also the inbox name prefix
        kind: sftp                         # sftp | folder
        conn_id: sftp_xinfeng              # an Airflow connection: host, port, login, key
        path: /upload/xinfeng
        patterns: ["*.xlsx", "*.xls"]      # optional; default every workbook suffix
        delete_after_pull: false           # optional; the source is never changed by default
      - name: 江门市政务服务数据管理局
        kind: folder                       # a local or mounted folder
        path: /mnt/share/jiangmen

Credentials never live in the file: an ``sftp`` source names an Airflow connection (or the
secrets backend behind it), read through the SFTP provider's hook.

Each night :func:`pull` lists every source, fetches the files that are new or changed since
the last pull (by name, size and modification time, kept in ``$JIXIAO_HOME/pull/state.json``),
and writes each one into the inbox atomically: a hidden temporary name the ingest never reads,
then a rename. The copy keeps the remote modification time and its arrival in the inbox is the
rename, so the ingest's originals-before-copies and newer-version rules see the department's
own times. Transient failures are retried with backoff; a source that stays down fails only
its own pull, is reported, and the other sources still load. Nothing at the source is moved or
deleted unless ``delete_after_pull`` says so.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import yaml  # type: ignore[import-untyped]

from jixiao.config import Settings
from jixiao.errors import DataError

DEFAULT_PATTERNS = ("*.xlsx", "*.xlsm", "*.xls")
KINDS = ("folder", "sftp")
_KEYS = {"name", "kind", "path", "conn_id", "patterns", "delete_after_pull"}
_SECRET_KEYS = {"password", "passwd", "key", "private_key", "key_file", "secret", "token"}
STATE_NAME = "state.json"


class SourcesError(DataError):
    """The sources file is wrong (来源配置错误): fix the file, retrying will not help."""


@dataclass(frozen=True)
class Source:
    """One department's source (一个部门的来源)."""

    name: str
    kind: str
    path: str
    conn_id: str | None = None
    patterns: tuple[str, ...] = DEFAULT_PATTERNS
    delete_after_pull: bool = False


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    mtime: float


class Client(Protocol):
    """What a source offers the pull (来源客户端): list, fetch, and remove one file."""

    def list(self) -> list[RemoteFile]: ...

    def fetch(self, name: str, local: Path) -> None: ...

    def remove(self, name: str) -> None: ...


def sources_file(settings: Settings) -> Path:
    """``JIXIAO_SOURCES_FILE``, else ``$JIXIAO_HOME/sources.yml`` (来源配置文件)."""
    raw = os.environ.get("JIXIAO_SOURCES_FILE", "").strip()
    return Path(raw) if raw else settings.home / "sources.yml"


def load_sources(path: Path) -> list[Source]:
    """The sources in ``path``; an absent file means none. A wrong file is a
    :class:`SourcesError` naming the entry, the key and how to fix it, in Chinese and English."""
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise SourcesError(
            f"来源配置文件 {path} 不是有效的 YAML：{err} / The sources file {path} is not valid "
            f"YAML: {err}"
        ) from err
    items = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise SourcesError(
            f"来源配置文件 {path} 须有 sources: 列表 / The sources file {path} must hold a "
            "'sources:' list"
        )
    out: list[Source] = []
    for i, item in enumerate(items, start=1):
        where = f"{path} 第{i}项 / entry {i}"
        if not isinstance(item, dict):
            raise SourcesError(f"{where}: 须为映射 / must be a mapping")
        secrets = sorted(k for k in item if str(k).lower() in _SECRET_KEYS)
        if secrets:
            raise SourcesError(
                f"{where}: 不得在来源文件中写凭据 {secrets}；"
                "请放入 Airflow 连接（conn_id）或密钥后端"
                f" / credentials {secrets} must not be in the sources file: put them in the "
                "Airflow connection named by conn_id (or the secrets backend)"
            )
        unknown = sorted(set(map(str, item)) - _KEYS)
        if unknown:
            raise SourcesError(
                f"{where}: 未知的键 {unknown}，可用 {sorted(_KEYS)} / unknown keys {unknown}; "
                f"known: {sorted(_KEYS)}"
            )
        name, kind, spath = item.get("name"), item.get("kind"), item.get("path")
        if not name or not isinstance(name, str):
            raise SourcesError(f"{where}: 缺少 name（部门或来源名称）/ missing 'name'")
        if kind not in KINDS:
            raise SourcesError(
                f"{where} ({name}): kind 须为 {'/'.join(KINDS)}，实为 {kind!r} / 'kind' must be "
                f"one of {KINDS}, got {kind!r}"
            )
        if not spath or not isinstance(spath, str):
            raise SourcesError(f"{where} ({name}): 缺少 path / missing 'path'")
        conn_id = item.get("conn_id")
        if kind == "sftp" and not conn_id:
            raise SourcesError(
                f"{where} ({name}): sftp 来源须有 conn_id（Airflow 连接 ID）/ an sftp source "
                "needs 'conn_id' (an Airflow connection id)"
            )
        patterns = item.get("patterns") or list(DEFAULT_PATTERNS)
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise SourcesError(f"{where} ({name}): patterns 须为字符串列表 / must be a list")
        out.append(
            Source(
                name=name,
                kind=str(kind),
                path=spath,
                conn_id=str(conn_id) if conn_id else None,
                patterns=tuple(patterns),
                delete_after_pull=bool(item.get("delete_after_pull", False)),
            )
        )
    names = [s.name for s in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SourcesError(f"{path}: 来源名称重复 {dupes} / duplicate source names {dupes}")
    return out


class FolderClient:
    """A local or mounted folder (本地或挂载目录)."""

    def __init__(self, source: Source) -> None:
        self.root = Path(source.path)

    def list(self) -> list[RemoteFile]:
        if not self.root.is_dir():
            raise FileNotFoundError(f"来源目录不存在 / source folder not found: {self.root}")
        out = []
        for p in sorted(self.root.iterdir()):
            st = p.lstat()
            if stat.S_ISREG(st.st_mode):
                out.append(RemoteFile(p.name, st.st_size, st.st_mtime))
        return out

    def fetch(self, name: str, local: Path) -> None:
        shutil.copyfile(self.root / name, local)

    def remove(self, name: str) -> None:
        (self.root / name).unlink()


class SftpClient:
    """An SFTP folder through the Airflow SFTP provider's hook (SFTP 来源)."""

    def __init__(self, source: Source) -> None:
        from airflow.providers.sftp.hooks.sftp import SFTPHook

        self.source = source
        self.hook = SFTPHook(ssh_conn_id=source.conn_id)
        self.sftp = self.hook.get_conn()

    def _remote(self, name: str) -> str:
        return f"{self.source.path.rstrip('/')}/{name}"

    def list(self) -> list[RemoteFile]:
        return [
            RemoteFile(a.filename, int(a.st_size or 0), float(a.st_mtime or 0))
            for a in sorted(self.sftp.listdir_attr(self.source.path), key=lambda a: a.filename)
            if a.st_mode is not None and stat.S_ISREG(a.st_mode)
        ]

    def fetch(self, name: str, local: Path) -> None:
        self.sftp.get(self._remote(name), str(local))

    def remove(self, name: str) -> None:
        self.sftp.remove(self._remote(name))

    def close(self) -> None:
        self.hook.close_conn()


def _open(source: Source) -> Client:
    return SftpClient(source) if source.kind == "sftp" else FolderClient(source)


@contextmanager
def _client(
    source: Source, opener: Callable[[Source], Client], attempts: int, delay: float
) -> Iterator[Client]:
    """The source's client, connected with retries, closed afterwards."""
    client: Client = _retry(lambda: opener(source), attempts, delay)
    try:
        yield client
    finally:
        close = getattr(client, "close", None)
        if close is not None:
            close()


def _retry(fn: Callable[[], Any], attempts: int, delay: float) -> Any:
    """``fn`` again after a transient error, with exponential backoff (重试)."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception:  # a network, server or file-share error: try again, then give up
            if attempt == attempts:
                raise
            time.sleep(delay * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class SourceResult:
    """What one source's pull did (单个来源的拉取结果)."""

    name: str
    kind: str
    status: str = "passed"  # passed | failed
    listed: int = 0
    pulled: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: int = 0
    error: str | None = None


def _state_path(settings: Settings) -> Path:
    return settings.home / "pull" / STATE_NAME


def _load_state(settings: Settings) -> dict[str, dict[str, dict[str, Any]]]:
    path = _state_path(settings)
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _save_state(settings: Settings, state: dict[str, Any]) -> None:
    path = _state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=2, sort_keys=True), "utf-8")
    os.replace(tmp, path)


def _local_name(source: Source, name: str, state: dict[str, Any]) -> str:
    """The inbox name of ``name`` from ``source`` (收件箱文件名): the remote name, or
    ``<source>__<name>`` when another source already delivered a file of that name."""
    taken = {
        entry.get("local")
        for other, files in state.items()
        if other != source.name
        for entry in files.values()
    }
    return f"{source.name}__{name}" if name in taken else name


def pull(
    settings: Settings,
    sources: list[Source] | None = None,
    attempts: int = 3,
    delay: float = 2.0,
    opener: Callable[[Source], Client] = _open,
) -> list[SourceResult]:
    """Fetch every source's new and changed files into the inbox (拉取新增和变更文件)."""
    if sources is None:
        sources = load_sources(sources_file(settings))
    settings.inbox.mkdir(parents=True, exist_ok=True)
    state = _load_state(settings)
    results = []
    for source in sources:
        result = SourceResult(source.name, source.kind)
        seen = state.setdefault(source.name, {})
        try:
            with _client(source, opener, attempts, delay) as client:
                files = [
                    f
                    for f in _retry(client.list, attempts, delay)
                    if any(fnmatch.fnmatch(f.name.lower(), p.lower()) for p in source.patterns)
                ]
                result.listed = len(files)
                for f in files:
                    known = seen.get(f.name)
                    if known and (known["size"], known["mtime"]) == (f.size, f.mtime):
                        result.unchanged += 1
                        continue
                    local = _local_name(source, f.name, state)
                    target = settings.inbox / local
                    part = settings.inbox / f".{local}.{os.getpid()}.part"  # never read by ingest
                    try:
                        _retry(functools.partial(client.fetch, f.name, part), attempts, delay)
                        os.utime(part, (f.mtime, f.mtime))  # the department's own save time
                        os.replace(part, target)  # arrival: the rename, atomic
                    finally:
                        part.unlink(missing_ok=True)
                    seen[f.name] = {
                        "size": f.size,
                        "mtime": f.mtime,
                        "local": local,
                        "pulled_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    }
                    _save_state(settings, state)  # a crash later never re-pulls this one
                    result.pulled.append(local)
                    if source.delete_after_pull:
                        client.remove(f.name)
                        result.removed += 1
        except Exception as err:  # one source down fails only its own pull
            result.status = "failed"
            result.error = f"{type(err).__name__}: {err}"
        results.append(result)
    _save_state(settings, state)
    return results
