"""The CLI frame: version, help, exit codes, errors without tracebacks."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from autoflow import __version__
from autoflow.cli import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"autoflow {__version__}"


def test_help_short_and_long() -> None:
    for flag in ("-h", "--help"):
        result = runner.invoke(app, [flag])
        assert result.exit_code == 0
        assert "validate" in result.stdout


def test_no_arguments_shows_help() -> None:
    result = runner.invoke(app, [])
    assert result.exit_code == 2
    assert "Usage" in result.output


def test_validate_empty_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 2
    assert "no model files found" in result.stderr


def test_validate_unknown_extension(tmp_path: Path) -> None:
    model = tmp_path / "workflow.txt"
    model.write_text("hello\n")
    result = runner.invoke(app, ["validate", str(model)])
    assert result.exit_code == 2
    assert f"{model}: unknown model format" in result.stderr
    assert "hint: autoflow reads .yaml" in result.stderr
    assert "Traceback" not in result.output


def test_validate_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = runner.invoke(app, ["validate", str(missing)])
    assert result.exit_code == 2
    assert f"{missing}: cannot read file" in result.stderr
    assert "Traceback" not in result.output


def test_validate_file_over_the_size_limit(tmp_path: Path) -> None:
    from autoflow.model.io import MAX_MODEL_BYTES

    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * MAX_MODEL_BYTES + "\n")
    result = runner.invoke(app, ["validate", str(big)])
    assert result.exit_code == 2
    assert f"{big}: file is {big.stat().st_size} bytes, over the" in result.stderr
    assert "Traceback" not in result.output


def test_validate_describes_charts_and_nets() -> None:
    root = Path(__file__).resolve().parent
    net = root / "model" / "data" / "pnml" / "M1.pnml"
    result = runner.invoke(app, ["validate", str(net)])
    assert result.exit_code == 0, result.output
    assert "(Petri net M1.tpn: 40 places, 39 transitions)" in result.stdout
    assert "1 file(s) valid" in result.stdout


def test_statechart_commands_refuse_a_petri_net(tmp_path: Path) -> None:
    net = Path(__file__).resolve().parent / "model" / "data" / "pnml" / "M1.pnml"
    trace = tmp_path / "t.jsonl"
    trace.write_text('{"event": "go"}\n')
    for args, refusal in (
        (["simulate", str(net), str(trace)], "simulate runs statecharts"),
        (["traces", str(net), "-o", str(tmp_path / "out")], "traces are generated for statecharts"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        assert f"{net}: {refusal}; this is a Net" in result.stderr
        assert "Traceback" not in result.output
