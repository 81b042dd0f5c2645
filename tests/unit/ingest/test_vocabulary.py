"""The vocabulary file: every term the source documents use is known, lookups behave (词表)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from jixiao.ingest import vocabulary
from jixiao.ingest.layouts.common import labelled_value
from jixiao.ingest.layouts.ledger import LEDGERS, LINE_TYPES, match_header
from jixiao.ingest.workbook import Sheet

SEED_TERMS = yaml.safe_load(
    (Path(__file__).parents[2] / "fixtures" / "seed_terms.yaml").read_text("utf-8")
)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(
    "entry", SEED_TERMS, ids=[f"{e['doc']}-{'.'.join(e['path'])}-{e['term']}" for e in SEED_TERMS]
)
def test_every_term_the_documents_use_is_known(entry: dict) -> None:
    # the fixture is honest: the term occurs in the words quoted from the document
    assert _flat(entry["term"]) in _flat(entry["quote"])
    assert vocabulary.normalise(entry["term"]) in _terms_at(entry["path"]), (
        f"{entry['term']} (seed {entry['doc']}) is not in vocabulary.yaml under "
        f"{'.'.join(entry['path'])}"
    )


def _terms_at(path: list[str]) -> set[str]:
    node = vocabulary.entry(*path)
    if isinstance(node, dict):  # a code mapping: any of its words
        return {vocabulary.normalise(w) for words in node.values() for w in words}
    return {vocabulary.normalise(w) for w in node}


def test_every_field_of_the_domain_has_terms() -> None:
    for field in ("project_name", "department", "implementing_unit", "fiscal_year", "period"):
        assert vocabulary.terms("labels", field)
    for kind, cols in LEDGERS.items():
        assert cols, kind
        for col in cols:
            assert col.aliases, (kind, col.field)


def test_line_types_from_the_documents_map_to_their_codes() -> None:
    assert LINE_TYPES["年中压减"] == "cut"  # seed 000's own wording for a mid-year cut
    assert LINE_TYPES["收回"] == "cut"
    assert LINE_TYPES["年初安排"] == "initial"
    assert LINE_TYPES["调整后预算"] == "final"


def test_priority_decides_a_term_listed_for_two_fields() -> None:
    # 需求单位 alone: it is the department (and there is no implementing unit column)
    hits = match_header(["项目编码", "项目名称", "需求单位", "项目类别"])["projects"]
    assert hits["department_name"][0] == 2
    assert "implementing_unit" not in hits
    # with 主管部门 beside it, 主管部门 is the department and 需求单位 the implementing unit
    hits = match_header(["项目名称", "需求单位", "主管部门"])["projects"]
    assert hits["department_name"][0] == 2
    assert hits["implementing_unit"][0] == 1


def test_labelled_value_prefers_the_earlier_label_wherever_it_stands() -> None:
    sheet = Sheet("s", [["项目单位", "甲局"], ["项目名称", "X"], ["主管部门", "乙局"]])
    found = labelled_value(sheet, vocabulary.entry("labels", "department"))
    assert found is not None and found[0] == "乙局"
    sheet = Sheet("s", [["项目单位：甲局"], ["项目名称", "X"]])
    found = labelled_value(sheet, vocabulary.entry("labels", "department"))
    assert found is not None and found[0] == "甲局"


def test_closest_names_a_known_term() -> None:
    assert vocabulary.closest("支付金钱") == "支付金额"
    assert vocabulary.closest("项目明称", vocabulary.terms("labels", "project_name")) == "项目名称"
    assert vocabulary.closest("zzzzzz") is None


def test_normalise_matches_how_headers_are_written() -> None:
    assert vocabulary.normalise(" *主管部门： ") == "主管部门"
    assert vocabulary.normalise("ＰＲＯＪＥＣＴ_ＣＯＤＥ") == "project_code"
