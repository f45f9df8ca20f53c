"""``autoflow simulate --coverage``: text summary, JSON aggregate, render overlay."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from autoflow.cli import app

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "retro-bot.yaml"
TRACES = ROOT / "traces" / "retro-bot"
runner = CliRunner()


def test_text_summary_over_all_traces() -> None:
    one = runner.invoke(
        app, ["simulate", str(MODEL), str(TRACES / "all-answered.jsonl"), "--coverage"]
    )
    assert one.exit_code == 0, one.stdout
    assert "coverage over 1 trace(s):" in one.stdout
    assert "not covered states:" in one.stdout  # the happy path never fails
    assert "failed" in one.stdout.split("not covered states:")[1].splitlines()[0]
    every = runner.invoke(app, ["simulate", str(MODEL), str(TRACES), "--coverage"])
    assert "coverage over 3 trace(s):" in every.stdout
    plain = runner.invoke(app, ["simulate", str(MODEL), str(TRACES)])
    assert "coverage over" not in plain.stdout


def test_json_aggregate_unites_the_traces(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = runner.invoke(
        app, ["simulate", str(MODEL), str(TRACES), "--coverage", "-f", "json", "-o", str(report)]
    )
    assert result.exit_code == 0
    document = json.loads(report.read_text(encoding="utf-8"))
    aggregate = document["coverage"]
    assert aggregate["traces"] == 3
    per_trace = [set(t["coverage"]["transitions"]) for t in document["traces"]]
    union = set().union(*per_trace)
    assert set(aggregate["transitions"]["covered"]) == union
    states = aggregate["states"]
    assert states["total"] == len(states["covered"]) + len(states["uncovered"])
    assert states["percent"] == round(100 * len(states["covered"]) / states["total"], 1)
    without = runner.invoke(app, ["simulate", str(MODEL), str(TRACES), "-f", "json"])
    assert "coverage" not in json.loads(without.stdout)  # only traces[].coverage


def test_generated_cover_traces_reach_full_coverage_and_render_reads_it(tmp_path: Path) -> None:
    generated = tmp_path / "generated"
    assert runner.invoke(app, ["traces", str(MODEL), "-o", str(generated)]).exit_code == 0
    report = tmp_path / "coverage.json"
    result = runner.invoke(
        app, ["simulate", str(MODEL), str(generated), "--coverage", "-f", "json", "-o", str(report)]
    )
    assert result.exit_code == 0
    aggregate = json.loads(report.read_text(encoding="utf-8"))["coverage"]
    assert aggregate["transitions"]["uncovered"] == []
    assert aggregate["transitions"]["percent"] == 100.0
    # a coverage-only file (just the aggregate) works with render as well
    only = tmp_path / "aggregate.json"
    only.write_text(json.dumps({"coverage": aggregate}), encoding="utf-8")
    hand_written = tmp_path / "hand.json"
    runner.invoke(
        app,
        ["simulate", str(MODEL), str(TRACES / "all-answered.jsonl"), "--coverage", "-f", "json",
         "-o", str(hand_written)],
    )  # fmt: skip
    full = runner.invoke(app, ["render", str(MODEL), "--coverage", str(only)])
    partial = runner.invoke(app, ["render", str(MODEL), "--coverage", str(hand_written)])
    assert full.exit_code == 0, full.stderr
    assert partial.exit_code == 0, partial.stderr
    assert full.stdout != partial.stdout  # uncovered parts are drawn differently
