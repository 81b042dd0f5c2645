"""The mart checksum itself (集市校验和) on a tiny DuckDB file: it sees one decimal digit, a
column type, a row, NULL against the empty string, and nothing but the marts' base tables."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from jixiao.config import Settings, get_settings
from jixiao.warehouse import checksums as C

ROWS = [
    ("P-001", "12.34", "甲", 1),
    ("P-002", "0.50", "", 2),
    ("P-003", None, None, 3),
]


def _warehouse(
    path: Path,
    rows: list[tuple[str, str | None, str | None, int]] = ROWS,
    amount_type: str = "decimal(18,2)",
) -> Path:
    """marts.t (the table checksummed), a view and a table of another schema (left out)."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create schema staging")
        con.execute(
            f"create table marts.t (project_key varchar, amount_yuan {amount_type}, "
            "note varchar, n integer)"
        )
        con.executemany("insert into marts.t values (?, cast(? as decimal(18,2)), ?, ?)", rows)
        con.execute("create view marts.v as select * from marts.t")
        con.execute("create table staging.s as select * from marts.t")
    return path


def _settings(tmp_path: Path) -> Settings:
    return get_settings(tmp_path / "home")


def _sums(tmp_path: Path, name: str, **kw: object) -> dict[str, C.TableChecksum]:
    path = _warehouse(tmp_path / f"{name}.duckdb", **kw)  # type: ignore[arg-type]
    return C.mart_checksums(path, _settings(tmp_path))


def test_only_the_marts_base_tables_are_checksummed(tmp_path: Path) -> None:
    sums = _sums(tmp_path, "base")
    assert list(sums) == ["t"]
    assert sums["t"].rows == 3
    assert len(sums["t"].checksum) == 64


def test_the_same_data_gives_the_same_checksum_in_any_row_order(tmp_path: Path) -> None:
    assert _sums(tmp_path, "a") == _sums(tmp_path, "b", rows=list(reversed(ROWS)))


def test_one_decimal_digit_changes_the_checksum(tmp_path: Path) -> None:
    changed = [("P-001", "12.35", "甲", 1), *ROWS[1:]]
    base, other = _sums(tmp_path, "a")["t"], _sums(tmp_path, "b", rows=changed)["t"]
    assert other.rows == base.rows
    assert other.checksum != base.checksum


def test_a_column_type_changes_the_checksum(tmp_path: Path) -> None:
    """decimal(18,2) -> decimal(20,2) with the same values; and (18,2) -> (18,4), where the
    text of every amount gains two zeros (12.34 -> 12.3400)."""
    base = _sums(tmp_path, "a")["t"].checksum
    assert _sums(tmp_path, "b", amount_type="decimal(20,2)")["t"].checksum != base
    assert _sums(tmp_path, "c", amount_type="decimal(18,4)")["t"].checksum != base


def test_an_added_row_changes_the_checksum(tmp_path: Path) -> None:
    base = _sums(tmp_path, "a")["t"]
    more = _sums(tmp_path, "b", rows=[*ROWS, ("P-004", "1.00", "乙", 4)])["t"]
    assert (more.rows, more.checksum != base.checksum) == (4, True)


def test_null_and_the_empty_string_differ(tmp_path: Path) -> None:
    swapped = [ROWS[0], ("P-002", "0.50", None, 2), ("P-003", None, "", 3)]
    assert _sums(tmp_path, "a")["t"].checksum != _sums(tmp_path, "b", rows=swapped)["t"].checksum


def test_an_excluded_column_does_not_count(tmp_path: Path) -> None:
    db_a = _warehouse(tmp_path / "a.duckdb")
    db_b = _warehouse(tmp_path / "b.duckdb", rows=[(k, a, "другой", n) for k, a, _, n in ROWS])
    s = _settings(tmp_path)
    assert C.mart_checksums(db_a, s) != C.mart_checksums(db_b, s)
    assert C.mart_checksums(db_a, s, excluded=["note"]) == C.mart_checksums(
        db_b, s, excluded=["note"]
    )


def test_compare_names_every_added_removed_and_changed_table() -> None:
    a, b = C.TableChecksum(3, "a" * 64), C.TableChecksum(4, "b" * 64)
    problems = C.compare(
        "demo", {"kept": a, "gone": a, "same": a}, {"kept": b, "new": a, "same": a}
    )
    assert len(problems) == 3
    assert "marts.new" in problems[0] and "added" in problems[0]
    assert "marts.gone" in problems[1] and "removed" in problems[1]
    assert "marts.kept" in problems[2] and "rows 3 -> 4" in problems[2]
    assert C.compare("demo", {"same": a}, {"same": a}) == []


def test_the_golden_file_round_trips(tmp_path: Path) -> None:
    corpora = {"demo": {"t": C.TableChecksum(3, "c" * 64)}, "variants": {}}
    C.write_golden(corpora, tmp_path / "golden.json")
    assert C.read_golden(tmp_path / "golden.json") == corpora


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no DuckDB file"):
        C.mart_checksums(tmp_path / "none.duckdb", _settings(tmp_path))


def test_the_committed_golden_file_excludes_what_the_module_excludes() -> None:
    import json

    data = json.loads(C.GOLDEN_FILE.read_text(encoding="utf-8"))
    assert data["excluded_columns"] == C.EXCLUDED_COLUMNS
    assert set(data["corpora"]) == {"demo", "variants"}
