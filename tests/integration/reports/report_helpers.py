"""Helpers for the yearly report tests: read blocks of generated xlsx and HTML."""

from __future__ import annotations

import html.parser
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from jixiao.config import Settings


@dataclass
class Built:
    """A report build over the fixture marts."""

    settings: Settings
    db: Path
    paths: list[Path]

    def one(self, sub: str, contains: str, suffix: str) -> Path:
        hits = [
            p
            for p in self.paths
            if p.parent.name == sub and contains in p.name and p.suffix == suffix
        ]
        assert len(hits) == 1, (sub, contains, suffix, self.paths)
        return hits[0]

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        con = duckdb.connect(str(self.db), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


def table_rows(path: Path, key: str) -> list[list[Any]]:
    """Values of the defined-name block ``key`` of a workbook (header row included)."""
    wb = load_workbook(path)
    dn = wb.defined_names[key]
    ((sheet, ref),) = list(dn.destinations)
    ws: Worksheet = wb[sheet]
    return [[c.value for c in row] for row in ws[ref.replace("$", "")]]


def as_dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class TableParser(html.parser.HTMLParser):
    """Collect every ``data-table`` of a report page: rows of ``data-value`` and text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str]]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._value = ""
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("data-table") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag == "td" and self._table is not None:
            self._cell, self._value = [], a.get("data-value") or ""
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "td" and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append((self._value, "".join(self._cell)))
            self._cell = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_title:
            self.title += data


def parse_html(path: Path) -> TableParser:
    parser = TableParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def html_rows(path: Path, key: str) -> list[list[tuple[str, str]]]:
    """Body rows (no header) of table ``key``: (data-value, shown text) per cell."""
    return [r for r in parse_html(path).tables[key] if r]
