"""``autoflow check --traces``: the payloads of counterexample traces look like real
events — GitLab's webhook body values for GitLab events, values of the type the
workflow uses for others — and the guards' solved values make the trace replay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from autoflow.cli import app

SAMPLES = Path(__file__).resolve().parents[2] / "autoflow" / "sim" / "webhooks"
runner = CliRunner()

MODEL = """\
workflow: triage
triggers:
  - on: gitlab.issue.open
    start: true
    key: string(event.project.id) + "#" + string(event.object_attributes.iid)
  - on: ops.report
data:
  title: ""
  opened_at: ""
  retries: 0
  names: []
  urgent: false
  ready: {value: false, type: bool}
states:
  received:
    entry:
      - assign:
          title: ${{ event.object_attributes.title }}
          opened_at: ${{ event.object_attributes.created_at }}
    on:
      ops.report:
        - if: event.severity == "high"
          target: stuck
          do:
            - assign:
                retries: ${{ event.retries + 1 }}
                names: ${{ event.items.map(i, string(i)) }}
                urgent: ${{ event.urgent && event.severity != "" }}
        - target: done
  stuck:
    always:
      - if: ready
        target: done
  done:
    type: final
"""


def counterexample(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    model = tmp_path / "triage.yaml"
    model.write_text(MODEL, encoding="utf-8")
    result = runner.invoke(app, ["check", str(model), "--traces", str(tmp_path / "t")])
    assert result.exit_code == 1, result.stdout  # the deadlock in `stuck`
    [trace] = sorted((tmp_path / "t").glob("*.deadlock.jsonl"))
    return model, [json.loads(line) for line in trace.read_text().splitlines()]


def test_gitlab_event_payload_has_the_webhook_body_values(tmp_path: Path) -> None:
    _, lines = counterexample(tmp_path)
    issue = json.loads((SAMPLES / "issue.json").read_text(encoding="utf-8"))
    [opened] = [line["data"] for line in lines if line.get("event") == "gitlab.issue.open"]
    attributes = opened["object_attributes"]
    # read by an entry action and the trigger's key: GitLab's values, not 1 or "x"
    assert attributes["title"] == issue["object_attributes"]["title"]
    assert attributes["created_at"] == issue["object_attributes"]["created_at"]
    assert attributes["iid"] == issue["object_attributes"]["iid"]
    assert opened["project"]["id"] == issue["project"]["id"]
    # fields only ops.report is read for stay out of the issue event
    assert not {"severity", "items", "retries", "urgent"} & set(opened)


def test_other_event_payload_has_values_of_the_type_the_workflow_uses(tmp_path: Path) -> None:
    _, lines = counterexample(tmp_path)
    [report] = [line["data"] for line in lines if line.get("event") == "ops.report"]
    assert report["severity"] == "high"  # solved: the guard's branch to `stuck`
    assert isinstance(report["items"], list)  # iterated with map()
    assert isinstance(report["urgent"], bool)  # an operand of &&
    assert isinstance(report["retries"], int)
    assert not isinstance(report["retries"], bool)


def test_counterexample_with_realistic_payloads_replays(tmp_path: Path) -> None:
    model, _ = counterexample(tmp_path)
    [trace] = sorted((tmp_path / "t").glob("*.deadlock.jsonl"))
    replay = runner.invoke(app, ["simulate", str(model), str(trace), "--format", "json"])
    assert replay.exit_code == 0, replay.stdout
    result = json.loads(replay.stdout)["traces"][0]
    assert result["expectations"] == {"passed": 1, "failed": 0, "failures": []}
    assert not any(step.get("errors") for step in result.get("steps", []))
