"""Generated traces carry payloads a GitLab user recognises: real webhook bodies with
only what the workflow's guards need merged in, values of the types GitLab sends."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from autoflow.check.payloads import plain_value, typical_value
from autoflow.model.cel import compile_expression
from autoflow.model.io import load
from autoflow.model.ir import Chart
from autoflow.model.span import Span
from autoflow.sim.generate import generate, write_generation
from autoflow.sim.simulator import simulate_trace
from autoflow.sim.trace import deep_merge, read_trace

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "autoflow" / "sim" / "webhooks"
EXAMPLES = ["deployment-rollout", "retro-bot", "access-request", "change-lock-approval"]


@cache
def chart_of(name: str) -> Chart:
    chart = load(str(ROOT / "models" / f"{name}.yaml"))
    assert isinstance(chart, Chart)
    return chart


@cache
def hooks_of(name: str, directory: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(webhook line, the body it delivers) for every webhook of the cover traces."""
    generation = generate(chart_of(name), "cover-transitions")
    write_generation(generation, directory)
    found = []
    for trace in generation.traces:
        for line in trace.lines:
            if "webhook" in line:
                hook = line["webhook"]
                base = json.loads((directory / hook["body_file"]).read_text(encoding="utf-8"))
                found.append((hook, deep_merge(base, hook.get("merge", {}))))
    assert found
    return found


def leaves(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict) and value:
        return [item for k, v in value.items() for item in leaves(v, (*prefix, k))]
    return [(prefix, value)]


def get(body: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("payloads")


@pytest.mark.parametrize("name", EXAMPLES)
def test_merged_fields_keep_the_types_of_gitlab_bodies(name: str, out: Path) -> None:
    for hook, _ in hooks_of(name, out / name):
        base = json.loads((out / name / hook["body_file"]).read_text(encoding="utf-8"))
        for path, value in leaves(hook.get("merge", {})):
            real = get(base, path)
            if real is None or value is None:
                continue
            # no placeholder of another type where GitLab sends a list, a map, an int...
            assert type(value) is type(real), (hook["headers"], path, value, real)
            # and nothing the body already says: the merge is what differs from it
            # (but for the action, always spelled out: it names the event)
            assert value != real or path[-1] == "action", (hook["headers"], path)


@pytest.mark.parametrize("name", EXAMPLES)
def test_generated_traces_with_realistic_payloads_pass(name: str, out: Path) -> None:
    hooks_of(name, out / name)
    results = [
        simulate_trace(chart_of(name), read_trace(str(p)))
        for p in sorted((out / name).glob("*.jsonl"))
    ]
    assert results
    assert all(r.failed == 0 for r in results), [r.failures for r in results if r.failed]


def test_deployment_rollout_pipeline_hooks_carry_only_pipeline_fields(out: Path) -> None:
    hooks = hooks_of("deployment-rollout", out / "deployment-rollout")
    pipelines = [(h, b) for h, b in hooks if h["headers"]["X-Gitlab-Event"] == "Pipeline Hook"]
    assert pipelines
    tag_filter = compile_expression("event.object_attributes.tag == true", Span("t", 1, 1))
    for hook, body in pipelines:
        # fields only the monitoring events' triggers and the issue close read stay out
        assert not {"labels", "project_id", "ref"} & set(hook["merge"]), hook["merge"]
        # the trigger's guard still holds on the body the trace delivers
        assert tag_filter.evaluate({"event": body}) is True
        assert isinstance(body["project"]["id"], int)
        assert body["object_attributes"]["ref"] == "master"  # the real body's branch
    statuses = {b["object_attributes"]["status"] for _, b in pipelines}
    assert {"success", "failed"} <= statuses
    # the build waits: a status GitLab uses that none of the guards accepts
    waiting = statuses - {"success", "failed", "canceled"}
    assert waiting
    assert all(s and s != "x" for s in waiting)


def test_deployment_rollout_incident_close_has_label_objects(out: Path) -> None:
    hooks = hooks_of("deployment-rollout", out / "deployment-rollout")
    closes = [b for h, b in hooks if h["headers"]["X-Gitlab-Event"] == "Issue Hook"]
    assert closes
    for body in closes:
        assert isinstance(body["labels"], list)
        assert all(isinstance(label, dict) for label in body["labels"])


def test_retro_bot_milestone_close_is_the_real_milestone_hook(out: Path) -> None:
    hooks = hooks_of("retro-bot", out / "retro-bot")
    milestones = [(h, b) for h, b in hooks if h["headers"]["X-Gitlab-Event"] == "Milestone Hook"]
    assert milestones
    for hook, body in milestones:
        assert body["action"] == "close"
        # read only for issue closes and the fan-out's own events: not in a milestone hook
        assert "outputs" not in body
        assert "description" not in body
        assert "milestone_id" not in body["object_attributes"]
        # what the workflow remembers (milestone.id, milestone.title) is GitLab's
        assert isinstance(body["object_attributes"]["id"], int)
        assert body["object_attributes"]["title"] not in ("x", "")
        assert not any(v in ("x", 1) for _, v in leaves(hook["merge"]))


def test_typical_values_follow_gitlab_bodies_then_the_use() -> None:
    issue = json.loads((SAMPLES / "issue.json").read_text(encoding="utf-8"))
    # the event's own body
    created = typical_value(("object_attributes", "created_at"), "any", "gitlab.issue.close")
    assert created == issue["object_attributes"]["created_at"]
    # another hook's field: its type, not its content
    assert typical_value(("labels",), "list", "gitlab.pipeline") == []
    assert typical_value(("builds",), "any", "gitlab.issue.update") == []
    assert isinstance(typical_value(("project", "id"), "any", "gitlab.push"), int)
    # no body has it: the type the workflow uses it as
    assert typical_value(("summary",), "any", "gitlab.pipeline") == "x"
    # not a GitLab event: placeholders of the type the use asks for
    assert typical_value(("items",), "list", "ops.ready") == []
    assert typical_value(("ready",), "bool", "ops.ready") is False
    assert typical_value(("count",), "int", "ops.ready") == 1
    assert typical_value(("project_id",), "any", "ops.ready") == 1
    assert typical_value(("reported_at",), "any", "ops.ready") == plain_value(("x_at",))
    # fresh copies: changing one changes no other payload
    first = typical_value(("labels",), "any", "gitlab.issue.close")
    first.append("changed")
    assert typical_value(("labels",), "any", "gitlab.issue.close") == issue["labels"]
