"""Shared fixtures for the sample-data tests: the demo inbox and the bad inputs, built once."""

from __future__ import annotations

from pathlib import Path

import pytest

from jixiao.samples.bad_inputs import write_all
from jixiao.samples.demo import build_demo_inbox


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo inbox, keyed by a short name."""
    paths = build_demo_inbox(tmp_path_factory.mktemp("demo"))
    keys = {
        "江门市政务服务数据管理局_数字政府": "jiangmen_ledger",
        "_2023_指标评分表": "jiangmen_2023",
        "东莞": "dongguan",
        "宜春": "yichun",
        "新丰": "xinfeng",
    }
    out = {}
    for path in paths:
        for needle, key in keys.items():
            if needle in path.name:
                out[key] = path
    assert len(out) == 5, paths
    return out


@pytest.fixture(scope="session")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One file per bad-input class."""
    return write_all(tmp_path_factory.mktemp("bad"))
