"""Paths between DAG tasks (任务间传递的路径): a non-UTF-8 file name survives JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

from jixiao.pipeline import path_from_text, path_to_text


def test_a_gbk_file_name_travels_through_json_and_back(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/" + "支付台账.xlsx".encode("gbk")
    path = Path(os.fsdecode(raw))
    text = path_to_text(path)
    carried = json.loads(json.dumps(text, ensure_ascii=False).encode("utf-8"))
    assert os.fsencode(path_from_text(carried)) == raw


def test_a_utf8_path_stays_readable(tmp_path: Path) -> None:
    path = tmp_path / "支付台账.xlsx"
    assert path_to_text(path) == str(path)
    assert path_from_text(str(path)) == path
