"""``autoflow simulate`` shows the expression errors of a run: the engine raises
``error.execution`` (its data holds the message) and skips the failing action."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from autoflow.cli import app

runner = CliRunner()

WORKFLOW = """\
workflow: bad-assign
triggers:
  - on: ticket.open
    start: true
  - on: ticket.update
  - on: ticket.close
data:
  count: {value: 0}
states:
  open:
    on:
      ticket.update:
        - do:
            - assign: {count: "${{ event.missing.field + 1 }}"}
      ticket.close: closed
  closed:
    type: final
"""

HANDLED = (
    WORKFLOW.replace(
        "      ticket.close: closed\n",
        "      ticket.close: closed\n      error.execution: broken\n",
    )
    + "  broken:\n    type: final\n"
)

TRACE = [
    {"at": "+0s", "event": "ticket.open"},
    {"at": "+1h", "event": "ticket.update", "instance": "instance", "data": {}},
    {"at": "+1h", "event": "ticket.close", "instance": "instance"},
]


def simulate(tmp_path: Path, workflow: str, *options: str) -> tuple[int, str]:
    model = tmp_path / "bad-assign.yaml"
    model.write_text(workflow)
    trace = tmp_path / "t.jsonl"
    trace.write_text("".join(json.dumps(line) + "\n" for line in TRACE))
    result = runner.invoke(app, ["simulate", str(model), str(trace), *options])
    return result.exit_code, result.stdout


def test_json_step_lists_the_error_with_its_message(tmp_path: Path) -> None:
    code, out = simulate(tmp_path, WORKFLOW, "--format", "json")
    assert code == 0
    steps = json.loads(out)["traces"][0]["steps"]
    update = next(s for s in steps if s["event"] == "ticket.update")
    [error] = update["errors"]
    assert error["event"] == "error.execution"
    assert "missing" in error["message"]
    assert [s["errors"] for s in steps if s["event"] != "ticket.update"] == [[], []]
    assert update["transitions"] == ["open#0"]  # only the workflow's own transitions


def test_text_timeline_shows_the_error(tmp_path: Path) -> None:
    code, out = simulate(tmp_path, WORKFLOW)
    assert code == 0
    [line] = [line for line in out.splitlines() if "error.execution" in line]
    assert "missing" in line
    assert "coverage: 2/2 states, 2/2 transitions" in out  # nothing added to count


def test_error_a_transition_handles_is_shown_too(tmp_path: Path) -> None:
    code, out = simulate(tmp_path, HANDLED, "--format", "json")
    assert code == 0
    steps = json.loads(out)["traces"][0]["steps"]
    update = next(s for s in steps if s["event"] == "ticket.update")
    assert [e["event"] for e in update["errors"]] == ["error.execution"]
    assert update["configuration"] == ["broken"]


def test_error_in_the_step_that_completes_the_instance_is_shown(tmp_path: Path) -> None:
    """The instance ends in the same macrostep, so no transition could take the error."""
    completing = WORKFLOW.replace(
        "      ticket.close: closed\n",
        "      ticket.close:\n"
        "        target: closed\n"
        '        do: [{assign: {count: "${{ event.nothing.here }}"}}]\n',
    )
    code, out = simulate(tmp_path, completing, "--format", "json")
    assert code == 0
    steps = json.loads(out)["traces"][0]["steps"]
    close = next(s for s in steps if s["event"] == "ticket.close")
    assert close["configuration"] == ["closed"]
    [error] = close["errors"]
    assert error["event"] == "error.execution"
    assert "nothing" in error["message"]


def test_engine_reports_errors_of_a_step() -> None:
    from datetime import UTC, datetime

    from autoflow.model.io.yaml_reader import read_yaml_text
    from autoflow.sim.engine import Event, start, step

    chart = read_yaml_text(WORKFLOW, "bad-assign.yaml")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    started = start(chart, now, event=Event("ticket.open", {}))
    assert started.errors == ()
    result = step(chart, started.snapshot, Event("ticket.update", {}), now)
    [error] = result.errors
    assert (error.event.name, error.event.type, error.session) == (
        "error.execution",
        "platform",
        None,
    )
