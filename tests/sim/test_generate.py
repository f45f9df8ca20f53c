"""Generated traces (autoflow.sim.generate): coverage, validity, determinism, regressions."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest

from autoflow.check.explore import StateSpace, explore
from autoflow.model.io import load
from autoflow.model.ir import Chart
from autoflow.sim.generate import Generation, generate, write_generation
from autoflow.sim.simulator import simulate_trace
from autoflow.sim.trace import deep_merge, read_trace

ROOT = Path(__file__).resolve().parents[2]
MODELS = [
    m for m in sorted((ROOT / "models").glob("*.yaml")) if (ROOT / "traces" / m.stem).is_dir()
]
IDS = [m.stem for m in MODELS]


@cache
def chart_of(path: Path) -> Chart:
    chart = load(str(path))
    assert isinstance(chart, Chart)
    return chart


@cache
def space_of(path: Path) -> StateSpace:
    return explore(chart_of(path))


def definitely_reachable(space: StateSpace, edges: dict[str, list]) -> set[str]:
    """Targets the exploration reached on a path that assumes no undecided guard."""
    return {
        target
        for target, ways in edges.items()
        if any(not space.assumptions(parent, step) for parent, step in ways)
    }


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def simulate_all(chart: Chart, directory: Path) -> list:
    return [simulate_trace(chart, read_trace(str(p))) for p in sorted(directory.glob("*.jsonl"))]


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_cover_transitions_fires_every_reachable_transition(model: Path, tmp_path: Path) -> None:
    chart = chart_of(model)
    space = space_of(model)
    generation = generate(chart, "cover-transitions")
    assert set(generation.targets) == set(space.fired_by)  # the explorer's reachable set
    write_generation(generation, tmp_path)
    results = simulate_all(chart, tmp_path)
    assert len(results) == len(generation.traces) > 0
    assert all(r.failed == 0 for r in results), [r.failures for r in results if r.failed]
    fired = {t for r in results for t in r.transitions_covered}
    # every transition reachable without assuming an undecidable guard is fired, and
    # the ones left out are exactly those the exploration only reached by assuming
    assert definitely_reachable(space, space.fired_by) <= fired
    assert set(generation.missed) == set(space.fired_by) - fired
    assert not set(generation.missed) & definitely_reachable(space, space.fired_by)


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_cover_states_enters_every_reachable_state(model: Path, tmp_path: Path) -> None:
    chart = chart_of(model)
    space = space_of(model)
    generation = generate(chart, "cover-states")
    write_generation(generation, tmp_path)
    results = simulate_all(chart, tmp_path)
    assert all(r.failed == 0 for r in results)
    entered = {s for r in results for s in r.states_covered}
    assert definitely_reachable(space, space.entered_by) <= entered
    # a small set: no trace is there only for what others cover already
    assert len(generation.traces) <= len(generation.targets)


def test_cover_traces_are_shortest_paths_with_timers_at_their_due_times() -> None:
    chart = chart_of(ROOT / "models" / "retro-bot.yaml")
    generation = generate(chart, "cover-transitions")
    by_target = {t.lines[0]["comment"]: t for t in generation.traces}
    trace = by_target["shortest path that fires list_members#2"]  # after: 1h -> failed
    text = trace.text()
    # milestone closes at the epoch (Thursday 2026-01-01), Monday 09:00 Berlin is
    # 2026-01-05T08:00Z (+4d8h); the members list is held and times out 1h later
    assert '"at": "+4d8h"' in text
    assert '"at": "+1h", "expect": {"configuration": ["failed"]' in text


def test_gitlab_events_are_real_webhooks_with_guard_fields_merged(tmp_path: Path) -> None:
    chart = chart_of(ROOT / "models" / "deployment-rollout.yaml")
    generation = generate(chart, "cover-transitions")
    write_generation(generation, tmp_path)
    hooks = [line["webhook"] for t in generation.traces for line in t.lines if "webhook" in line]
    assert hooks
    assert all((tmp_path / h["body_file"]).is_file() for h in hooks)
    # the trigger's guard (a tag pipeline) is set from the z3 witness, the rest is real
    pipeline = [h for h in hooks if h["headers"]["X-Gitlab-Event"] == "Pipeline Hook"]
    assert all(h["merge"]["object_attributes"]["tag"] is True for h in pipeline)
    bodies = [deep_merge(read_json(tmp_path / h["body_file"]), h["merge"]) for h in pipeline]
    statuses = {b["object_attributes"]["status"] for b in bodies}
    # every guard branch exercised: "success" (the real body's own value, so not in the
    # merge), one of ["failed", "canceled"], and another status (the build waits)
    assert "success" in statuses
    assert statuses & {"failed", "canceled"}
    assert statuses - {"success", "failed", "canceled"}
    for hook, body in zip(pipeline, bodies, strict=True):
        if body["object_attributes"]["status"] == "success":
            assert "status" not in hook["merge"]["object_attributes"]


def test_random_walks_are_reproducible_and_valid(tmp_path: Path) -> None:
    chart = chart_of(ROOT / "models" / "access-request.yaml")
    first = generate(chart, "random", count=4, seed=7)
    again = generate(chart, "random", count=4, seed=7)
    other = generate(chart, "random", count=4, seed=8)
    assert [t.text() for t in first.traces] == [t.text() for t in again.traces]
    assert [t.text() for t in first.traces] != [t.text() for t in other.traces]
    write_generation(first, tmp_path)
    results = simulate_all(chart, tmp_path)
    assert len(results) == 4
    assert all(r.failed == 0 for r in results)
    assert sum(len(r.steps) for r in results) > 4


def test_boundary_traces_straddle_each_timer_deadline(tmp_path: Path) -> None:
    chart = chart_of(ROOT / "models" / "access-request.yaml")
    generation: Generation = generate(chart, "boundary")
    names = {t.name for t in generation.traces}
    assert "boundary-details-2-before" in names  # the 3d timeout of the request form
    assert "boundary-details-2-after" in names
    write_generation(generation, tmp_path)
    results = {r.trace: r for r in simulate_all(chart, tmp_path)}
    assert all(r.failed == 0 for r in results.values())
    before = results[str(tmp_path / "boundary-details-2-before.jsonl")]
    after = results[str(tmp_path / "boundary-details-2-after.jsonl")]
    # just before the deadline the form answer is taken; just after, the timer was first
    assert "details#2" not in before.transitions_covered
    assert "details#2" in after.transitions_covered


def test_changed_workflow_fails_at_the_differing_step(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from autoflow.cli import app

    runner = CliRunner()
    model = ROOT / "models" / "retro-bot.yaml"
    generated = tmp_path / "traces"
    result = runner.invoke(app, ["traces", str(model), "-o", str(generated)])
    assert result.exit_code == 0, result.stderr
    same = runner.invoke(app, ["simulate", str(model), str(generated)])
    assert same.exit_code == 0, same.stdout
    # the change: a failed summary call now ends in `done` instead of `failed`
    text = model.read_text(encoding="utf-8")
    old = "      error.effect.create_summary:\n        target: failed"
    assert old in text
    changed = tmp_path / "models" / "retro-bot.yaml"
    changed.parent.mkdir()
    (tmp_path / "models" / "blocks").symlink_to(ROOT / "models" / "blocks")
    changed.write_text(text.replace(old, old.replace("failed", "done")), encoding="utf-8")
    run = runner.invoke(app, ["simulate", str(changed), str(generated)])
    assert run.exit_code == 1
    assert "configuration is done, expected failed" in run.stdout
    failing = [line for line in run.stdout.splitlines() if "✗ expect configuration" in line]
    assert failing
    assert all("(line " in line for line in failing)


# --------------------------------------------------------------------------- random walks

TRIAGE = ROOT / "tests" / "sim" / "data" / "triage.scxml"
WALKED = [*MODELS, TRIAGE]


def expectations_match_the_simulator(chart: Chart, directory: Path) -> int:
    """Simulate every file in ``directory``: no expectation fails, and the expectations
    are the whole story — an expect line after every step group, the configuration the
    simulator reached there, every effect it recorded.  Returns the steps simulated."""
    steps = 0
    for path in sorted(directory.glob("*.jsonl")):
        trace = read_trace(str(path))
        result = simulate_trace(chart, trace)
        assert result.failed == 0, (path.name, result.failures)
        expects = [line for line in trace.lines if type(line).__name__ == "ExpectLine"]
        expected_effects = sum(len(e.effects or ()) for e in expects)
        assert expected_effects == sum(len(r.effects) for r in result.steps), path.name
        assert result.passed >= len(result.steps) > 0
        steps += len(result.steps)
    return steps


@pytest.mark.parametrize("model", WALKED, ids=[m.stem for m in WALKED])
def test_random_walk_expectations_are_what_the_simulator_finds(model: Path, tmp_path: Path) -> None:
    chart = chart_of(model)
    for seed in (0, 1):
        quick = generate(chart, "random", count=12, seed=seed)
        checked = generate(chart, "random", count=12, seed=seed, simulate=True)
        # expectations from the walk's own engine run == those of a simulator run
        assert [t.text() for t in quick.traces] == [t.text() for t in checked.traces]
        out = tmp_path / str(seed)
        write_generation(quick, out)
        assert expectations_match_the_simulator(chart, out) >= sum(t.events for t in quick.traces)


def test_random_walks_go_on_with_new_instances_within_the_horizon(tmp_path: Path) -> None:
    from autoflow.sim.clock import DEFAULT_EPOCH, parse_when

    chart = chart_of(ROOT / "models" / "deployment-rollout.yaml")
    generation = generate(chart, "random", count=20, seed=3)
    write_generation(generation, tmp_path)
    results = simulate_all(chart, tmp_path)
    assert all(r.failed == 0 for r in results)
    # a walk is a series of instances: when one completes, a later start event
    # (a webhook line without "instance") starts the next
    starts = [
        sum(1 for line in t.lines if "webhook" in line and "instance" not in line)
        for t in generation.traces
    ]
    assert max(starts) > 1
    instances = {r.instance for r in results[starts.index(max(starts))].steps}
    assert len(instances) == max(starts)  # "1@master", "1@master#2", ...
    # every line stays within the horizon
    short = generate(chart, "random", count=20, seed=3, horizon=timedelta(hours=6))
    end = DEFAULT_EPOCH + timedelta(hours=6)
    for trace in short.traces:
        at = DEFAULT_EPOCH
        for line in trace.lines:
            if "at" in line:
                at = parse_when(line["at"], at)
            assert at <= end
    assert sum(t.events for t in short.traces) < sum(t.events for t in generation.traces)


SINGLE = """<?xml version="1.0" encoding="UTF-8"?>
<scxml xmlns="http://www.w3.org/2005/07/scxml" xmlns:af="https://autoflow.dev/scxml"
       version="1.0" datamodel="cel" name="single" initial="waiting">
  <state id="waiting">
    <transition event="approve" target="done"/>
    <transition af:after="duration('24h')" target="expired"/>
  </state>
  <final id="done"/>
  <final id="expired"/>
</scxml>
"""


def test_a_chart_without_start_triggers_has_one_instance_per_walk(tmp_path: Path) -> None:
    model = tmp_path / "single.scxml"
    model.write_text(SINGLE, encoding="utf-8")
    chart = load(str(model))
    assert isinstance(chart, Chart)
    generation = generate(chart, "random", count=30, seed=1)
    out = tmp_path / "out"
    write_generation(generation, out)
    expectations_match_the_simulator(chart, out)
    for trace in generation.traces:
        completed = [line for line in trace.lines if line.get("expect", {}).get("completed")]
        assert len(completed) <= 1
        if completed:  # nothing after the instance completed
            assert trace.lines[-1] is completed[0]


def test_same_seed_same_files_whatever_was_generated_before() -> None:
    from autoflow.sim import generate as gen

    model = ROOT / "models" / "retro-bot.yaml"
    gen._WALKERS.clear()
    fresh = generate(load_fresh(model), "random", count=8, seed=11)
    other = load_fresh(model)
    generate(other, "random", count=8, seed=2)  # warms the walker's caches
    generate(other, "cover-transitions")
    again = generate(other, "random", count=8, seed=11)
    assert [t.text() for t in fresh.traces] == [t.text() for t in again.traces]


def load_fresh(path: Path) -> Chart:
    chart = load(str(path))
    assert isinstance(chart, Chart)
    return chart


def test_compliant_path_is_a_change_that_breaks_no_rule(tmp_path: Path) -> None:
    """project-compliance: the guard `size(violations) == 0` reads data the entry
    actions' `if`s compute from the event; the payload is solved over those `if`s
    (all false, with the fields they test present), not found by emptying it."""
    chart = chart_of(ROOT / "models" / "project-compliance.yaml")
    generation = generate(chart, "cover-transitions")
    assert not generation.missed
    trace = next(t for t in generation.traces if t.lines[0]["comment"].endswith("applying#0"))
    proposal = next(line["data"] for line in trace.lines if "event" in line)
    settings = proposal["settings"]
    rules = [
        "visibility",
        "only_allow_merge_if_pipeline_succeeds",
        "only_allow_merge_if_all_discussions_are_resolved",
        "public_jobs",
        "merge_method",
    ]
    assert sorted(settings) == sorted(rules)  # every rule's field is in the change
    assert settings["visibility"] != "public"
    assert settings["only_allow_merge_if_pipeline_succeeds"] is True
    assert settings["only_allow_merge_if_all_discussions_are_resolved"] is True
    assert settings["public_jobs"] is False
    assert settings["merge_method"] in ("merge", "rebase_merge")
    write_generation(generation, tmp_path)
    results = {Path(r.trace).name: r for r in simulate_all(chart, tmp_path)}
    assert all(r.failed == 0 for r in results.values())
    compliant = results[f"{trace.name}.jsonl"]
    assert compliant.steps[-1].configuration == ("applied",)
    assert {"validating#0", "applying#0"} <= set(compliant.transitions_covered)
