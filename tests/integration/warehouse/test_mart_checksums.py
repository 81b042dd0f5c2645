"""The marts stay byte-for-byte the same (集市不变): every marts table of two corpora against
the committed golden file ``tests/golden/mart_checksums.json`` (issue 16, item 7).

* ``demo``: the working warehouse of the session fixture ``published_demo`` (the demo inbox
  through one real night; no second demo build);
* ``variants``: every layout variant of the five canonical submissions, each under project
  keys of its own, through one ingest and one dbt build (the session fixture
  ``variants_built`` of tests/conftest.py, shared with the PostgreSQL e2e test).

A table added, removed or changed is named; when the change is intended, regenerate the
golden file with ``.venv/bin/python scripts/mart_checksums.py --update`` and commit it with
the change. What a checksum covers: :mod:`jixiao.warehouse.checksums`.
"""

from __future__ import annotations

import pytest

from jixiao.config import Settings, duckdb_connect
from jixiao.warehouse import checksums as C

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def _assert_matches_golden(corpus: str, s: Settings) -> None:
    golden = C.read_golden()
    assert corpus in golden, f"{C.GOLDEN_FILE} has no corpus {corpus!r}; run {C.REGENERATE}"
    problems = C.compare(corpus, golden[corpus], C.mart_checksums(s.warehouse, s))
    assert not problems, (
        "集市与基准校验和不一致 / the marts differ from the golden checksums:\n  "
        + "\n  ".join(problems)
        + f"\nIf the change is intended, regenerate {C.GOLDEN_FILE.name} with `{C.REGENERATE}`"
        " and commit it with the change; otherwise the change altered the marts."
    )


def test_demo_marts_match_the_golden_file(published_demo: Settings) -> None:
    _assert_matches_golden("demo", published_demo)


def test_variant_marts_match_the_golden_file(variants_built: Settings) -> None:
    _assert_matches_golden("variants", variants_built)


def test_every_variant_reaches_the_marts(variants_built: Settings) -> None:
    """Each variant has project rows of its own: the checksums depend on every reading."""
    corpus = C.variant_corpus()
    with duckdb_connect(variants_built, variants_built.warehouse, read_only=True) as con:
        keys = [
            k for (k,) in con.execute("select project_key from marts.mart_project_year").fetchall()
        ]
    tags = {C.variant_tag(i) for i in range(len(corpus))}
    seen = {tag for tag in tags if any(k.endswith(f"-{tag}") for k in keys)}
    assert sorted(tags - seen) == []
    assert len(corpus) >= 150
