"""``autoflow simulate`` through the CLI: formats, exit codes, time, instances, effects."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from autoflow.cli import app

DATA = Path(__file__).parent / "data"
CHART = str(DATA / "triage.scxml")
TRIAGE = DATA / "triage"
ISSUE = str(DATA / "webhooks" / "gitlab-docs" / "issue.json")
runner = CliRunner()


def _write(path: Path, *objects: object) -> str:
    path.write_text("\n".join(json.dumps(o) for o in objects) + "\n")
    return str(path)


def _hook(iid: int = 23, action: str = "open", at: str | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "webhook": {
            "headers": {"X-Gitlab-Event": "Issue Hook"},
            "body_file": ISSUE,
            "merge": {"object_attributes": {"iid": iid, "action": action}},
        }
    }
    if at is not None:
        line["at"] = at
    return line


def _json(args: list[str]) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["simulate", "--format", "json", *args])
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


# --------------------------------------------------------------------------- formats


def test_text_timeline() -> None:
    result = runner.invoke(app, ["simulate", CHART, str(TRIAGE / "timeout.jsonl")])
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "start on gitlab.issue.open" in text
    assert "2026-03-04T09:00:00Z (+2d)  timer autoflow.timer.waiting.1" in text
    assert "gitlab.issues.add_note" in text
    assert "timed_out  (completed)" in text
    assert "8 expectation(s) passed, 0 failed" in text
    assert "coverage: 4/6 states, 4/7 transitions" in text


def test_text_shows_failed_expectations_in_the_timeline(tmp_path: Path) -> None:
    trace = _write(
        tmp_path / "t.jsonl",
        _hook(at="2026-03-02T09:00:00Z"),
        {"at": "+1h", "expect": {"active": ["closed"]}},
    )
    result = runner.invoke(app, ["simulate", CHART, trace])
    assert result.exit_code == 1
    assert "✗ expect active (line 2): not active: closed (active: waiting)" in result.stdout
    assert "1 expectation(s) failed" in result.stderr


def test_json_report_shape() -> None:
    code, report = _json([CHART, str(TRIAGE / "happy.jsonl")])
    assert code == 0
    (trace,) = report["traces"]
    assert set(trace) == {"trace", "steps", "completed", "expectations", "coverage"}
    assert trace["trace"] == str(TRIAGE / "happy.jsonl")
    assert trace["completed"] is True
    assert trace["expectations"] == {"passed": 6, "failed": 0, "failures": []}
    assert [(s["at"], s["event"], s["configuration"]) for s in trace["steps"]] == [
        ("2026-03-02T09:00:00Z", "gitlab.issue.open", ["labelling"]),
        ("2026-03-02T09:00:00Z", "done.effect.label", ["waiting"]),
        ("2026-03-02T12:00:00Z", "gitlab.issue.close", ["closed"]),
    ]
    first = trace["steps"][0]
    assert {"at", "event", "configuration", "effects", "timers"} <= set(first)
    (effect,) = first["effects"]
    assert effect["effect"] == "gitlab.issues.add_labels"
    assert effect["args"] == {"project_id": 1, "issue_iid": 23, "labels": ["triage"]}
    assert effect["outcome"] == "succeed"
    waiting = trace["steps"][1]
    assert [t["due"] for t in waiting["timers"]] == ["2026-03-04T09:00:00Z"]
    assert trace["coverage"] == {
        "states": ["labelling", "waiting", "closed"],
        "transitions": ["labelling#0", "waiting#0"],
    }


def test_json_failures_name_line_and_check(tmp_path: Path) -> None:
    trace = _write(
        tmp_path / "t.jsonl",
        _hook(at="2026-03-02T09:00:00Z"),
        {"expect": {"data": {"reminders": 5}, "effects": [{"effect": "gitlab.issues.create"}]}},
    )
    code, report = _json([CHART, trace])
    assert code == 1
    expectations = report["traces"][0]["expectations"]
    assert expectations["passed"] == 0
    assert expectations["failed"] == 2
    checks = [(f["line"], f["check"]) for f in expectations["failures"]]
    assert checks == [(2, "data"), (2, "effects")]
    assert "data 'reminders' is 0, expected 5" in expectations["failures"][0]["message"]
    assert "gitlab.issues.add_labels" in expectations["failures"][1]["message"]


def test_junit_one_testcase_per_trace_one_failure_per_unmet_expectation(tmp_path: Path) -> None:
    failing = _write(
        tmp_path / "failing.jsonl",
        _hook(at="2026-03-02T09:00:00Z"),
        {"expect": {"active": ["closed"], "completed": True, "data": {"iid": 23}}},
    )
    result = runner.invoke(
        app, ["simulate", "-f", "junit", CHART, str(TRIAGE / "happy.jsonl"), failing]
    )
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("2", "1")
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == [str(TRIAGE / "happy.jsonl"), failing]
    assert cases[0].findall("failure") == []
    messages = [f.get("message") for f in cases[1].findall("failure")]
    assert messages == [
        "line 2: active: not active: closed (active: waiting)",
        "line 2: completed: the instance has not completed",
    ]


def test_output_file(tmp_path: Path) -> None:
    target = tmp_path / "report.xml"
    result = runner.invoke(
        app, ["simulate", CHART, str(TRIAGE), "--format", "junit", "--output", str(target)]
    )
    assert result.exit_code == 0
    assert result.stdout == ""
    assert len(ET.parse(target).getroot().findall(".//testcase")) == 3
    text_target = tmp_path / "report.txt"
    result = runner.invoke(app, ["simulate", CHART, str(TRIAGE), "-o", str(text_target)])
    assert result.exit_code == 0
    assert text_target.read_text().count("trace ") == 3


def test_directory_of_traces() -> None:
    code, report = _json([CHART, str(TRIAGE)])
    assert code == 0
    assert [Path(t["trace"]).name for t in report["traces"]] == [
        "failure.jsonl",
        "happy.jsonl",
        "timeout.jsonl",
    ]


# --------------------------------------------------------------------------- bad input


def test_no_traces_in_directory(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", CHART, str(tmp_path)])
    assert result.exit_code == 2
    assert "no trace files" in result.stderr


def test_model_errors_exit_2(tmp_path: Path) -> None:
    trace = _write(tmp_path / "t.jsonl", {"event": "a"})
    result = runner.invoke(app, ["simulate", str(tmp_path / "model.txt"), trace])
    assert result.exit_code == 2
    assert "unknown model format" in result.stderr
    assert "Traceback" not in result.stderr


def test_until_before_the_trace_end(tmp_path: Path) -> None:
    trace = _write(tmp_path / "t.jsonl", _hook(at="2026-03-02T09:00:00Z"))
    result = runner.invoke(app, ["simulate", CHART, trace, "--until", "2026-03-01T00:00:00Z"])
    assert result.exit_code == 2
    assert "is before the trace's last line" in result.stderr
    result = runner.invoke(app, ["simulate", CHART, trace, "--until", "next week"])
    assert result.exit_code == 2
    assert "--until" in result.stderr


# --------------------------------------------------------------------------- time


def test_until_runs_a_week_of_timers(tmp_path: Path) -> None:
    trace = _write(tmp_path / "t.jsonl", _hook(at="2026-03-02T09:00:00Z"))
    _, without = _json([CHART, trace])
    assert without["traces"][0]["completed"] is False

    _, report = _json([CHART, trace, "--until", "+1w"])
    steps = report["traces"][0]["steps"]
    timers = [(s["at"], s["event"]) for s in steps if s["kind"] == "timer"]
    assert timers == [
        ("2026-03-04T09:00:00Z", "autoflow.timer.waiting.1"),
        ("2026-03-06T09:00:00Z", "autoflow.timer.waiting.1"),
    ]
    assert report["traces"][0]["completed"] is True
    assert steps[-1]["configuration"] == ["timed_out"]


def test_until_absolute(tmp_path: Path) -> None:
    trace = _write(tmp_path / "t.jsonl", _hook(at="2026-03-02T09:00:00Z"))
    _, report = _json([CHART, trace, "--until", "2026-03-05T00:00:00Z"])
    steps = report["traces"][0]["steps"]
    assert [s["at"] for s in steps if s["kind"] == "timer"] == ["2026-03-04T09:00:00Z"]
    assert report["traces"][0]["completed"] is False


def test_timers_fire_between_lines_in_order(tmp_path: Path) -> None:
    trace = _write(
        tmp_path / "t.jsonl",
        _hook(iid=1, at="2026-03-02T09:00:00Z"),
        _hook(iid=2, at="+1d"),
        {"at": "+2d", "event": "ping"},
    )
    _, report = _json([CHART, trace])
    fired = [(s["at"], s["instance"]) for s in report["traces"][0]["steps"] if s["kind"] == "timer"]
    assert fired == [("2026-03-04T09:00:00Z", "1"), ("2026-03-05T09:00:00Z", "2")]


# --------------------------------------------------------------------------- instances


def test_triggers_start_and_correlate_instances(tmp_path: Path) -> None:
    trace = _write(
        tmp_path / "t.jsonl",
        _hook(iid=23, at="2026-03-02T09:00:00Z"),
        _hook(iid=24, at="+1h"),
        _hook(iid=24, action="close", at="+1h"),
        {"expect": {"completed": True, "instance": "24"}},
        {"expect": {"active": ["waiting"], "instance": "23"}},
        {"webhook": {"headers": {"X-Gitlab-Event": "Push Hook"},
                     "body_file": str(DATA / "webhooks" / "gitlab-docs" / "push.json")}},
    )  # fmt: skip
    code, report = _json([CHART, trace])
    assert code == 0
    trace_report = report["traces"][0]
    steps = [(s["instance"], s["event"], s["kind"]) for s in trace_report["steps"]]
    assert steps == [
        ("23", "gitlab.issue.open", "start"),
        ("23", "done.effect.label", "result"),
        ("24", "gitlab.issue.open", "start"),
        ("24", "done.effect.label", "result"),
        ("24", "gitlab.issue.close", "webhook"),
        (None, "gitlab.push", "ignored"),
    ]
    assert trace_report["steps"][-1]["note"] == "no trigger takes this event"
    assert trace_report["completed"] is False  # instance 23 still waits


def test_chart_without_triggers_has_one_instance(tmp_path: Path) -> None:
    chart = tmp_path / "toggle.scxml"
    chart.write_text(
        '<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" datamodel="cel">'
        '<state id="off"><transition event="flip" target="on"/></state>'
        '<state id="on"><transition event="flip" target="off"/></state></scxml>'
    )
    trace = _write(
        tmp_path / "t.jsonl",
        {"expect": {"configuration": ["off"]}},
        {"at": "+1m", "event": "flip"},
        {"at": "+1m", "event": "flip"},
        {"at": "+1m", "event": "flip"},
        {"expect": {"active": ["on"], "inactive": ["off"], "completed": False}},
    )
    code, report = _json([str(chart), trace])
    assert code == 0
    steps = report["traces"][0]["steps"]
    assert [s["configuration"] for s in steps] == [["off"], ["on"], ["off"], ["on"]]
    assert steps[0]["at"] == "2026-01-01T00:00:00Z"  # the documented default epoch
    assert report["traces"][0]["coverage"]["transitions"] == ["off#0", "on#0"]


# --------------------------------------------------------------------------- effects


def test_stubs_apply_in_order_to_matching_effects(tmp_path: Path) -> None:
    trace = _write(
        tmp_path / "t.jsonl",
        {"stub": {"effect": "gitlab.issues.add_labels", "match": {"issue_iid": 99},
                  "error": {"status": 404}}},
        {"stub": {"effect": "gitlab.issues.*", "error": {"status": 403}}},
        _hook(iid=1, at="2026-03-02T09:00:00Z"),
        {"expect": {"configuration": ["failed"], "instance": "1"}},
        _hook(iid=2),
        {"expect": {"configuration": ["waiting"], "instance": "2"}},
        _hook(iid=99),
        {"expect": {"configuration": ["failed"], "instance": "99"}},
    )  # fmt: skip
    code, report = _json([CHART, trace])
    assert code == 0, report["traces"][0]["expectations"]
    decided = [e["decided_by"] for s in report["traces"][0]["steps"] for e in s["effects"]]
    assert decided == ["stub (line 2)", "default policy", "stub (line 1)"]


def test_stub_result_is_the_result_event_data(tmp_path: Path) -> None:
    note = {"id": 77, "body": "custom", "noteable_iid": 23}
    trace = _write(
        tmp_path / "t.jsonl",
        {"stub": {"effect": "gitlab.issues.add_note", "result": note, "times": "all"}},
        _hook(at="2026-03-02T09:00:00Z"),
        {"at": "+2d1m", "expect": {"data": {"note": note, "reminders": 1}}},
        {"at": "+2d", "expect": {"data": {"note": note, "reminders": 2}, "completed": True}},
    )
    code, _ = _json([CHART, trace])
    assert code == 0


def test_policy_hold_and_a_result_sent_by_the_trace(tmp_path: Path) -> None:
    trace = _write(
        tmp_path / "t.jsonl",
        {"policy": {"gitlab.*": "hold"}},
        _hook(at="2026-03-02T09:00:00Z"),
        {"at": "+1h", "expect": {"configuration": ["labelling"]}},
        {"event": "done.effect.label", "data": {"labels": ["triage"]}, "instance": "23"},
        {"expect": {"configuration": ["waiting"]}},
        {"policy": {"gitlab.issues.add_note": "fail"}},
        {"at": "+2d", "expect": {"configuration": ["reminding"]}},
    )
    code, report = _json([CHART, trace])
    assert code == 0, report["traces"][0]["expectations"]
    outcomes = [e["outcome"] for s in report["traces"][0]["steps"] for e in s["effects"]]
    assert outcomes == ["hold", "fail"]


def test_default_results_are_realistic(tmp_path: Path) -> None:
    trace = _write(
        tmp_path / "t.jsonl",
        _hook(at="2026-03-02T09:00:00Z"),
        {"at": "+2d1m", "expect": {"data": {"note": {"noteable_type": "Issue",
                                                     "noteable_iid": 23, "project_id": 1}}}},
    )  # fmt: skip
    code, _ = _json([CHART, trace])
    assert code == 0
