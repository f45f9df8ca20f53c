"""``autoflow check`` through the command line: exit codes, formats, directories, nets,
and counterexample traces that ``autoflow simulate`` replays."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autoflow.cli import app

DATA = Path(__file__).parent / "data"
MODELS = Path(__file__).resolve().parents[2] / "models"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_clean_workflow_exits_zero_and_says_ok() -> None:
    code, out, _ = run(str(DATA / "deadlock-fixed.yaml"))
    assert code == 0
    assert "ok" in out
    assert "no findings" in out


def test_error_finding_exits_one_with_table_and_trace() -> None:
    code, out, _ = run(str(DATA / "deadlock.yaml"))
    assert code == 1
    assert "deadlock" in out
    assert "ticket.approve" in out  # the trace is in the table


def test_warning_fails_only_with_fail_on_warning() -> None:
    path = str(DATA / "wait-without-timeout.yaml")
    assert run(path)[0] == 0
    assert run(path, "--fail-on", "warning")[0] == 1
    assert run(path, "--fail-on", "warning", "--exit-zero")[0] == 0


def test_bad_input_exits_two_with_path_line_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("workflow: bad\nstates:\n  a:\n    on:\n      go: nowhere\n")
    code, _, err = run(str(bad))
    assert code == 2
    assert f"{bad}:5:" in err
    assert "Traceback" not in err


def test_missing_file_and_empty_directory_exit_two(tmp_path: Path) -> None:
    assert run(str(tmp_path / "missing.yaml"))[0] == 2
    code, _, err = run(str(tmp_path))
    assert code == 2
    assert "no model files" in err


def test_directory_is_searched_and_blocks_are_skipped_with_a_note(tmp_path: Path) -> None:
    shutil.copytree(MODELS, tmp_path / "models")
    code, out, err = run(str(tmp_path / "models"), "--format", "json")
    assert code == 0
    paths = [Path(m["path"]).name for m in json.loads(out)["models"]]
    assert len(paths) == 7
    assert "approval.yaml" not in paths
    assert "approval.yaml: skipped" in err


def test_json_shape_is_the_documented_one() -> None:
    code, out, _ = run(str(DATA / "livelock.yaml"), "--format", "json")
    assert code == 1
    [model] = json.loads(out)["models"]
    assert set(model) == {"path", "kind", "stats", "findings"}
    assert model["kind"] == "statechart"
    assert {"states", "edges", "seconds"} <= set(model["stats"])
    [finding] = model["findings"]
    assert set(finding) >= {"rule", "severity", "message", "location", "states", "trace"}
    assert finding["location"] == {
        "path": str(DATA / "livelock.yaml"),
        "line": 13,
        "column": 3,
    }
    assert finding["trace"][0]["at"] == "+0s"
    assert finding["trace"][1] == {"at": "+1d", "event": None}


def test_max_states_is_reported_on_stderr_and_in_stats() -> None:
    code, out, err = run(str(DATA / "livelock.yaml"), "--format", "json", "--max-states", "2")
    [model] = json.loads(out)["models"]
    assert model["stats"]["truncated"] is True
    assert [f["rule"] for f in model["findings"]] == ["state-limit"]
    assert "--max-states 2" in err
    assert code == 0  # state-limit is a warning


def test_petri_nets_get_figures_boundedness_and_soundness() -> None:
    code, out, _ = run(
        str(DATA / "sound.pnml"),
        str(DATA / "unsound.pnml"),
        str(DATA / "unbounded.pnml"),
        "--format",
        "json",
    )
    assert code == 1
    sound, unsound, unbounded = json.loads(out)["models"]
    assert sound["kind"] == "petri-net"
    assert sound["stats"]["sound"] is True
    assert sound["findings"] == []
    assert (sound["stats"]["states"], sound["stats"]["edges"]) == (3, 2)
    assert unsound["stats"]["sound"] is False
    assert "unsound" in [f["rule"] for f in unsound["findings"]]
    [dead] = [f for f in unsound["findings"] if f["rule"] == "dead-marking"]
    assert dead["trace"][0]["event"] == "split"
    assert unbounded["stats"]["bounded"] is False
    [place] = unbounded["findings"]
    assert place["rule"] == "unbounded-place"
    assert place["states"] == ["buffer"]
    assert [s["event"] for s in place["trace"]] == ["produce", "produce"]


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("deadlock.yaml", "deadlock"),
        ("effect-error-deadlock.yaml", "deadlock"),
        ("livelock.yaml", "livelock"),
        ("nondeterminism.yaml", "nondeterminism"),
        ("wait-without-timeout.yaml", "wait-without-timeout"),
    ],
)
def test_counterexample_trace_replays_with_simulate(tmp_path: Path, name: str, rule: str) -> None:
    model = str(DATA / name)
    code, _, _ = run(model, "--traces", str(tmp_path), "--exit-zero")
    assert code == 0
    [trace] = sorted(tmp_path.glob(f"*.{rule}.jsonl"))
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    assert "expect" in lines[-1]  # the reported configuration is checked by the replay
    replay = runner.invoke(app, ["simulate", model, str(trace), "--format", "json"])
    assert replay.exit_code == 0, replay.stdout
    expectations = json.loads(replay.stdout)["traces"][0]["expectations"]
    assert expectations == {"passed": 1, "failed": 0, "failures": []}


def test_replay_of_a_seeded_example_with_effects_and_timers(tmp_path: Path) -> None:
    shutil.copytree(MODELS, tmp_path / "models")
    model = tmp_path / "models" / "deployment-rollout.yaml"
    text = model.read_text()
    model.write_text(text.replace("        after:\n          8h: aborting\n", "", 1))
    code, _, _ = run(str(model), "--traces", str(tmp_path / "traces"), "--exit-zero")
    assert code == 0
    [trace] = sorted((tmp_path / "traces").glob("*.wait-without-timeout.jsonl"))
    events = [json.loads(line).get("event") for line in trace.read_text().splitlines()]
    assert "done.effect.create_release" in events
    replay = runner.invoke(app, ["simulate", str(model), str(trace), "--format", "json"])
    assert replay.exit_code == 0, replay.stdout
    assert json.loads(replay.stdout)["traces"][0]["expectations"]["passed"] == 1
