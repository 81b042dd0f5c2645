"""Every DuckDB file jixiao opens gets the operator's resource settings (统一的 DuckDB 资源设置).

``JIXIAO_DUCKDB_MEMORY_LIMIT`` / ``JIXIAO_DUCKDB_THREADS`` bound a night only if every
connection honours them; and DuckDB refuses a second connection to an open file with a
different configuration, so one process must not mix configured and bare connections.
"""

from __future__ import annotations

import ast
from pathlib import Path

import duckdb
import pytest

from jixiao.config import get_settings
from jixiao.publish.readers import connect_readonly
from jixiao.quality.report import _Relations
from jixiao.reports.feedback import collect_feedback

SRC = Path(__file__).resolve().parents[2] / "src" / "jixiao"


def _bare_file_connects(path: Path) -> list[int]:
    """Lines of ``duckdb.connect(<something>)`` calls (in-memory ``duckdb.connect()`` is fine)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "connect"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "duckdb"
            and (node.args or node.keywords)
        ):
            out.append(node.lineno)
    return out


def test_only_config_opens_duckdb_files() -> None:
    found = {
        str(p.relative_to(SRC)): lines
        for p in sorted(SRC.rglob("*.py"))
        if p.name != "config.py" and (lines := _bare_file_connects(p))
    }
    assert found == {}, (
        f"open DuckDB files through jixiao.config.duckdb_connect, not duckdb.connect: {found}"
    )


def test_the_scan_sees_a_bare_connect(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import duckdb\ncon = duckdb.connect('x.duckdb', read_only=True)\n")
    assert _bare_file_connects(bad) == [2]


def _limit_of(size: str) -> str:
    with duckdb.connect(config={"memory_limit": size}) as con:
        row = con.execute("select current_setting('memory_limit')").fetchone()
    assert row is not None
    return str(row[0])


def test_readers_open_with_the_operators_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIXIAO_DUCKDB_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("JIXIAO_DUCKDB_THREADS", "1")
    settings = get_settings(tmp_path / "home").ensure()
    for db in (settings.warehouse, settings.published):
        duckdb.connect(str(db)).close()

    published = connect_readonly(settings)
    relations = _Relations(settings)
    try:
        for con in (published, relations.con):
            row = con.execute(
                "select current_setting('memory_limit'), current_setting('threads')"
            ).fetchone()
            assert row == (_limit_of("300MB"), 1)
        # A second reader of the warehouse in the same process shares the configuration.
        assert collect_feedback(settings) == []
    finally:
        published.close()
        relations.con.close()
