"""``autoflow traces``: each strategy through the CLI, determinism across processes, bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autoflow.cli import app

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "access-request.yaml"
runner = CliRunner()


@pytest.mark.parametrize("strategy", ["cover-states", "cover-transitions", "random", "boundary"])
def test_each_strategy_writes_traces_that_simulate_cleanly(strategy: str, tmp_path: Path) -> None:
    args = ["traces", str(MODEL), "--strategy", strategy, "-o", str(tmp_path)]
    if strategy == "random":
        args += ["--count", "3", "--seed", "5", "--horizon", "10d"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    files = sorted(tmp_path.glob("*.jsonl"))
    assert files
    assert f"wrote {len(files)} trace(s)" in result.stdout
    if strategy == "random":
        assert len(files) == 3
    if strategy.startswith("cover-"):
        assert "covers " in result.stdout
    assert (tmp_path / "webhooks" / "issue.json").is_file()
    run = runner.invoke(app, ["simulate", str(MODEL), str(tmp_path)])
    assert run.exit_code == 0, run.stdout
    assert " 0 failed;" in run.stdout


def test_same_seed_gives_byte_identical_files_across_processes(tmp_path: Path) -> None:
    outputs = []
    for hash_seed, name in (("1", "a"), ("2", "b")):
        target = tmp_path / name
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        autoflow = str(Path(sys.executable).parent / "autoflow")
        model = str(ROOT / "models" / "retro-bot.yaml")
        args = ["--strategy", "random", "--count", "3", "--seed", "42", "-o", str(target)]
        subprocess.run(
            [autoflow, "traces", model, *args], check=True, env=env, capture_output=True, cwd=ROOT
        )
        outputs.append({p.name: p.read_bytes() for p in sorted(target.rglob("*")) if p.is_file()})
    assert outputs[0] == outputs[1]
    assert len([n for n in outputs[0] if n.endswith(".jsonl")]) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategy", "sideways"], "sideways"),
        (["--strategy", "random", "--count", "0"], "--count: expected a positive number"),
        (["--strategy", "random", "--horizon", "3x"], "--horizon: invalid duration '3x'"),
        (["--count", "3"], "--count: only for --strategy random"),
        (["--seed", "1", "--strategy", "boundary"], "--seed: only for --strategy random"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(args: list[str], message: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["traces", str(MODEL), "-o", str(tmp_path), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert not list(tmp_path.glob("*.jsonl"))


def test_missing_model_and_missing_output(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["traces", str(tmp_path / "nope.yaml"), "-o", str(tmp_path)])
    assert missing.exit_code == 2
    assert "nope.yaml" in missing.stderr
    assert "Traceback" not in missing.stderr
    no_output = runner.invoke(app, ["traces", str(MODEL)])
    assert no_output.exit_code == 2
    assert "--output" in no_output.stderr


def test_output_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["traces", str(MODEL), "-o", str(target)])
    assert result.exit_code == 2
    assert "not a directory" in result.stderr
