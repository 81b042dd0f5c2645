"""The published file is readable by the DuckDB 1.4.x that BI drivers bundle (存储兼容版本).

DuckDB 1.4.x opens files whose header storage number is 64..67; DuckDB 2.0's default
('latest') writes 999. The header number is checked on every run; set
``JIXIAO_OLD_DUCKDB_PYTHON`` to a Python with ``duckdb==1.4.*`` installed to also open the
file with the real old reader (skipped otherwise).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from jixiao.config import Settings
from jixiao.publish.publisher import PublishError, connect_readonly, publish
from jixiao.publish.storage import (
    StorageVersionError,
    read_storage_number,
    readable_by,
)

MakeMarts = Callable[..., Settings]


def test_published_file_has_a_storage_number_duckdb_1_4_reads(
    make_marts: MakeMarts, tmp_path: Path
) -> None:
    settings = make_marts("run-1", 3)
    result = publish(settings, run_id="run-1")

    assert result.storage_number == read_storage_number(settings.published) == 67
    assert readable_by(settings.published, "1.4")
    assert not readable_by(settings.published, "1.3")
    con = connect_readonly(settings)
    try:
        tags = con.execute(
            "select tags['storage_version'] from duckdb_databases() "
            "where database_name = current_database()"
        ).fetchone()[0]
    finally:
        con.close()
    assert tags == "v1.4.0+"

    # the property tells files apart: DuckDB 2.0's default format is not readable by 1.4
    default_file = tmp_path / "default.duckdb"
    con = duckdb.connect(str(default_file))
    con.execute("create table t as select 1 as a")
    con.close()
    assert read_storage_number(default_file) > 67
    assert not readable_by(default_file, "1.4")


def test_storage_version_can_be_lowered_by_environment(
    make_marts: MakeMarts, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_marts("run-1", 2)
    monkeypatch.setenv("JIXIAO_PUBLISH_STORAGE_VERSION", "v1.2.0")
    result = publish(settings, run_id="run-1")
    assert result.storage_version == "v1.2.0"
    assert read_storage_number(settings.published) == 65

    monkeypatch.setenv("JIXIAO_PUBLISH_STORAGE_VERSION", "v9.9.9")
    with pytest.raises(StorageVersionError, match="JIXIAO_PUBLISH_STORAGE_VERSION"):
        publish(settings, run_id="run-2")
    with pytest.raises(PublishError, match="invalid storage version"):
        publish(settings, run_id="run-2", storage_version="latest")
    assert read_storage_number(settings.published) == 65


def test_not_a_duckdb_file_is_reported(tmp_path: Path) -> None:
    bogus = tmp_path / "x.duckdb"
    bogus.write_bytes(b"PK\x03\x04" + b"\0" * 60)
    with pytest.raises(StorageVersionError, match=r"不是 DuckDB.*not a DuckDB"):
        read_storage_number(bogus)


@pytest.mark.skipif(
    not os.environ.get("JIXIAO_OLD_DUCKDB_PYTHON"),
    reason="set JIXIAO_OLD_DUCKDB_PYTHON to a Python with duckdb 1.4.x to run",
)
def test_real_duckdb_1_4_opens_the_published_file(make_marts: MakeMarts) -> None:
    settings = make_marts("run-1", 3)
    publish(settings, run_id="run-1")
    script = (
        "import duckdb, json, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "rows = con.execute('select table_name, row_count from marts._publish_info').fetchall()\n"
        "real = {t: con.execute(f'select count(*) from marts.\"{t}\"').fetchone()[0]"
        " for t, _ in rows}\n"
        "print(json.dumps({'version': duckdb.__version__, 'info': dict(rows), 'real': real}))\n"
    )
    out = subprocess.run(
        [os.environ["JIXIAO_OLD_DUCKDB_PYTHON"], "-c", script, str(settings.published)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = json.loads(out.stdout)
    assert seen["version"].startswith("1.4.")
    assert (
        seen["info"]
        == seen["real"]
        == {
            "dim_department": 2,
            "fct_budget": 6,
            "mart_project_year": 6,
        }
    )
