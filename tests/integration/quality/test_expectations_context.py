"""The version-controlled GX context matches the frames (GX 上下文与数据帧一致)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from jixiao.quality.frames import FRAMES, GATES, frames_for

ROOT = Path(__file__).resolve().parents[3] / "expectations"


def _load(folder: str) -> dict[str, dict]:
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (ROOT / folder).glob("*.json")
    }


def test_every_frame_has_a_suite_a_validation_definition_and_a_checkpoint():
    suites = _load("expectations")
    vds = _load("validation_definitions")
    checkpoints = _load("checkpoints")
    assert set(suites) == set(FRAMES)
    assert {v["name"] for v in vds.values()} == set(FRAMES)
    assert set(checkpoints) == {f"{g}_gate" for g in GATES}
    for gate in GATES:
        cp = checkpoints[f"{gate}_gate"]
        assert [v["name"] for v in cp["validation_definitions"]] == [
            f.suite for f in frames_for(gate)
        ]
        # Data Docs are built once per gate run by jixiao.quality.gates, not per result
        assert cp["actions"] == []


def test_every_expectation_declares_its_severity_in_the_suite():
    for name, suite in _load("expectations").items():
        assert suite["expectations"], name
        for e in suite["expectations"]:
            assert e["meta"]["severity"] in {"critical", "warning"}, (name, e)
            assert e["meta"]["notes_zh"] and e["meta"]["notes_en"], (name, e)


def test_datasource_placeholder_is_relative():
    config = (ROOT / "great_expectations.yml").read_text(encoding="utf-8")
    assert "base_directory: uncommitted/frames" in config
    assert "analytics_enabled: false" in config


def test_importing_the_quality_package_does_not_import_gx():
    code = (
        "import sys, jixiao.quality.gates, jixiao.quality.report;"
        "print('great_expectations' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
