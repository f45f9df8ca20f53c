"""Format parity: the same chart written in YAML and in SCXML loads to equal IR.

Each ``tests/model/data/parity/NAME.yaml`` has a hand-written ``NAME.scxml`` twin.
Every example workflow in ``models/`` also survives export to SCXML and back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from autoflow.cli import app
from autoflow.model.io import load
from autoflow.model.io.scxml import read_scxml_text, write_scxml
from autoflow.model.ir import Chart

ROOT = Path(__file__).resolve().parents[2]
PARITY = Path(__file__).parent / "data" / "parity"
PAIRS = sorted(path.stem for path in PARITY.glob("*.yaml"))
EXAMPLES = sorted(ROOT.glob("models/*.yaml"))


def test_there_are_parity_pairs_and_examples() -> None:
    assert len(PAIRS) >= 3
    assert all((PARITY / f"{name}.scxml").is_file() for name in PAIRS)
    assert len(EXAMPLES) >= 7


@pytest.mark.parametrize("name", PAIRS)
def test_yaml_and_scxml_load_to_equal_ir(name: str) -> None:
    from_yaml = load(str(PARITY / f"{name}.yaml"))
    from_scxml = load(str(PARITY / f"{name}.scxml"))
    assert isinstance(from_yaml, Chart)
    assert from_yaml == from_scxml


@pytest.mark.parametrize(
    ("name", "original", "changed"),
    [
        ("traffic-light", 'cond="!pressed"', 'cond="pressed"'),
        ("review", 'type="deep"', 'type="shallow"'),
        ("fanout", 'af:count="2"', 'af:count="3"'),
        ("review", 'sendid="reminder"', 'sendid="remind"'),
    ],
)
def test_parity_notices_a_one_attribute_difference(name: str, original: str, changed: str) -> None:
    text = (PARITY / f"{name}.scxml").read_text()
    assert original in text
    altered = read_scxml_text(text.replace(original, changed, 1), f"altered-{name}.scxml")
    assert load(str(PARITY / f"{name}.yaml")) != altered


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_every_example_exports_to_scxml_and_reads_back_equal(path: Path) -> None:
    chart = load(str(path))
    assert isinstance(chart, Chart)
    text = write_scxml(chart)
    assert read_scxml_text(text, f"{path.stem}.scxml") == chart


def test_exported_examples_validate_through_the_cli(tmp_path: Path) -> None:
    for path in EXAMPLES:
        chart = load(str(path))
        assert isinstance(chart, Chart)
        (tmp_path / f"{path.stem}.scxml").write_text(write_scxml(chart))
    result = CliRunner().invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"{len(EXAMPLES)} file(s) valid" in result.stdout
