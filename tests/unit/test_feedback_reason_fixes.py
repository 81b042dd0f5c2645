"""Every reason code has a bilingual, actionable fix for the feedback workbook (修改方法)."""

from __future__ import annotations

import re

import pytest

from jixiao.ingest.errors import REASON_CODES, REASON_FIXES

_HAN = re.compile(r"[\u4e00-\u9fff]")


def test_every_reason_code_has_a_fix_and_no_fix_is_orphaned() -> None:
    assert set(REASON_FIXES) == set(REASON_CODES)


@pytest.mark.parametrize("code", sorted(REASON_CODES))
def test_fix_is_chinese_then_english_and_says_what_to_do(code: str) -> None:
    zh, en = REASON_FIXES[code]
    assert _HAN.search(zh) and zh.endswith("。"), zh
    # the Chinese text carries no English sentence (file-type names such as .xlsx are fine)
    assert not re.search(r"[A-Za-z]{4,} [A-Za-z]{3,} [A-Za-z]{3,}", zh), zh
    # English may quote the Chinese words a clerk types (金额单位：万元, 调减), nothing else
    quoted = ("金额单位：万元", "单位：元", "千元", "万元", "亿元", "元", "调减")
    plain = en
    for word in quoted:
        plain = plain.replace(word, "")
    assert not _HAN.search(plain), en
    assert en[0].isupper() and en.endswith("."), en
    assert zh != REASON_CODES[code][0] and en != REASON_CODES[code][1]
