"""Find engine-specific SQL in the dbt project (可移植性检查 / portability check).

The warehouse runs on DuckDB today and should run on PostgreSQL (or Spark) later. Anything
engine-specific belongs in a macro dispatched with ``adapter.dispatch``: a portable
``default__`` implementation plus engine overrides (``duckdb__divide``, ``spark__...``).
:func:`find_engine_specific_sql` scans the raw SQL of models, tests, analyses, snapshots and
macros and reports every DuckDB-only construct it finds outside an engine override.

What is ignored: SQL comments, string literals, Jinja (``{{ ... }}``, ``{% ... %}``,
``{# ... #}``: dbt's cross-database macros and our own macros are the sanctioned way) and the
bodies of macros named ``<engine>__<name>`` other than ``default__``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

SCANNED_FOLDERS: tuple[str, ...] = ("models", "tests", "analyses", "snapshots", "macros")
"""Folders of the dbt project whose ``.sql`` files are scanned (扫描的目录)."""


@dataclass(frozen=True)
class Construct:
    """An engine-specific SQL construct and the portable alternative (非可移植写法)."""

    name: str
    pattern: re.Pattern[str]
    instead: str


def _c(name: str, pattern: str, instead: str) -> Construct:
    return Construct(name, re.compile(pattern, re.IGNORECASE), instead)


ENGINE_SPECIFIC: tuple[Construct, ...] = (
    _c("::", r"::", "cast(x as <type>) / dbt.cast()"),
    _c("qualify", r"\bqualify\b", "a window column filtered in the next CTE"),
    _c("epoch", r"\bepoch(_ms|_us|_ns)?\b", "dbt.datediff()"),
    _c("strftime", r"\bstrftime\s*\(", "extract_date_part() / dbt.concat()"),
    _c("strptime", r"\bstrptime\s*\(", "cast('YYYY-MM-DD' as date)"),
    _c("date_trunc", r"\bdate_trunc\s*\(", "dbt.date_trunc()"),
    _c("date_part", r"\b(date_part|datepart)\s*\(", "extract_date_part() / date_part_month()"),
    _c("date_diff", r"\b(date_diff|datediff|date_sub)\s*\(", "dbt.datediff()"),
    _c("date_add", r"\b(date_add|dateadd)\s*\(", "dbt.dateadd()"),
    _c("interval", r"\binterval\b", "dbt.dateadd()"),
    _c(
        "day functions",
        r"\b(dayofyear|dayofweek|dayofmonth|weekofyear|yearweek|isodow)\s*\(",
        "extract_date_part() / day_of_week_iso()",
    ),
    _c(
        "make_date", r"\b(make_date|make_timestamp|make_time)\s*\(", "cast(dbt.concat(...) as date)"
    ),
    _c("today/now", r"\b(today|now)\s*\(", "dbt.current_timestamp()"),
    _c("list/array function", r"\b(list|array)_[a-z_]+\s*\(", "joins over rows, dbt.array_*()"),
    _c("list literal", r"\[[^\]\n]*\]", "rows, not lists"),
    _c("unnest", r"\bunnest\s*\(", "joins over rows"),
    _c("string_agg", r"\b(string_agg|group_concat)\s*\(", "dbt.listagg()"),
    _c(
        "struct",
        r"\b(struct_pack|struct_extract|row_to_json|to_json|json_extract)\w*\s*\(",
        "flat columns",
    ),
    _c(
        "duckdb integer type",
        r"\b(hugeint|uhugeint|ubigint|uinteger|usmallint|utinyint)\b",
        "decimal(38, 0) / bigint",
    ),
    _c("ilike", r"\bilike\b", "lower(x) like lower(y)"),
    _c("regexp", r"\b(regexp_\w+|regexp)\b", "like / dbt.position() / dbt.replace()"),
    _c("select * exclude/replace", r"\*\s*(exclude|replace|rename)\b", "an explicit column list"),
    _c("columns()", r"\bcolumns\s*\(", "an explicit column list"),
    _c("group/order by all", r"\b(group|order)\s+by\s+all\b", "explicit columns"),
    _c("union by name", r"\bunion(\s+all)?\s+by\s+name\b", "unions with explicit columns"),
    _c("pivot", r"\b(un)?pivot\b", "case when ... then ... end per column"),
    _c("try_cast", r"\btry_cast\s*\(", "dbt.safe_cast()"),
    _c("count_if", r"\bcount_if\s*\(", "sum(case when ... then 1 else 0 end)"),
    _c(
        "arg_max/arg_min",
        r"\b(arg_max|arg_min|argmax|argmin|max_by|min_by)\s*\(",
        "row_number() over (...) = 1",
    ),
    _c("any_value", r"\bany_value\s*\(", "dbt.any_value() / max()"),
    _c("avg", r"\bavg\s*\(", "divide(sum(x), count(x)): DuckDB's avg() of a DECIMAL is a DOUBLE"),
    _c("first/last", r"\b(first|last)\s*\(", "row_number() over (...) = 1"),
    _c("if/iif/ifnull/nvl", r"\b(if|iif|ifnull|nvl|nvl2)\s*\(", "case when / coalesce()"),
    _c("generate_series/range", r"\b(generate_series|range)\s*\(", "dbt.generate_series()"),
    _c("integer division //", r"//", "divide() / floor(a / b)"),
    _c("json arrows", r"->>?", "flat columns"),
    _c(
        "file readers",
        r"\b(read_csv|read_csv_auto|read_parquet|read_json|read_json_auto)\w*\s*\(",
        "sources and seeds",
    ),
)
"""Constructs that are DuckDB-only (or differ between engines) and must sit behind a macro."""


@dataclass(frozen=True)
class Finding:
    """One engine-specific construct found in the project (发现的非可移植写法)."""

    path: Path
    line: int
    construct: str
    text: str
    instead: str

    def message(self) -> str:
        """Where it is and what to use instead, in Chinese and English."""
        return (
            f"{self.path}:{self.line}: 发现数据库专有写法「{self.construct}」，"
            f"请改用 {self.instead}"
            f"（或放入 adapter.dispatch 宏） / engine-specific SQL '{self.construct}' found; "
            f"use {self.instead} (or an adapter.dispatch macro) instead: {self.text.strip()}"
        )


_BLANKABLE = re.compile(
    r"\{#.*?#\}"  # Jinja comment
    r"|\{\{.*?\}\}"  # Jinja expression: dbt / project macros are the portable way
    r"|\{%.*?%\}"  # Jinja statement
    r"|'(?:[^']|'')*'"  # SQL string literal
    r"|--[^\n]*"  # SQL line comment
    r"|/\*.*?\*/",  # SQL block comment
    re.DOTALL,
)
_MACRO_BLOCK = re.compile(
    r"\{%-?\s*macro\s+(?P<name>\w+)\s*\(.*?%\}(?P<body>.*?)\{%-?\s*endmacro\s*-?%\}", re.DOTALL
)
_ENGINE_OVERRIDE = re.compile(r"^(?!default__)[a-z0-9]+__\w+$")


def _blank(match: re.Match[str]) -> str:
    """Replace a match with spaces, keeping its newlines so line numbers stay right."""
    return re.sub(r"[^\n]", " ", match.group(0))


def _without_engine_overrides(text: str) -> str:
    """Blank the bodies of ``<engine>__name`` macros (engine overrides may be engine-specific)."""

    def blank_override(match: re.Match[str]) -> str:
        return _blank(match) if _ENGINE_OVERRIDE.match(match.group("name")) else match.group(0)

    return _MACRO_BLOCK.sub(blank_override, text)


def scannable_sql(text: str) -> str:
    """The SQL left to check: no engine overrides, Jinja, comments or string literals."""
    return _BLANKABLE.sub(_blank, _without_engine_overrides(text))


def find_in_text(text: str, path: Path = Path("<sql>")) -> list[Finding]:
    """Engine-specific constructs in one file's text (单个文件的检查)."""
    original_lines = text.splitlines()
    findings: list[Finding] = []
    for number, line in enumerate(scannable_sql(text).splitlines(), start=1):
        for construct in ENGINE_SPECIFIC:
            if construct.pattern.search(line):
                findings.append(
                    Finding(
                        path, number, construct.name, original_lines[number - 1], construct.instead
                    )
                )
    return findings


def sql_files(project_dir: Path, folders: Iterable[str] = SCANNED_FOLDERS) -> Iterator[Path]:
    """Every ``.sql`` file under the scanned folders of a dbt project, sorted."""
    for folder in folders:
        yield from sorted((project_dir / folder).rglob("*.sql"))


def find_engine_specific_sql(project_dir: Path) -> list[Finding]:
    """Scan a dbt project and return every engine-specific construct outside a macro override.

    An empty list means the models, tests and macros' portable parts could be compiled for
    another engine by adding ``<engine>__`` overrides only.
    """
    findings: list[Finding] = []
    for path in sql_files(project_dir):
        text = path.read_text(encoding="utf-8")
        findings.extend(find_in_text(text, path.relative_to(project_dir)))
    return findings
