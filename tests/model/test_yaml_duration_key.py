"""A bare number as an ``after:`` key: the hint asks for a unit (quoting alone
gives ``"30"``, which is not a duration either)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from autoflow.cli import app

runner = CliRunner()

WORKFLOW = """\
workflow: w
states:
  a:
    after:
      {key}: b
  b:
    type: final
"""


def validate(tmp_path: Path, key: str) -> tuple[int, str]:
    path = tmp_path / "w.yaml"
    path.write_text(WORKFLOW.format(key=key))
    result = runner.invoke(app, ["validate", str(path)])
    return result.exit_code, result.stderr


def test_bare_number_after_key_hint_suggests_a_unit(tmp_path: Path) -> None:
    code, err = validate(tmp_path, "30")
    assert code == 2
    assert f"{tmp_path / 'w.yaml'}:5:7:" in err
    hint = next(line for line in err.splitlines() if line.startswith("hint:"))
    assert "30s" in hint
    assert "30m" in hint
    assert "quote" not in hint


def test_the_suggested_key_is_valid(tmp_path: Path) -> None:
    assert validate(tmp_path, "30s")[0] == 0


def test_a_number_key_elsewhere_still_gets_the_quote_hint(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("workflow: w\nstates:\n  a:\n    on:\n      1: b\n  b:\n    type: final\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "hint: quote the key: '1'" in result.stderr
