"""The ingest vocabulary against the seeds it mirrors (词表与种子表一致).

The seeds (``seeds/*.csv``) hold the rules the warehouse applies; the ingest vocabulary maps
what people write in cells to the same codes. A code the seeds know and the readers cannot
produce, or the other way round, would load rows the marts drop or reject rows the rules
accept, so each mirrored code list is checked here, and the template's drop-downs, which now
come from the seeds, must be words the readers recognise.
"""

from __future__ import annotations

from decimal import Decimal

from jixiao import rules
from jixiao.ingest import template, values, vocabulary


def codes_of(*path: str) -> set[str]:
    return set(vocabulary.entry(*path))


def test_fund_sources_match_the_seed() -> None:
    seeded = dict(rules.fund_sources())
    assert codes_of("codes", "fund_source") == set(seeded)
    recognised = vocabulary.codes("codes", "fund_source")
    for code, name in seeded.items():  # the seed's own name is read as its code
        assert recognised.get(vocabulary.normalise(name)) == code, (code, name)


def test_grades_match_the_seed() -> None:
    assert set(vocabulary.word_codes("codes", "grade").values()) == set(rules.grades())
    assert codes_of("codes", "grade") == set(rules.grades())


def test_acceptance_stages_match_the_seed() -> None:
    assert codes_of("codes", "stage") == {r["stage"] for r in rules.seed("acceptance_stages")}


def test_evaluation_types_are_labelled() -> None:
    labelled = {
        r["code"] for r in rules.seed("report_code_labels") if r["code_type"] == "evaluation_type"
    }
    assert codes_of("codes", "evaluation_type") <= labelled


def test_every_money_unit_of_the_seed_is_read_at_its_factor() -> None:
    """seeds/unit_factors.csv is the ingest's list of units: each unit, by its Chinese and
    English names, in a header and in a cell, converts one unit to its factor in yuan."""
    rows = rules.seed("unit_factors")
    assert {r["unit"] for r in rows} == {"元", "千元", "万元", "亿元"}
    for row in rows:
        unit, factor = row["unit"], Decimal(row["factor_to_yuan"])
        assert values.parse_unit(row["unit_en"]) == unit
        assert values.unit_from_label(f"金额（{unit}）") == unit
        assert values.parse_amount("2.5", unit) == (
            (Decimal("2.5") * factor).quantize(values.FEN),
            unit,
        )
        assert values.parse_amount(f"2.5{unit}", None) == (
            (Decimal("2.5") * factor).quantize(values.FEN),
            unit,
        )


def test_the_templates_drop_downs_are_the_seeds_and_read_back() -> None:
    assert rules.grades() == template.GRADES
    assert rules.categories() == template.CATEGORIES
    assert tuple(name for _, name in rules.fund_sources()) == template.FUND_SOURCES
    fund = vocabulary.codes("codes", "fund_source")
    assert all(vocabulary.normalise(n) in fund for n in template.FUND_SOURCES)
    grade = vocabulary.word_codes("codes", "grade")
    assert all(g in grade for g in template.GRADES)


def test_a_seed_missing_a_code_is_caught(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The checks read the seed files themselves: a seed without 其他资金 differs."""
    source = rules.SEEDS_DIR / "fund_sources.csv"
    lines = source.read_text(encoding="utf-8").splitlines()
    (tmp_path / "fund_sources.csv").write_text(
        "\n".join(line for line in lines if not line.startswith("other,")) + "\n", "utf-8"
    )
    trimmed = {r["fund_source"] for r in rules.seed("fund_sources", tmp_path)}
    assert trimmed != codes_of("codes", "fund_source")
    assert codes_of("codes", "fund_source") - trimmed == {"other"}


def test_the_level1_order_covers_every_scheme_in_its_own_order() -> None:
    """The reports list first-level indicators in the customary order of
    seeds/report_code_labels.csv (level1); every scheme's groups are in it, and that order
    agrees with each scheme's own sort_order (seeds/scheme_weights.csv)."""
    order = {
        r["code"]: int(r["sort_order"])
        for r in rules.seed("report_code_labels")
        if r["code_type"] == "level1"
    }
    schemes: dict[str, list[tuple[int, str]]] = {}
    for r in rules.seed("scheme_weights"):
        schemes.setdefault(r["scheme_code"], []).append((int(r["sort_order"]), r["level1_name"]))
    assert schemes
    for scheme, groups in schemes.items():
        names = [name for _, name in sorted(groups)]
        assert set(names) <= set(order), (scheme, set(names) - set(order))
        assert names == sorted(names, key=lambda n: order[n]), scheme


def test_every_review_flag_tells_the_department_how_to_fix_it() -> None:
    """The feedback workbook's fix column for a flag is the seed's, for every flag type."""
    from jixiao.reports import feedback

    codes = [r["flag_code"] for r in rules.seed("review_flag_types")]
    assert codes and sorted(feedback.FLAG_FIXES) == sorted(codes)
    for zh, en in feedback.FLAG_FIXES.values():
        assert zh.strip() and en.strip() and zh != en
