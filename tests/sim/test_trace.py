"""Trace files: the reader (times, kinds, fields) and its errors through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autoflow.cli import app
from autoflow.errors import TraceError
from autoflow.sim.clock import DEFAULT_EPOCH
from autoflow.sim.trace import (
    EffectPattern,
    EventLine,
    ExpectLine,
    PolicyLine,
    StubLine,
    discover_traces,
    parse_trace,
    read_trace,
)

DATA = Path(__file__).parent / "data"
CHART = DATA / "triage.scxml"
ISSUE = DATA / "webhooks" / "gitlab-docs" / "issue.json"
runner = CliRunner()


def _lines(*objects: object) -> str:
    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objects) + "\n"


def test_times_absolute_offsets_and_defaults() -> None:
    trace = parse_trace(
        _lines(
            {"event": "a"},
            {"at": "+90s", "event": "b"},
            {"at": "2026-03-02T09:00:00+01:00", "event": "c"},
            {"at": "+1w1d", "expect": {"completed": False}},
            {"stub": {"effect": "notify", "result": {}}},
        )
    )
    times = [line.at for line in trace.lines]
    assert times[0] == DEFAULT_EPOCH
    assert times[1] == DEFAULT_EPOCH + timedelta(seconds=90)
    assert times[2] == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert times[3] == times[2] + timedelta(days=8)
    assert times[4] == times[3]  # no `at`: the previous line's time


def test_first_line_may_start_anywhere_in_time() -> None:
    trace = parse_trace(_lines({"at": "2020-01-01T00:00:00Z", "event": "a"}))
    assert trace.start == datetime(2020, 1, 1, tzinfo=UTC)


def test_line_kinds_are_parsed_into_records() -> None:
    trace = parse_trace(
        _lines(
            {"comment": "only a comment: skipped"},
            "",
            {"event": "approve", "data": {"by": "alice"}, "instance": 42},
            {"stub": {"effect": "gitlab.members.list", "match": {"id": 5}, "result": [],
                      "times": "all"}},
            {"stub": {"effect": "gitlab.*", "error": {"status": 500}, "times": 2}},
            {"stub": {"effect": "task.create", "hold": True}},
            {"policy": {"gitlab.*": "fail", "notify": "hold"}},
            {"expect": {"active": ["a"], "inactive": ["b"], "effects": ["notify",
                        {"effect": "gitlab.issues.create", "args": {"title": "x"}}],
                        "data": {"n": 1}, "completed": False, "instance": "42"}},
        )
    )  # fmt: skip
    event, stub_all, stub_error, stub_hold, policy, expect = trace.lines
    assert isinstance(event, EventLine)
    assert (event.line, event.name, event.data, event.instance) == (
        3,
        "approve",
        {"by": "alice"},
        "42",
    )
    assert isinstance(stub_all, StubLine)
    assert (stub_all.outcome, stub_all.times, stub_all.match) == ("succeed", None, {"id": 5})
    assert isinstance(stub_error, StubLine)
    assert (stub_error.outcome, stub_error.result, stub_error.times) == ("fail", {"status": 500}, 2)
    assert isinstance(stub_hold, StubLine)
    assert stub_hold.outcome == "hold"
    assert isinstance(policy, PolicyLine)
    assert policy.rules == (("gitlab.*", "fail"), ("notify", "hold"))
    assert isinstance(expect, ExpectLine)
    assert expect.effects == (
        EffectPattern("notify"),
        EffectPattern("gitlab.issues.create", {"title": "x"}),
    )
    assert (expect.active, expect.inactive, expect.completed, expect.instance) == (
        ("a",),
        ("b",),
        False,
        "42",
    )


def test_webhook_lines_are_mapped_and_body_files_merged(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        _lines(
            {"webhook": {"headers": {"X-Gitlab-Event": "Issue Hook"}, "body_file": str(ISSUE)}},
            {"webhook": {"headers": {"X-Gitlab-Event": "Issue Hook"}, "body_file": str(ISSUE),
                         "merge": {"object_attributes": {"action": "close"}}}},
        )
    )  # fmt: skip
    opened, closed = read_trace(str(path)).lines
    original = json.loads(ISSUE.read_text())
    assert isinstance(opened, EventLine)
    assert isinstance(closed, EventLine)
    assert (opened.name, opened.webhook, opened.data) == (
        "gitlab.issue.open",
        "Issue Hook",
        original,
    )
    assert closed.name == "gitlab.issue.close"
    assert closed.data["object_attributes"]["iid"] == original["object_attributes"]["iid"]
    assert closed.data["object_attributes"]["action"] == "close"


def test_body_file_is_relative_to_the_trace(tmp_path: Path) -> None:
    (tmp_path / "hooks").mkdir()
    (tmp_path / "hooks" / "push.json").write_text('{"object_kind": "push"}')
    path = tmp_path / "t.jsonl"
    path.write_text(
        _lines(
            {
                "webhook": {
                    "headers": {"X-Gitlab-Event": "Push Hook"},
                    "body_file": "hooks/push.json",
                }
            }
        )
    )
    (line,) = read_trace(str(path)).lines
    assert isinstance(line, EventLine)
    assert line.name == "gitlab.push"


def test_discover_expands_directories(tmp_path: Path) -> None:
    (tmp_path / "b.jsonl").write_text("")
    (tmp_path / "a.jsonl").write_text("")
    (tmp_path / "notes.txt").write_text("")
    assert discover_traces([str(tmp_path), "x.jsonl"]) == [
        str(tmp_path / "a.jsonl"),
        str(tmp_path / "b.jsonl"),
        "x.jsonl",
    ]


def test_reader_errors_carry_line_and_field() -> None:
    with pytest.raises(TraceError) as caught:
        parse_trace(_lines({"event": "a"}, {"at": 5, "event": "b"}), "t.jsonl")
    assert (caught.value.path, caught.value.line, caught.value.field) == ("t.jsonl", 2, "at")


# --------------------------------------------------------------------------- through the CLI

GOOD = {"at": "2026-03-02T09:00:00Z", "event": "noise"}
HOOK = {"X-Gitlab-Event": "Issue Hook"}

BAD_LINES = [
    ("not json at all", None, "not valid JSON"),
    ("[1, 2]", None, "each line must be a JSON object"),
    ({"event": "a", "expect": {"completed": True}}, None, "found 'event' and 'expect'"),
    ({"at": "+1h"}, None, "found none"),
    ({"at": "tomorrow", "event": "a"}, "at", "invalid time 'tomorrow'"),
    ({"at": "+2x", "event": "a"}, "at", "invalid duration"),
    ({"at": 3600, "event": "a"}, "at", "expected a string"),
    ({"at": "2026-03-01T09:00:00Z", "event": "a"}, "at", "a trace is in time order"),
    ({"at": "-1h", "event": "a"}, "at", "negative offset"),
    ({"event": "a", "dta": {}}, "dta", "unknown field in 'event' line"),
    ({"event": ""}, "event", "expected an event name"),
    ({"event": "a", "instance": True}, "instance", "expected an instance key"),
    ({"webhook": {"headers": {"X-Gitlab-Event": "Issues Hook"}, "body": {}}},
     "webhook.headers.X-Gitlab-Event", "unknown hook 'Issues Hook'"),
    ({"webhook": {"headers": HOOK, "body": {"object_kind": "push"}}},
     "webhook.body.object_kind", "'push' does not belong to a 'Issue Hook'"),
    ({"webhook": {"headers": HOOK, "body_file": "nowhere.json"}},
     "webhook.body_file", "cannot read"),
    ({"webhook": {"headers": HOOK}}, "webhook.body", "exactly one of 'body' and 'body_file'"),
    ({"webhook": {"headers": HOOK, "body": {}, "extra": 1}}, "webhook.extra", "unknown field"),
    ({"stub": {"effect": "notify"}}, "stub.result", "exactly one of 'result', 'error' and 'hold'"),
    ({"stub": {"effect": "notify", "result": {}, "times": 0}}, "stub.times", "positive integer"),
    ({"stub": {"result": {}}}, "stub.effect", "expected an effect name"),
    ({"stub": {"effect": "notify", "result": {}}, "error": {}}, "error", "unknown field"),
    ({"policy": {"gitlab.*": "succeeds"}}, "policy.gitlab.*", "expected one of succeed, fail"),
    ({"expect": {"actve": ["waiting"]}}, "expect.actve", "unknown field"),
    ({"expect": {"completed": "yes"}}, "expect.completed", "expected true or false"),
    ({"expect": {"active": "waiting"}}, "expect.active", "expected a list of state ids"),
    ({"expect": {"effects": [{"effect": "notify", "args": [1]}]}}, "expect.effects[0].args",
     "expected an object"),
    ({"expect": {"active": ["wating"]}}, "expect.active", "no state 'wating' in workflow 'triage'"),
    ({"expect": {}}, "expect", "expected an object of checks"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "field", "words"), BAD_LINES, ids=[str(i) for i in range(len(BAD_LINES))]
)
def test_bad_line_is_reported_with_line_and_field(
    tmp_path: Path, bad: object, field: str | None, words: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(_lines(GOOD, {"comment": "the next line is wrong"}, bad))

    result = runner.invoke(app, ["simulate", str(CHART), str(path)])

    assert result.exit_code == 2
    where = f"{path}:3: " if field is None else f"{path}:3: field {field!r}: "
    assert where in result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


def test_trace_file_that_cannot_be_read(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", str(CHART), str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2
    assert "missing.jsonl" in result.stderr
    assert "cannot read" in result.stderr


def test_binary_trace_file(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\xff\xfe\x00garbage")
    result = runner.invoke(app, ["simulate", str(CHART), str(path)])
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr
