"""``<script>`` is a collected error: ``validate`` goes on and reports the other
errors of the same SCXML file too."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from autoflow.cli import app

runner = CliRunner()
NS = 'xmlns="http://www.w3.org/2005/07/scxml" xmlns:af="https://autoflow.dev/scxml"'

DOCUMENT = f"""<?xml version="1.0"?>
<scxml {NS} version="1.0">
<script>var x = 1;</script>
<state id="a">
  <onentry><script>x = 2</script><log expr="1"/></onentry>
  <onexit><sendd event="x"/></onexit>
</state>
</scxml>
"""


def test_script_and_an_unknown_element_are_both_reported(tmp_path: Path) -> None:
    path = tmp_path / "chart.scxml"
    path.write_text(DOCUMENT)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert f"{path}:3:1: <script> is not supported" in result.stderr
    assert f"{path}:5:12: <script> is not supported" in result.stderr
    assert f"{path}:6:11: unsupported SCXML element <sendd>" in result.stderr


def test_a_script_alone_is_still_an_error(tmp_path: Path) -> None:
    path = tmp_path / "chart.scxml"
    path.write_text(DOCUMENT.replace('  <onexit><sendd event="x"/></onexit>\n', ""))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.count("<script> is not supported") == 2
