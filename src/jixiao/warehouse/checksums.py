"""Checksums of every mart table (集市校验和): a refactoring must leave the marts identical.

:func:`mart_checksums` reads one DuckDB file and gives, for every base table of the ``marts``
schema (views and other schemas left out; the list comes from
:func:`jixiao.warehouse.db.columns`), its row count and a SHA-256 over

* the header: every column's name and declared type, in the table's column order;
* every row, as the JSON list of its values cast to text by DuckDB (a decimal keeps its full
  scale, ``12.50`` stays ``12.50``; NULL is JSON ``null``, the empty string ``""``), the rows
  sorted by all columns (a NULL sorts before any text), so the storage order does not count.

Nothing is rounded or converted through floats. The same warehouse gives the same checksums
on every run; a column that records *when* or *where* a build ran would not, so such columns
are left out, each named with its reason in :data:`EXCLUDED_COLUMNS` (none of the marts has
one today: the marts carry file names, sheet names and row numbers, which come from the
workbooks and are the same on every build, but no load time, run id or absolute path).

Two corpora are checksummed by ``tests/integration/warehouse/test_mart_checksums.py`` against
the committed golden file ``tests/golden/mart_checksums.json``:

* ``demo``: the demo inbox through one real night (:func:`build_demo`, the same stages as the
  session fixture ``published_demo`` in ``tests/conftest.py``);
* ``variants``: every layout variant of the five canonical submissions
  (:mod:`jixiao.samples.variants`) in one inbox, one ingest and one dbt build
  (:func:`build_variant_corpus`). Each variant's project codes (and, for the forms, project
  names) carry the variant's tag (:func:`rekey`), so no variant supersedes another and every
  variant's reading has its own rows in the marts.

``scripts/mart_checksums.py --update`` builds both and rewrites the golden file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jixiao.config import PROJECT_ROOT, Settings, duckdb_connect, get_settings
from jixiao.warehouse import db

#: the schema checksummed (集市层)
MARTS_SCHEMA = "marts"

#: the committed golden file (基准文件) and the command that rewrites it
GOLDEN_FILE = PROJECT_ROOT / "tests" / "golden" / "mart_checksums.json"
REGENERATE = ".venv/bin/python scripts/mart_checksums.py --update"

#: Columns left out of a table's checksum because they record when, by which run or where a
#: build ran rather than what it computed (不计入校验和的列): ``column name -> reason``. Empty:
#: no mart has such a column (checked on the demo and variant builds; ``file_name``,
#: ``sheet_name`` and ``row_number`` come from the workbooks and are the same on every build).
EXCLUDED_COLUMNS: dict[str, str] = {}


@dataclass(frozen=True)
class TableChecksum:
    """One mart table's row count and checksum (表校验和)."""

    rows: int
    checksum: str

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "checksum": self.checksum}


def _sort_key(row: tuple[str | None, ...]) -> tuple[tuple[int, str], ...]:
    return tuple((0, "") if v is None else (1, v) for v in row)


def table_checksum(
    con: Any, table: str, schema: str = MARTS_SCHEMA, excluded: Sequence[str] = ()
) -> TableChecksum:
    """Row count and SHA-256 of ``schema.table`` on an open connection (单表校验和): column
    names and types in order, then every row as text, sorted; ``excluded`` columns left out."""
    cols = [
        (name, dtype)
        for name, dtype in db.typed_columns(con, schema).get(table, [])
        if name not in excluded
    ]
    if not cols:
        raise ValueError(f"{schema}.{table} 没有可校验的列 / has no column to checksum")
    digest = hashlib.sha256()
    digest.update(json.dumps(cols, ensure_ascii=False).encode())
    select = ", ".join(f'cast("{name}" as varchar)' for name, _ in cols)
    rows: list[tuple[str | None, ...]] = con.execute(
        f'select {select} from "{schema}"."{table}"'
    ).fetchall()
    rows.sort(key=_sort_key)
    for row in rows:
        digest.update(b"\n")
        digest.update(json.dumps(list(row), ensure_ascii=False).encode())
    return TableChecksum(rows=len(rows), checksum=digest.hexdigest())


@contextmanager
def _open(path: Path, settings: Settings) -> Iterator[Any]:
    if not path.exists():
        raise FileNotFoundError(f"数据库文件不存在 / no DuckDB file at {path}")
    con = duckdb_connect(settings, path, read_only=True)
    try:
        yield con
    finally:
        con.close()


def mart_checksums(
    path: Path, settings: Settings, excluded: Sequence[str] | None = None
) -> dict[str, TableChecksum]:
    """Every base table of the ``marts`` schema of the DuckDB file ``path`` with its row count
    and checksum (集市校验和), by table name; ``excluded`` defaults to
    :data:`EXCLUDED_COLUMNS`."""
    skip = tuple(EXCLUDED_COLUMNS if excluded is None else excluded)
    with _open(path, settings) as con:
        tables = sorted(db.columns(con, MARTS_SCHEMA, base_tables_only=True))
        return {t: table_checksum(con, t, MARTS_SCHEMA, skip) for t in tables}


# =========================================================================== golden file
def read_golden(path: Path = GOLDEN_FILE) -> dict[str, dict[str, TableChecksum]]:
    """The golden checksums (基准校验和): corpus -> table -> row count and checksum."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        corpus: {t: TableChecksum(int(v["rows"]), str(v["checksum"])) for t, v in tables.items()}
        for corpus, tables in data["corpora"].items()
    }


def write_golden(corpora: dict[str, dict[str, TableChecksum]], path: Path = GOLDEN_FILE) -> None:
    """Write the golden file (写基准文件), sorted, one entry per corpus per table."""
    data = {
        "about": (
            "Checksums of every marts table (jixiao.warehouse.checksums); regenerate with "
            f"`{REGENERATE}` when a change of the marts is intended."
        ),
        "excluded_columns": dict(sorted(EXCLUDED_COLUMNS.items())),
        "corpora": {
            corpus: {t: c.to_dict() for t, c in sorted(tables.items())}
            for corpus, tables in sorted(corpora.items())
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def compare(
    corpus: str, want: dict[str, TableChecksum], got: dict[str, TableChecksum]
) -> list[str]:
    """What differs between the golden and the built marts of ``corpus`` (差异), one line per
    table added, removed or changed; empty when identical."""
    problems = [
        f"{corpus}: marts.{t} 新增 / added (not in the golden file)"
        for t in sorted(set(got) - set(want))
    ]
    problems += [
        f"{corpus}: marts.{t} 缺失 / removed (in the golden file, not built)"
        for t in sorted(set(want) - set(got))
    ]
    for t in sorted(set(want) & set(got)):
        w, g = want[t], got[t]
        if w != g:
            problems.append(
                f"{corpus}: marts.{t} 已变化 / changed: rows {w.rows} -> {g.rows}, "
                f"checksum {w.checksum[:12]} -> {g.checksum[:12]}"
            )
    return problems


# =========================================================================== corpora
def build_demo(home: Path) -> Settings:
    """The demo inbox through one real night (演示语料): ingest, raw gate, dbt build, marts
    gate, publish, the stages of the ``published_demo`` test fixture."""
    from jixiao import pipeline
    from jixiao.samples.demo import build_demo_inbox

    s = get_settings(home).ensure()
    build_demo_inbox(s.inbox)
    paths = pipeline.discover(s)
    pipeline.ingest(paths, s, "demo-night")
    pipeline.plan_night(s, "demo-night", discovered=len(paths))
    pipeline.gate_raw(s, "demo-night")
    pipeline.dbt_build(s, "demo-night")
    pipeline.gate_marts(s, "demo-night")
    pipeline.publish(s, "demo-night")
    return s


def variant_corpus() -> list[tuple[str, tuple[str, ...]]]:
    """The variants of the ``variants`` corpus (版式变体语料): every canonical submission as it
    is and with each transformation that applies to it (``legacy_xls`` only when the BIFF8
    writer is installed), in :data:`jixiao.samples.variants.SEEDS` order."""
    from jixiao.samples import variants as V

    out: list[tuple[str, tuple[str, ...]]] = []
    for seed in V.SEEDS:
        out.append((seed, ()))
        for t in V.applicable(seed):
            if t.name != "legacy_xls" or V.xls_available():
                out.append((seed, (t.name,)))
    return out


def rekey(doc: Any, tag: str) -> None:
    """Give one variant's projects keys of their own (变体专属项目键), in place: every project
    code of a ledger (``project_code``, ``parent_code``) and every form's project code and
    project name get ``-<tag>`` appended, so variants of the same submission neither supersede
    nor duplicate one another in one warehouse. Departments, amounts and scores are kept."""
    if doc.kind == "ledger":
        for sheet in doc.ledger.sheets:
            for row in sheet.rows:
                for key in ("project_code", "parent_code"):
                    if isinstance(row.get(key), str) and row[key]:
                        row[key] = f"{row[key]}-{tag}"
    elif doc.kind == "selfeval":
        for p in doc.forms:
            p.project_name = f"{p.project_name}-{tag}"
            if p.project_code:
                p.project_code = f"{p.project_code}-{tag}"
    else:
        doc.scoring.project_name = f"{doc.scoring.project_name}-{tag}"


def variant_tag(index: int) -> str:
    """The tag of the ``index``-th variant of :func:`variant_corpus` (变体标记): ``V001`` …"""
    return f"V{index + 1:03d}"


def write_variant_inbox(inbox: Path, scratch: Path) -> list[Path]:
    """Render every variant of :func:`variant_corpus`, rekeyed, into ``scratch`` and move its
    workbooks into ``inbox`` (the inbox is read flat) with the variant's tag before the
    suffix (写入变体收件箱): ``<canonical name>_V001.xlsx``; the paths in render order."""
    from jixiao.samples import variants as V

    inbox.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for i, (seed, names) in enumerate(variant_corpus()):
        tag = variant_tag(i)
        doc = V.make_doc(seed, names)
        rekey(doc, tag)
        for path in V.render(doc, scratch / tag):
            paths.append(path.replace(inbox / f"{path.stem}_{tag}{path.suffix}"))
    return paths


def build_variant_corpus(home: Path) -> Settings:
    """Every layout variant in one inbox through one ingest, raw gate and dbt build (变体语料
    构建), with the pipeline's own stages; the working warehouse holds their marts."""
    from jixiao import pipeline

    s = get_settings(home).ensure()
    write_variant_inbox(s.inbox, s.home / "variant_workbooks")
    paths = pipeline.discover(s)
    summary = pipeline.ingest(paths, s, "variants-night")
    bad = [f["file"] for f in summary["files"] if f["status"] != "loaded"]
    if bad or summary["rows_rejected"]:
        raise RuntimeError(
            f"变体语料未能全部载入 / the variant corpus did not load cleanly: files {bad}, "
            f"rows rejected {summary['rows_rejected']}"
        )
    pipeline.plan_night(s, "variants-night", discovered=len(paths))
    pipeline.gate_raw(s, "variants-night")
    pipeline.dbt_build(s, "variants-night")
    return s
