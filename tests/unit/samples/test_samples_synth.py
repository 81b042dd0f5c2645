"""The synthetic generator: all layouts, consistent figures, broken files, reproducible bytes."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from decimal import Decimal as D
from pathlib import Path

from openpyxl import load_workbook
from tests.unit.samples._samples_read import num

from jixiao.samples.synth import generate

WAN = D(10000)


def _amount_header(header: list[str]) -> tuple[str, D]:
    for h in header:
        if h == "amount_yuan":
            return h, D(1)
        if h and ("金额" in h or "实际支出" in h):
            return h, WAN if "万元" in h else D(1)
    raise AssertionError(header)


def test_layouts_counts_and_consistency(tmp_path: Path) -> None:
    paths = generate(
        tmp_path,
        departments=2,
        projects_per_department=3,
        indicators_per_project=6,
        payments_per_project=20,
        seed=5,
        broken=4,
    )
    names = [p.name for p in paths]
    assert sum("台账" in n for n in names) == 2
    assert sum("自评表" in n for n in names) == 2 and sum("评分表" in n for n in names) == 2
    assert sum(n.startswith("broken_") for n in names) == 4
    ledger = next(p for p in paths if "S5-001" in p.name and "台账" in p.name)
    wb = load_workbook(ledger)
    ws = wb["支付"]
    rows = [r for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)]
    start = next(i for i, r in enumerate(rows) if r[0] == "项目编码")
    header = [str(h) for h in rows[start]]
    col, factor = _amount_header(header)
    unit = factor
    if col in ("支付金额", "金额", "实际支出"):  # unit in a caption above the table
        caption = next(r[0] for r in rows[:start] if r[0] and "金额单位" in str(r[0]))
        unit = WAN if "万元" in caption else D(1)
    spent: dict[str, D] = defaultdict(D)
    counts: dict[str, int] = defaultdict(int)
    for r in rows[start + 1 :]:
        rec = dict(zip(header, r, strict=False))
        spent[rec["项目编码"]] += num(rec[col]) * unit
        counts[rec["项目编码"]] += 1
    assert set(counts) == {"S5-D001-P001", "S5-D001-P002", "S5-D001-P003"}
    assert all(c == 20 for c in counts.values())
    # the self-evaluation form reports the same execution as the ledger's payments
    form = load_workbook(next(p for p in paths if "S5-001" in p.name and "自评表" in p.name))
    for code in form.sheetnames:
        rows2 = list(form[code].iter_rows(values_only=True))
        funding = next(r for r in rows2 if r[0] and str(r[0]).startswith("项目资金"))
        form_unit = WAN if "万元" in funding[0] else D(1)
        executed = rows2[rows2.index(funding) + 1][4]
        assert num(executed) * form_unit == spent[code]


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    def digests(folder: Path, seed: int) -> list[str]:
        return [
            hashlib.sha256(p.read_bytes()).hexdigest()
            for p in generate(folder, departments=2, projects_per_department=2, seed=seed)
        ]

    assert digests(tmp_path / "a", 1) == digests(tmp_path / "b", 1)
    assert digests(tmp_path / "a", 1) != digests(tmp_path / "c", 2)
