"""Formula results that are Excel errors, and mistyped numbers (公式错误值与输错的数字)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jixiao.ingest.errors import CellError
from jixiao.ingest.security import DEFAULT_LIMITS, check_file
from jixiao.ingest.values import parse_amount
from jixiao.ingest.workbook import read_workbook
from jixiao.samples import bad_inputs


def test_a_cached_div0_reaches_the_reader_as_the_error_text(tmp_path: Path) -> None:
    path = bad_inputs.formula_error_div0(tmp_path)[0]
    report = check_file(path, DEFAULT_LIMITS)
    assert report.error_cells == {"支付": {(3, 3): "#DIV/0!"}}
    sheet = next(s for s in read_workbook(path, report=report).sheets if s.name == "支付")
    assert sheet.rows[3][3] == "#DIV/0!"  # calamine alone reads the cell as blank
    with pytest.raises(CellError) as exc:
        parse_amount(sheet.rows[3][3], "元")
    assert exc.value.reason_code == "unparseable_value"


@pytest.mark.parametrize("text", ["12..5", "1.2.3元", "3,00.0.1"])
def test_digits_after_a_number_are_a_mistyped_number_not_a_unit(text: str) -> None:
    with pytest.raises(CellError) as exc:
        parse_amount(text, "元")
    assert exc.value.reason_code == "unparseable_value"
