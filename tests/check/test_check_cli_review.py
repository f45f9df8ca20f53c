"""``autoflow check`` output for findings located in a block file (blocks are
expanded into the workflow that uses them, so the model's path is not theirs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autoflow.cli import app

runner = CliRunner()

BLOCK = """\
block: ask
params:
  who: {type: string, required: true}
states:
  asking:
    on:
      ticket.answer: stuck
  stuck: {}
"""

WORKFLOW = """\
workflow: uses-block
triggers:
  - on: ticket.open
    start: true
  - on: ticket.answer
states:
  ask:
    use: blocks/ask.yaml
    with: {who: "alice"}
    on:
      done.state.ask: done
  done:
    type: final
"""


@pytest.fixture
def workflow(tmp_path: Path) -> Path:
    (tmp_path / "blocks").mkdir()
    (tmp_path / "blocks" / "ask.yaml").write_text(BLOCK)
    path = tmp_path / "uses-block.yaml"
    path.write_text(WORKFLOW)
    return path


def test_text_table_names_the_block_file_of_a_finding_inside_it(workflow: Path) -> None:
    result = runner.invoke(app, ["check", str(workflow)], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    block = workflow.parent / "blocks" / "ask.yaml"
    [deadlock] = [line for line in result.stdout.splitlines() if "deadlock" in line]
    assert f"{block}:8:3" in deadlock  # `stuck:` is on line 8 of the block
    [dead] = [line for line in result.stdout.splitlines() if "dead-transition" in line]
    assert "11:7" in dead
    assert str(workflow) not in dead  # in the workflow's own file: line:col only


def test_sarif_and_gitlab_locate_a_block_finding_in_the_block_file(workflow: Path) -> None:
    block = str(workflow.parent / "blocks" / "ask.yaml")
    sarif = runner.invoke(app, ["check", str(workflow), "--format", "sarif"])
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    [deadlock] = [r for r in results if r["ruleId"] == "deadlock"]
    location = deadlock["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == block
    assert location["region"]["startLine"] == 8
    gitlab = runner.invoke(app, ["check", str(workflow), "--format", "gitlab"])
    [issue] = [i for i in json.loads(gitlab.stdout) if i["check_name"] == "deadlock"]
    assert issue["location"] == {"path": block, "lines": {"begin": 8}}
