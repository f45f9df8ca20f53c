"""Every example trace in traces/ passes against its workflow in models/."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from autoflow.cli import app

ROOT = Path(__file__).resolve().parents[2]
MODELS = sorted((ROOT / "models").glob("*.yaml"))
TRACES = sorted((ROOT / "traces").glob("*/*.jsonl"))
runner = CliRunner()


def test_every_example_workflow_has_traces() -> None:
    assert MODELS
    missing = [m.stem for m in MODELS if not list((ROOT / "traces" / m.stem).glob("*.jsonl"))]
    assert missing == []


@pytest.mark.parametrize("trace", TRACES, ids=[f"{t.parent.name}/{t.stem}" for t in TRACES])
def test_example_trace_passes(trace: Path) -> None:
    model = ROOT / "models" / f"{trace.parent.name}.yaml"
    result = runner.invoke(app, ["simulate", str(model), str(trace)])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert ", 0 failed;" in result.stdout
