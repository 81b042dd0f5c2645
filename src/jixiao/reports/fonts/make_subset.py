"""Rebuild the bundled CJK font subset (字体子集) used by report charts and HTML.

Not run at report time: the subset is committed beside this script. To rebuild it::

    pip download --no-deps cvttf-notosanscjk-regular -d /tmp/font
    unzip /tmp/font/*.whl -d /tmp/font/x
    .venv/bin/python src/jixiao/reports/fonts/make_subset.py \
        /tmp/font/x/cvttf_NotoSansCJK_Regular/NotoSansCJKtc-Regular.otf

The source is Noto Sans CJK (Adobe/Google, SIL Open Font License 1.1, see OFL-1.1.txt).
The subset keeps printable ASCII, Latin-1, general punctuation, CJK symbols, full-width
forms and every character of GB 2312 (6,763 汉字 + symbols), which covers the simplified
Chinese of budget documents. Characters outside it fall back to the reader's fonts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset

OUT = Path(__file__).with_name("NotoSansCJK-Jixiao-Subset.otf")


def gb2312_characters() -> set[str]:
    """All characters encodable in GB 2312 (国标二级字库)."""
    chars: set[str] = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def wanted_codepoints() -> list[int]:
    """Code points kept in the subset (保留的字符)."""
    ranges = [
        (0x20, 0x7E),
        (0xA0, 0xFF),
        (0x2000, 0x206F),
        (0x2100, 0x214F),
        (0x2190, 0x21FF),
        (0x2200, 0x22FF),
        (0x2460, 0x24FF),
        (0x25A0, 0x25FF),
        (0x3000, 0x303F),
        (0xFF00, 0xFFEF),
    ]
    cps = {cp for lo, hi in ranges for cp in range(lo, hi + 1)}
    cps |= {ord(c) for c in gb2312_characters()}
    return sorted(cps)


def main(source: str) -> None:
    """Write the subset next to this script."""
    options = subset.Options()
    options.hinting = False
    options.desubroutinize = False
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    font = subset.load_font(source, options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted_codepoints())
    subsetter.subset(font)
    font.save(str(OUT))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1])
