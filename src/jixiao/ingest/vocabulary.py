"""The ingest vocabulary as data (词表): labels, column names and code words with variants.

Everything lives in ``vocabulary.yaml`` beside this module, which data stewards review and
extend (docs/input-formats.md). This module loads it once and offers normalised lookups:

* :func:`terms` – the normalised terms of one entry, in priority order;
* :func:`codes` – a code mapping (normalised cell text -> code) such as line types;
* :func:`closest` – the closest known term to an unknown header, for rejection messages.
"""

from __future__ import annotations

import difflib
from functools import cache
from importlib import resources
from typing import Any

import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lock

from jixiao.ingest.values import compact


def normalise(term: Any) -> str:
    """A term as labels are compared: NFKC, no whitespace, lower case, no '*' or colon."""
    return compact(term).lower().lstrip("*").rstrip(":：")


@cache
def data() -> dict[str, Any]:
    """The whole vocabulary file, parsed once per process."""
    text = resources.files("jixiao.ingest").joinpath("vocabulary.yaml").read_text("utf-8")
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


def entry(*path: str) -> Any:
    """The raw entry at ``path`` (e.g. ``entry("ledgers", "payments", "columns")``)."""
    node: Any = data()
    for key in path:
        node = node[key]
    return node


@cache
def terms(*path: str) -> tuple[str, ...]:
    """Normalised terms of a list entry, in priority order, without duplicates."""
    out: list[str] = []
    for t in entry(*path):
        n = normalise(t)
        if n not in out:
            out.append(n)
    return tuple(out)


@cache
def columns(*path: str) -> dict[str, tuple[str, ...]]:
    """field -> normalised terms, for a mapping of fields to term lists (in file order)."""
    return {field: terms(*path, field) for field in entry(*path)}


@cache
def codes(*path: str) -> dict[str, str]:
    """Normalised cell text -> code for a code mapping (``codes``/``line_type`` ...)."""
    out: dict[str, str] = {}
    for code, words in entry(*path).items():
        for w in words:
            out.setdefault(normalise(w), str(code))
    return out


@cache
def words(*path: str) -> tuple[str, ...]:
    """The terms of a list entry as written in the file (for readers that match their own way)."""
    return tuple(str(w) for w in entry(*path))


@cache
def word_lists(*path: str) -> dict[str, tuple[str, ...]]:
    """field -> terms as written, for a mapping of fields to term lists (in file order)."""
    return {str(k): tuple(str(w) for w in v) for k, v in entry(*path).items()}


@cache
def word_codes(*path: str) -> dict[str, str]:
    """Term as written -> code, for a code mapping (``codes``/``stage`` ...)."""
    return {str(w): str(code) for code, ws in entry(*path).items() for w in ws}


@cache
def all_terms() -> frozenset[str]:
    """Every normalised term in the file (labels, columns and code words)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                if isinstance(v, str):
                    found.add(normalise(v))
                else:
                    walk(v)

    walk(data())
    return frozenset(found)


def closest(text: Any, candidates: tuple[str, ...] | None = None) -> str | None:
    """The known term closest to ``text`` (for "did you mean …" in messages), or None."""
    pool = list(candidates if candidates is not None else all_terms())
    hit = difflib.get_close_matches(normalise(text), pool, n=1, cutoff=0.5)
    return hit[0] if hit else None
