"""The example workflows in models/: they load, and they do what their comments promise.

Three layers:

* the CLI: ``autoflow validate models/`` accepts every file (blocks included);
* structure, for every example: triggers that start instances with a correlation
  key, every state reachable, no non-final state without a way out, a timer on
  every wait, a final state to end in;
* content, per example: the states, transitions, timers, fan-out and effects its
  description names, asserted on the loaded IR.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from autoflow.cli import app
from autoflow.model.io import load
from autoflow.model.ir import (
    Action,
    Call,
    Chart,
    Invoke,
    JoinKind,
    State,
    StateKind,
    TimerKind,
    Transition,
    walk_actions,
    walk_states,
)
from autoflow.sim import engine
from autoflow.sim.simulator import TraceResult, simulate_trace
from autoflow.sim.trace import parse_trace

MODELS = Path(__file__).resolve().parent.parent / "models"
EXAMPLES = (
    "milestone-labels",
    "group-labels",
    "retro-bot",
    "project-compliance",
    "deployment-rollout",
    "access-request",
    "change-lock-approval",
)
BLOCKS = ("approval", "wait-until", "stale-ping")

runner = CliRunner()


# --------------------------------------------------------------------------- helpers


def chart_of(name: str) -> Chart:
    chart = load(str(MODELS / f"{name}.yaml"))
    assert isinstance(chart, Chart)
    return chart


def state(chart: Chart, state_id: str) -> State:
    return chart.index.states[state_id]


def on(source: State, event: str) -> list[Transition]:
    """The transitions of ``source`` whose descriptors name ``event`` exactly."""
    return [t for t in source.transitions if event in t.events]


def timers(source: State, kind: TimerKind = TimerKind.AFTER) -> list[Transition]:
    return [t for t in source.transitions if t.timer is not None and t.timer.kind is kind]


def seconds(transition: Transition) -> float:
    """The duration of an ``after`` timer, evaluated (it is a constant)."""
    assert transition.timer is not None
    value = transition.timer.expr.program.evaluate({})
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def calls_in(actions: tuple[Action, ...]) -> list[Call]:
    return [a for a in walk_actions(actions) if isinstance(a, Call)]


def state_calls(source: State) -> list[Call]:
    """Every effect called on entry to, exit from or a transition of ``source``."""
    found: list[Call] = []
    for block in (*source.on_entry, *source.on_exit):
        found += calls_in(block)
    for transition in source.transitions:
        found += calls_in(transition.actions)
    return found


def effects_of(source: State) -> list[str]:
    return [c.effect for c in state_calls(source)]


def arg(call: Call, name: str) -> str:
    """The CEL source of argument ``name`` of ``call``."""
    for param in call.args:
        if param.name == name:
            return param.expr.source
    raise AssertionError(f"{call.effect} has no argument {name!r}: {[p.name for p in call.args]}")


def all_calls(chart: Chart) -> list[Call]:
    return [c for s in walk_states(chart.states) for c in state_calls(s)]


def fanout(source: State) -> Invoke:
    fans = [i for i in source.invokes if i.foreach is not None]
    assert len(fans) == 1, f"{source.id} should fan out exactly once"
    return fans[0]


def charts_within(chart: Chart) -> list[Chart]:
    """The chart and the inline child charts of its invokes (fan-out children)."""
    found = [chart]
    for s in walk_states(chart.states):
        for invoke in s.invokes:
            if invoke.chart is not None:
                found += charts_within(invoke.chart)
    return found


def reachable_states(chart: Chart) -> set[str]:
    """States reachable by following initial transitions and transition targets.

    Guards are ignored (an over-approximation, good enough to find a state that
    nothing can ever enter); entering a state enters its ancestors, a compound's
    initial child and every child of a parallel state.
    """
    index = chart.index
    seen: set[str] = set()
    todo = list(chart.initial.targets)
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo += index.ancestors(current)
        node = index.states[current]
        if node.kind is StateKind.COMPOUND and node.initial is not None:
            todo += node.initial.targets
        if node.kind is StateKind.PARALLEL:
            todo += [child.id for child in node.children]
        for transition in node.transitions:
            todo += transition.targets
    return seen


def ways_out(chart: Chart, source: State) -> list[Transition]:
    """Transitions that can leave ``source``: its own and its ancestors'."""
    index = chart.index
    found = list(source.transitions)
    for ancestor in index.ancestors(source.id):
        found += index.states[ancestor].transitions
    return found


def has_timeout(chart: Chart, source: State) -> bool:
    """A timer (``after``/``at``), a fan-out join timeout, or an eventless way on."""
    index = chart.index
    for candidate in (source, *(index.states[a] for a in index.ancestors(source.id))):
        if any(t.timer is not None or not t.events for t in candidate.transitions):
            return True
        if any(i.join is not None and i.join.timeout is not None for i in candidate.invokes):
            return True
    return False


# --------------------------------------------------------------------------- the CLI


def test_validate_accepts_every_model_and_block() -> None:
    result = runner.invoke(app, ["validate", str(MODELS)])
    assert result.exit_code == 0, result.output
    for name in EXAMPLES:
        assert f"{name}.yaml" in result.stdout
    for name in BLOCKS:
        assert f"blocks/{name}.yaml" in result.stdout
    assert f"{len(EXAMPLES) + len(BLOCKS)} file(s) valid" in result.stdout


def test_the_catalogue_lists_every_example_and_block() -> None:
    catalogue = (MODELS / "README.md").read_text(encoding="utf-8")
    for name in EXAMPLES:
        assert f"({name}.yaml)" in catalogue
    for name in BLOCKS:
        assert f"(blocks/{name}.yaml)" in catalogue


# --------------------------------------------------------------------------- every example


@pytest.mark.parametrize("name", EXAMPLES)
def test_comment_block_explains_the_workflow(name: str) -> None:
    text = (MODELS / f"{name}.yaml").read_text(encoding="utf-8")
    header = text.split("\nworkflow:", 1)[0]
    for heading in ("What it does", "API calls", "Timers", "simulate"):
        assert heading in header, f"{name}: comment block lacks {heading!r}"
    assert "webhooks it listens to" in header or "Events" in header


@pytest.mark.parametrize("name", EXAMPLES)
def test_triggers_start_instances_with_a_correlation_key(name: str) -> None:
    chart = chart_of(name)
    assert chart.name == name
    starters = [t for t in chart.triggers if t.start]
    assert starters, f"{name} declares no starting trigger"
    for trigger in starters:
        assert trigger.key is not None, f"{name}: a starting trigger without a key"
        assert trigger.events


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_state_is_reachable(name: str) -> None:
    for chart in charts_within(chart_of(name)):
        everything = {s.id for s in walk_states(chart.states) if s.kind is not StateKind.HISTORY}
        assert everything - reachable_states(chart) == set(), chart.name


@pytest.mark.parametrize("name", EXAMPLES)
def test_no_dead_ends_and_every_wait_has_a_timeout(name: str) -> None:
    for chart in charts_within(chart_of(name)):
        finals = [s for s in chart.states if s.kind is StateKind.FINAL]
        assert finals, f"{chart.name}: no top-level final state to end in"
        for s in walk_states(chart.states):
            if s.kind is not StateKind.ATOMIC:
                continue
            assert ways_out(chart, s), f"{chart.name}: {s.id} is a dead end"
            assert has_timeout(chart, s), f"{chart.name}: {s.id} waits without a timeout"


@pytest.mark.parametrize("name", EXAMPLES)
def test_gitlab_events_are_named_like_webhooks(name: str) -> None:
    chart = chart_of(name)
    kinds = {"issue", "merge_request", "note", "pipeline", "deployment", "milestone", "push"}
    for trigger in chart.triggers:
        for event in trigger.events:
            if event.startswith("gitlab."):
                assert event.split(".")[1] in kinds, event


# --------------------------------------------------------------------------- 1. milestone-labels


def test_milestone_labels_routes_on_the_milestone_change() -> None:
    chart = chart_of("milestone-labels")
    update = next(t for t in chart.triggers if "gitlab.issue.update" in t.events)
    assert update.filter is not None
    assert "changes" in update.filter.source
    assert "milestone_id" in update.filter.source

    received = state(chart, "received")
    guards = [t.guard.source if t.guard else None for t in received.transitions]
    assert [t.targets for t in received.transitions] == [
        ("backlog",),
        ("ready_for_dev",),
        ("unplanned",),
    ]
    assert all(not t.events for t in received.transitions)  # decided on the starting event
    assert guards[0] is not None
    assert "backlog_milestone_id" in guards[0]

    backlog = {c.effect: c for c in state_calls(state(chart, "backlog"))}
    assert "backlog_label" in arg(backlog["gitlab.issues.add_labels"], "labels")
    assert "ready_label" in arg(backlog["gitlab.issues.remove_labels"], "labels")
    ready = {c.effect: c for c in state_calls(state(chart, "ready_for_dev"))}
    assert "ready_label" in arg(ready["gitlab.issues.add_labels"], "labels")
    assert "backlog_label" in arg(ready["gitlab.issues.remove_labels"], "labels")
    data = {d.id: d.expr.source for d in chart.datamodel if d.expr is not None}
    assert "workflow::backlog" in data["backlog_label"]
    assert "workflow::ready for dev" in data["ready_label"]


# --------------------------------------------------------------------------- 2. group-labels


def test_group_labels_adds_only_the_missing_implied_labels() -> None:
    chart = chart_of("group-labels")
    (trigger,) = chart.triggers
    assert trigger.filter is not None
    assert "group::environments" in trigger.filter.source
    data = {d.id: d.expr.source for d in chart.datamodel if d.expr is not None}
    assert "devops::deploy" in data["implied_labels"]
    assert "section::cd" in data["implied_labels"]
    (add,) = state_calls(state(chart, "labelled"))
    assert add.effect == "gitlab.issues.add_labels"
    assert "implied_labels.filter" in arg(add, "labels")
    assert state(chart, "already_labelled").kind is StateKind.FINAL


# --------------------------------------------------------------------------- 3. retro-bot


def test_retro_bot_waits_for_monday_then_lists_the_members() -> None:
    chart = chart_of("retro-bot")
    (start,) = [t for t in chart.triggers if t.start]
    assert start.events == ("gitlab.milestone.close",)

    wait = state(chart, "wait_for_monday")
    assert wait.kind is StateKind.COMPOUND  # the wait-until block, expanded
    (deadline,) = [t for s in walk_states(wait.children) for t in timers(s, TimerKind.AT)]
    assert deadline.timer is not None
    when = deadline.timer.expr.source
    assert "next_weekday" in when
    assert "monday" in when
    assert "09:00" in when
    assert [t.targets for t in on(wait, "done.state.wait_for_monday")] == [("list_members",)]

    listing = state(chart, "list_members")
    members, *on_error = state_calls(listing)
    assert members.effect == "gitlab.members.list"
    assert [c.effect for c in on_error] == ["notify"]
    assert members.result == "members"
    assert on(listing, "done.effect.list_members")[0].targets == ("ask_each_member",)
    assert on(listing, "error.effect.list_members")[0].targets == ("failed",)


def test_retro_bot_fans_out_one_child_per_member_joined_by_all_or_a_week() -> None:
    chart = chart_of("retro-bot")
    fan_state = state(chart, "ask_each_member")
    invoke = fanout(fan_state)
    assert invoke.foreach is not None
    assert "members" in invoke.foreach.source
    assert invoke.item == "member"
    assert invoke.autoforward  # issue close webhooks reach the children
    assert invoke.join is not None
    assert invoke.join.kind is JoinKind.ALL
    assert invoke.join.timeout is not None
    assert invoke.join.timeout.program.evaluate({}) == timedelta(days=7)
    (done,) = [
        t for t in fan_state.transitions if any(e.startswith("done.invoke.") for e in t.events)
    ]
    assert done.targets == ("summarize",)

    child = invoke.chart
    assert child is not None
    opening = child.index.states["opening"]
    (create,) = state_calls(opening)
    assert create.effect == "gitlab.issues.create"
    assert create.result == "issue"
    description = arg(create, "description")
    for question in ("What went well?", "What didn't go well?", "Who deserves praise"):
        assert question in description
    assert "member.id" in arg(create, "assignee_ids")

    # the stale-ping block: a ping two days after opening, ending when the issue closes
    answering = child.index.states["answering"]
    assert answering.kind is StateKind.COMPOUND
    inner = {s.id: s for s in walk_states(answering.children)}
    first_ping = [t for s in inner.values() for t in timers(s) if seconds(t) == 2 * 86400]
    assert first_ping, "no 2-day timer in the stale-ping block"
    pings = [c for s in inner.values() for c in state_calls(s)]
    assert [c.effect for c in pings] == ["gitlab.issues.add_note"]
    assert "member.username" in arg(pings[0], "body")
    closes = [t for s in inner.values() for t in on(s, "gitlab.issue.close")]
    assert closes
    assert all(t.guard is not None and "issue.iid" in t.guard.source for t in closes)
    assert [t.targets for t in on(answering, "done.state.answering")] == [("answered",)]
    assert child.index.states["answered"].kind is StateKind.FINAL
    assert child.index.states["answered"].donedata is not None


def test_retro_bot_summarises_for_the_manager_mentioning_the_group() -> None:
    chart = chart_of("retro-bot")
    summarize = state(chart, "summarize")
    (create, *notify) = state_calls(summarize)
    assert create.effect == "gitlab.issues.create"
    assert "manager.id" in arg(create, "assignee_ids")
    assert "group_path" in arg(create, "description")
    assert [c.effect for c in notify] == ["notify"]  # the manager hears about a failure
    assert on(summarize, "done.effect.create_summary")[0].targets == ("done",)
    issue_close = next(t for t in chart.triggers if "gitlab.issue.close" in t.events)
    assert issue_close.key is not None
    assert "milestone_id" in issue_close.key.source


# --------------------------------------------------------------------------- 4. project-compliance


def test_project_compliance_checks_rules_before_applying() -> None:
    chart = chart_of("project-compliance")
    validating = state(chart, "validating")
    rules = [a for block in validating.on_entry for a in block]
    assert len(rules) >= 5  # one CEL-guarded rule each
    sources = " ".join(b.cond.source for r in rules for b in r.branches if b.cond)  # type: ignore[union-attr]
    for setting in (
        "visibility",
        "only_allow_merge_if_pipeline_succeeds",
        "public_jobs",
        "merge_method",
    ):
        assert setting in sources
    ways = [(t.guard.source if t.guard else None, t.targets) for t in validating.transitions]
    assert ways == [("size(violations) == 0", ("applying",)), (None, ("rejected",))]

    assert effects_of(state(chart, "applying")) == ["gitlab.projects.update_settings"]
    rejected = state(chart, "rejected")
    assert rejected.kind is StateKind.FINAL
    assert effects_of(rejected) == ["gitlab.merge_requests.add_note", "gitlab.issues.create"]
    assert all("violations" in arg(c, "body" if "note" in c.effect else "description")
               for c in state_calls(rejected))  # fmt: skip
    # the settings change happens only on the path through `applying`
    applying_calls = [c for c in all_calls(chart) if c.effect == "gitlab.projects.update_settings"]
    assert len(applying_calls) == 1


# --------------------------------------------------------------------------- 5. deployment-rollout


def test_rollout_stages_in_order_with_their_soaks() -> None:
    chart = chart_of("deployment-rollout")
    assert [s.id for s in chart.states][:7] == [
        "started",
        "build",
        "release",
        "pre_production",
        "staging",
        "production",
        "incident",
    ]
    assert [seconds(t) for t in timers(state(chart, "build"))] == [2 * 3600]
    pre = state(chart, "pre_production_soaking")
    assert [(seconds(t), t.targets) for t in timers(pre)] == [(86400, ("staging",))]
    staging = state(chart, "staging_soaking")
    assert [(seconds(t), t.targets) for t in timers(staging)] == [(86400, ("production",))]
    environments = [
        arg(c, "environment") for c in all_calls(chart) if c.effect == "gitlab.deployments.create"
    ]
    assert environments == ['"pre-production"', '"staging"', '"production"']


def test_rollout_ramps_ten_percent_per_hour_on_a_bounded_counter() -> None:
    chart = chart_of("deployment-rollout")
    (percent,) = [d for d in chart.datamodel if d.id == "percent"]
    assert (percent.type, percent.minimum, percent.maximum) == ("int", 10, 100)
    assert percent.expr is not None
    assert percent.expr.source == "10"

    observing = state(chart, "observing")
    assert [(seconds(t), t.targets) for t in timers(observing)] == [(3600, ("next_step",))]
    next_step = state(chart, "next_step")
    assert [(t.guard.source if t.guard else None, t.targets) for t in next_step.transitions] == [
        ("percent >= 100", ("rolled_out",)),
        (None, ("shifting",)),
    ]
    (step,) = next_step.transitions[1].actions
    assert "percent + 10" in step.expr.source  # type: ignore[union-attr]
    assert state(chart, "rolled_out").kind is StateKind.FINAL


def test_rollout_anomaly_pauses_and_notifies_sre_until_resumed() -> None:
    chart = chart_of("deployment-rollout")
    ramping = state(chart, "ramping")
    assert [t.targets for t in on(ramping, "monitoring.anomaly")] == [("paused",)]
    paused = state(chart, "paused")
    assert effects_of(paused) == ["notify"]
    assert "sre" in arg(state_calls(paused)[0], "to")
    assert [t.targets for t in on(paused, "rollout.resume")] == [("observing",)]
    assert [t.targets for t in on(paused, "rollout.abort")] == [("aborting",)]
    assert [(seconds(t), t.targets) for t in timers(paused)] == [(8 * 3600, ("aborting",))]
    assert "gitlab.deployments.rollback" in effects_of(state(chart, "aborting"))


def test_rollout_breach_opens_an_incident_rolls_back_and_keeps_it_updated() -> None:
    chart = chart_of("deployment-rollout")
    production = state(chart, "production")
    assert [t.targets for t in on(production, "monitoring.threshold_breach")] == [("incident",)]
    opening = state(chart, "opening_incident")
    create = next(c for c in state_calls(opening) if c.effect == "gitlab.issues.create")
    assert create.result == "incident"
    assert arg(create, "issue_type") == '"incident"'
    assert on(opening, "done.effect.open_incident")[0].targets == ("rolling_back",)
    rolling_back = state(chart, "rolling_back")
    assert effects_of(rolling_back) == ["gitlab.deployments.rollback"]
    assert on(rolling_back, "done.effect.rollback_production")[0].targets == ("recovering",)
    recovering = state(chart, "recovering")
    assert effects_of(recovering) == ["gitlab.issues.add_note"]  # a status update on the incident
    assert [(seconds(t), t.targets) for t in timers(recovering)] == [(1800, ("recovering",))]
    assert [t.targets for t in on(recovering, "monitoring.recovered")] == [("rolled_back",)]
    assert state(chart, "rolled_back").kind is StateKind.FINAL


# --------------------------------------------------------------------------- 6. access-request


def approval_states(chart: Chart, use_site: str) -> dict[str, State]:
    block = state(chart, use_site)
    assert block.kind is StateKind.COMPOUND
    return {s.id.removeprefix(use_site + "_"): s for s in walk_states(block.children)}


def test_access_request_form_then_approval_then_provisioning() -> None:
    chart = chart_of("access-request")
    details = state(chart, "details")
    (form,) = state_calls(details)
    assert form.effect == "task.create"
    assert form.result == "request"
    fields = arg(form, "form")
    for field_name in ("system", "role", "justification", "until"):
        assert f'"{field_name}"' in fields
    assert [(seconds(t), t.targets) for t in timers(details)] == [(3 * 86400, ("abandoned",))]
    assert on(details, "done.effect.request_form")[0].targets == ("approval",)

    approval = state(chart, "approval")
    outcomes = [(t.guard.source if t.guard else None, t.targets) for t in approval.transitions]
    assert outcomes == [
        ('event.decision == "approved"', ("granting",)),
        ('event.decision == "rejected"', ("rejected",)),
        (None, ("expired",)),
    ]
    assert [c.effect for c in state_calls(state(chart, "granting"))] == ["http.request"]
    assert [c.effect for c in state_calls(state(chart, "recording"))] == ["http.request"]
    assert effects_of(state(chart, "granted"))[-1] == "gitlab.issues.close"
    for ending in ("rejected", "expired", "abandoned"):
        assert effects_of(state(chart, ending))[-1] == "gitlab.issues.close"


def test_access_request_approval_by_label_or_button_with_reminder_and_timeout() -> None:
    chart = chart_of("access-request")
    inner = approval_states(chart, "approval")
    waiting = inner["waiting"]
    assert "task.create" in effects_of(waiting)  # the button
    label_ways = on(waiting, "gitlab.issue.update")
    assert [t.targets for t in label_ways] == [("approval_approved",), ("approval_rejected",)]
    assert label_ways[0].guard is not None
    guard = label_ways[0].guard.source
    assert "access::approved" in guard
    assert "event.changes.labels.current" in guard
    assert "requester" in guard  # the requester can never approve their own request
    assert [t.targets for t in on(waiting, "done.effect.approval_task")] == [
        ("approval_approved",),
        ("approval_rejected",),
    ]
    assert [(seconds(t), t.targets) for t in timers(waiting)] == [
        (5 * 86400, ("approval_expired",))
    ]
    assert [seconds(t) for t in timers(inner["pending"])] == [86400]
    assert [seconds(t) for t in timers(inner["reminded"])] == [2 * 86400]
    assert "notify" in effects_of(inner["escalated"])
    for outcome in ("approved", "rejected", "expired"):
        assert inner[outcome].kind is StateKind.FINAL


# ------------------------------------------------------------------------ 7. change-lock-approval


def test_change_lock_deploys_at_once_outside_a_lock() -> None:
    chart = chart_of("change-lock-approval")
    requested = state(chart, "deploy_requested")
    ways = [(t.guard.source if t.guard else None, t.targets) for t in requested.transitions]
    assert ways[0][1] == ("locked",)
    assert ways[0][0] is not None
    assert "change_locks" in ways[0][0]
    assert ways[1] == (None, ("deploying",))
    (play,) = state_calls(state(chart, "deploying"))
    assert play.effect == "http.request"
    assert "/play" in arg(play, "url")


def test_change_lock_waits_for_the_risk_team_with_a_timeout() -> None:
    chart = chart_of("change-lock-approval")
    inner = approval_states(chart, "risk_approval")
    waiting = inner["waiting"]
    assert [(seconds(t), t.targets) for t in timers(waiting)] == [
        (4 * 3600, ("risk_approval_expired",))
    ]
    guard = on(waiting, "gitlab.issue.update")[0].guard
    assert guard is not None
    assert "risk_team" in guard.source
    assert "change-lock::approved" in guard.source
    decided = on(state(chart, "risk_approval"), "done.state.risk_approval")
    assert [t.targets for t in decided] == [("deploying",), ("refused",)]
    cancel = [c for c in state_calls(state(chart, "refused")) if c.effect == "http.request"]
    assert cancel
    assert "/cancel" in arg(cancel[0], "url")
    locked = state(chart, "locked")
    assert [t.targets for t in on(locked, "gitlab.pipeline")] == [("withdrawn",)]


# --------------------------------------------------------------------------- blocks


@pytest.mark.parametrize("name", BLOCKS)
def test_block_comment_block_and_parameters(name: str) -> None:
    text = (MODELS / "blocks" / f"{name}.yaml").read_text(encoding="utf-8")
    header = text.split("\nblock:", 1)[0]
    assert "What it does" in header
    assert "Timers" in header


# --------------------------------------------------------------------------- behaviour
# The examples run against real GitLab webhook payloads (tests/sim/data/webhooks)
# in the simulator: the same engine as production, in virtual time.

WEBHOOKS = Path(__file__).resolve().parent / "sim" / "data" / "webhooks" / "gitlab-docs"


def hook(kind: str, fixture: str, merge: dict[str, Any], at: str = "+1m") -> dict[str, Any]:
    body = {"headers": {"X-Gitlab-Event": kind}, "body_file": str(WEBHOOKS / fixture)}
    return {"at": at, "webhook": {**body, "merge": merge}}


def simulate(name: str, lines: list[dict[str, Any]], until: str | None = None) -> TraceResult:
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    result = simulate_trace(chart_of(name), parse_trace(text, f"<{name}>"), until=until)
    assert not result.failures, "\n".join(f"line {f.line}: {f.message}" for f in result.failures)
    assert result.passed > 0
    return result


def test_milestone_labels_on_real_issue_webhooks() -> None:
    backlog = {"object_attributes": {"action": "update", "milestone_id": 1}}
    backlog["changes"] = {"milestone_id": {"previous": None, "current": 1}}
    sprint = {"object_attributes": {"action": "update", "milestone_id": 7}}
    sprint["changes"] = {"milestone_id": {"previous": 1, "current": 7}}
    labels_only = {"object_attributes": {"action": "update", "milestone_id": 7}}
    simulate(
        "milestone-labels",
        [
            hook("Issue Hook", "issue.json", backlog, at="2026-03-02T09:00:00Z"),
            {"expect": {"completed": True, "configuration": ["backlog"]}},
            {"expect": {"effects": [
                {"effect": "gitlab.issues.add_labels", "args": {"labels": ["workflow::backlog"]}},
                {"effect": "gitlab.issues.remove_labels",
                 "args": {"labels": ["workflow::ready for dev"]}},
            ]}},
            hook("Issue Hook", "issue.json", sprint),
            {"expect": {"configuration": ["ready_for_dev"], "effects": [
                {"effect": "gitlab.issues.add_labels",
                 "args": {"labels": ["workflow::ready for dev"]}},
            ]}},
            # our own label change comes back without a milestone change: nothing starts
            hook("Issue Hook", "issue.json", labels_only),
            {"expect": {"instances": 2}},
        ],
    )  # fmt: skip


def test_group_labels_adds_the_missing_labels_once() -> None:
    group = {"title": "group::environments"}
    deploy = {"title": "devops::deploy"}
    section = {"title": "section::cd"}
    lines: list[dict[str, Any]] = [
        hook("Issue Hook", "issue.json", {"labels": [group, deploy]}, at="2026-03-02T09:00:00Z"),
        {"expect": {"configuration": ["labelled"], "effects": [
            {"effect": "gitlab.issues.add_labels", "args": {"labels": ["section::cd"]}},
        ]}},
        hook("Issue Hook", "issue.json", {"labels": [group, deploy, section]}),
        {"expect": {"instances": 1}},
    ]  # fmt: skip
    # deep merge replaces lists: the payload's labels are exactly the ones given
    simulate("group-labels", lines)


def test_project_compliance_rejects_a_public_project_and_applies_a_compliant_change() -> None:
    proposal = {"project_id": 42, "mr_project_id": 7, "mr_iid": 12, "requested_by": "alice"}
    bad = {**proposal, "settings": {"visibility": "public", "public_jobs": True}}
    good = {**proposal, "mr_iid": 13, "settings": {"visibility": "internal"}}
    simulate(
        "project-compliance",
        [
            {"at": "2026-03-02T09:00:00Z", "event": "settings.change_proposed", "data": bad},
            {"expect": {"completed": True, "configuration": ["rejected"],
                        "data": {"violations": [
                            "R1: visibility must be private or internal, not public",
                            "R4: public_jobs must be false (job logs can contain secrets)"]}}},
            {"expect": {"effects": ["gitlab.merge_requests.add_note", "gitlab.issues.create"]}},
            {"at": "+1m", "event": "settings.change_proposed", "data": good},
            {"expect": {"instance": "42!13", "completed": True, "configuration": ["applied"]}},
            {"expect": {"effects": [
                {"effect": "gitlab.projects.update_settings",
                 "args": {"project_id": 42, "settings": {"visibility": "internal"}}},
                "gitlab.merge_requests.add_note",
            ]}},
        ],
    )  # fmt: skip


def tag_pipeline(status: str, at: str = "+1m") -> dict[str, Any]:
    attributes = {"tag": True, "ref": "v1.2.0", "status": status}
    return hook("Pipeline Hook", "pipeline.json", {"object_attributes": attributes}, at=at)


def signal(name: str, at: str, **data: Any) -> dict[str, Any]:
    return {"at": at, "event": name, "data": {"project_id": 1, "ref": "v1.2.0", **data}}


def test_rollout_soaks_ramps_pauses_on_an_anomaly_and_completes_at_100() -> None:
    result = simulate(
        "deployment-rollout",
        [
            tag_pipeline("running", at="2026-03-02T09:00:00Z"),
            {"expect": {"active": ["build"]}},
            tag_pipeline("success", at="2026-03-02T09:20:00Z"),
            {"expect": {"active": ["pre_production_soaking"]}},
            {"at": "2026-03-03T09:21:00Z", "expect": {"active": ["staging_soaking"]}},
            {"at": "2026-03-04T09:21:00Z",
             "expect": {"active": ["observing"], "data": {"percent": 10}}},
            {"at": "2026-03-04T11:21:00Z", "expect": {"data": {"percent": 30}}},
            signal("monitoring.anomaly", "2026-03-04T11:30:00Z", summary="p99 latency +30%"),
            {"expect": {"active": ["paused"], "effects": [
                "http.request", "gitlab.deployments.create", "gitlab.deployments.create",
                "gitlab.deployments.create", "http.request", "http.request", "http.request",
                {"effect": "notify", "args": {"to": "sre-oncall"}}]}},
            {"at": "2026-03-04T15:00:00Z",
             "expect": {"active": ["paused"], "data": {"percent": 30}}},
            signal("rollout.resume", "2026-03-04T15:00:00Z", user="sre-sam"),
            {"expect": {"active": ["observing"]}},
            {"at": "2026-03-05T00:00:00Z",
             "expect": {"completed": True, "configuration": ["rolled_out"],
                        "data": {"percent": 100}}},
        ],
    )  # fmt: skip
    assert result.completed


def test_rollout_threshold_breach_opens_an_incident_and_rolls_back() -> None:
    simulate(
        "deployment-rollout",
        [
            tag_pipeline("success", at="2026-03-02T09:00:00Z"),
            {"at": "2026-03-04T10:30:00Z", "expect": {"data": {"percent": 20}}},
            signal("monitoring.threshold_breach", "2026-03-04T10:31:00Z", summary="error rate 5%"),
            {"expect": {"active": ["recovering"], "effects": [
                "http.request", "gitlab.deployments.create", "gitlab.deployments.create",
                "gitlab.deployments.create", "http.request", "http.request",
                {"effect": "gitlab.issues.create", "args": {"issue_type": "incident"}},
                {"effect": "notify", "args": {"to": "sre-oncall"}},
                {"effect": "gitlab.deployments.rollback", "args": {"environment": "production"}},
                "gitlab.issues.add_note"]}},
            {"at": "+31m", "expect": {"active": ["recovering"],
                                      "effects": ["gitlab.issues.add_note"]}},
            signal("monitoring.recovered", "+5m"),
            {"expect": {"completed": True, "configuration": ["rolled_back"],
                        "effects": ["gitlab.issues.add_note"]}},
        ],
    )  # fmt: skip


def test_access_request_form_label_approval_provisioning_and_close() -> None:
    opened = {"labels": [{"title": "access-request"}], "user": {"username": "carol"}}
    approved = {
        "object_attributes": {"action": "update"},
        "user": {"username": "it-manager-anna"},
        "labels": [{"title": "access-request"}, {"title": "access::approved"}],
        "changes": {"labels": {"previous": [{"title": "access-request"}],
                               "current": [{"title": "access-request"},
                                           {"title": "access::approved"}]}},
    }  # fmt: skip
    form = {
        "system": "grafana",
        "role": "read-only",
        "justification": "on-call",
        "until": "2026-06-01",
    }
    simulate(
        "access-request",
        [
            {"stub": {"effect": "task.create", "match": {"assignee": "carol"}, "result": form}},
            {"stub": {"effect": "task.create", "hold": True}},
            hook("Issue Hook", "issue.json", opened, at="2026-03-02T09:00:00Z"),
            {"expect": {"active": ["approval_pending"], "data": {"request": form}}},
            {"at": "+1d1m", "expect": {"active": ["approval_reminded"]}},
            hook("Issue Hook", "issue.json", approved, at="+2h"),
            {"expect": {"completed": True, "configuration": ["granted"],
                        "data": {"approved_by": "it-manager-anna"}}},
            {"expect": {"effects": [
                "task.create", "task.create", "gitlab.issues.add_note", "gitlab.issues.add_note",
                {"effect": "http.request",
                 "args": {"json": {"user": "carol", "system": "grafana"}}},
                "http.request", "gitlab.issues.add_note", "gitlab.issues.add_labels",
                "gitlab.issues.close"]}},
        ],
    )  # fmt: skip


def test_access_request_requester_cannot_approve_their_own_request() -> None:
    chart = chart_of("access-request")
    waiting = approval_states(chart, "approval")["waiting"]
    guard = on(waiting, "gitlab.issue.update")[0].guard
    assert guard is not None
    program = guard.program
    event = {
        "project": {"id": 1},
        "object_attributes": {"iid": 23},
        "user": {"username": "it-manager-anna"},
        "changes": {"labels": {"previous": [], "current": [{"title": "access::approved"}]}},
    }
    approvers = ["it-manager-anna", "it-manager-ben"]
    values = {"project_id": 1, "issue_iid": 23, "approvers": approvers, "event": event}
    assert program.evaluate({**values, "requester": "carol"}) is True
    assert program.evaluate({**values, "requester": "it-manager-anna"}) is False


def test_change_lock_expires_without_approval_and_cancels_the_pipeline() -> None:
    manual = {
        "object_attributes": {"ref": "master", "id": 31},
        "builds": [{"id": 380, "stage": "deploy", "name": "deploy-production", "status": "manual"}],
    }
    simulate(
        "change-lock-approval",
        [
            {"stub": {"effect": "task.create", "hold": True}},
            # notifications need no answer: holding them keeps the run to the calls that matter
            {"stub": {"effect": "notify", "hold": True, "times": "all"}},
            hook("Pipeline Hook", "pipeline.json", manual, at="2026-12-21T10:00:00Z"),
            {"expect": {"active": ["risk_approval_pending"],
                        "data": {"lock_name": "Year-end freeze 2026", "job_id": 380}}},
            {"at": "+4h1m", "expect": {"completed": True, "configuration": ["cancelled"]}},
            {"expect": {"effects": [
                "gitlab.issues.create", "task.create", "gitlab.issues.add_note",
                "gitlab.issues.add_note", "gitlab.issues.add_note", "notify",
                {"effect": "http.request",
                 "args": {"url": "https://gitlab.example.com/api/v4/projects/1/pipelines/31/cancel"}},
                {"effect": "notify", "args": {"to": "root"}}]}},
        ],
    )  # fmt: skip


def test_change_lock_outside_a_lock_plays_the_job_at_once() -> None:
    manual = {
        "object_attributes": {"ref": "master", "id": 31},
        "builds": [{"id": 380, "stage": "deploy", "name": "deploy-production", "status": "manual"}],
    }
    simulate(
        "change-lock-approval",
        [
            hook("Pipeline Hook", "pipeline.json", manual, at="2026-03-02T10:00:00Z"),
            {"expect": {"completed": True, "configuration": ["deployment_started"], "effects": [
                {"effect": "http.request",
                 "args": {"url": "https://gitlab.example.com/api/v4/projects/1/jobs/380/play"}}]}},
        ],
    )  # fmt: skip


# The retro bot is driven through the engine itself: the simulator delivers effect
# results without the effect id (``sendid``), so results of the fan-out children's
# calls reach the parent instead of the child that made them.

RETRO_START = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # a Wednesday
MONDAY_9_BERLIN = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def retro_until_issues_open() -> tuple[Chart, engine.Snapshot]:
    chart = chart_of("retro-bot")
    milestone = json.loads((WEBHOOKS / "milestone.json").read_text(encoding="utf-8"))
    milestone["action"] = "close"
    started = engine.start(
        chart,
        RETRO_START,
        instance="milestone-61",
        event=engine.Event("gitlab.milestone.close", milestone),
    )
    assert started.snapshot.configuration == ("wait_for_monday", "wait_for_monday_waiting")
    assert engine.next_due(started.snapshot) == MONDAY_9_BERLIN
    monday = engine.fire_due(chart, started.snapshot, MONDAY_9_BERLIN)
    (listing,) = monday.effects
    assert listing.effect == "gitlab.members.list"
    members = [
        {"id": 11, "username": "alice", "state": "active", "access_level": 30},
        {"id": 12, "username": "bob", "state": "active", "access_level": 40},
        {"id": 13, "username": "bot", "state": "blocked", "access_level": 30},
        {"id": 4711, "username": "team-lead", "state": "active", "access_level": 50},
    ]
    result = engine.step(
        chart,
        monday.snapshot,
        engine.Event("done.effect.list_members", members, sendid=listing.id),
        MONDAY_9_BERLIN,
    )
    creates = result.effects
    assert [e.args["assignee_ids"] for e in creates] == [[11], [12]]  # active, not the manager
    snapshot = result.snapshot
    for iid, create in zip((201, 202), creates, strict=True):
        reply = engine.Event(
            "done.effect.open_issue", {"iid": iid, "project_id": 278964}, sendid=create.id
        )
        snapshot = engine.step(chart, snapshot, reply, MONDAY_9_BERLIN).snapshot
    return chart, snapshot


def closed_issue(iid: int, username: str, answers: str) -> engine.Event:
    body = json.loads((WEBHOOKS / "issue.json").read_text(encoding="utf-8"))
    body["project"]["id"] = 278964
    body["user"]["username"] = username
    body["object_attributes"].update(
        action="close", state="closed", iid=iid, milestone_id=61, description=answers
    )
    return engine.Event("gitlab.issue.close", body)


def test_retro_bot_one_issue_per_member_then_a_summary_when_all_are_closed() -> None:
    chart, snapshot = retro_until_issues_open()
    tuesday = MONDAY_9_BERLIN + timedelta(days=1)
    snapshot = engine.step(
        chart, snapshot, closed_issue(201, "alice", "ALICE: CI got faster"), tuesday
    ).snapshot
    assert snapshot.configuration == ("ask_each_member",)
    result = engine.step(chart, snapshot, closed_issue(202, "bob", "BOB: thanks @alice"), tuesday)
    (summary,) = [e for e in result.effects if e.effect == "gitlab.issues.create"]
    assert summary.args["assignee_ids"] == [4711]
    description = summary.args["description"]
    assert description.startswith("@my-org/environments ")
    assert "2 of 2 answered" in description
    assert "### @alice\n\nALICE: CI got faster" in description
    assert "### @bob\n\nBOB: thanks @alice" in description


def test_retro_bot_pings_an_assignee_whose_issue_stays_open_two_days() -> None:
    chart, snapshot = retro_until_issues_open()
    snapshot = engine.step(
        chart, snapshot, closed_issue(201, "alice", "done"), MONDAY_9_BERLIN + timedelta(hours=1)
    ).snapshot
    pings = engine.fire_due(chart, snapshot, MONDAY_9_BERLIN + timedelta(days=2))
    notes = [e for e in pings.effects if e.effect == "gitlab.issues.add_note"]
    assert [(n.args["issue_iid"], n.args["body"].split()[0]) for n in notes] == [(202, "@bob")]


def test_retro_bot_summarises_after_a_week_without_every_answer() -> None:
    chart, snapshot = retro_until_issues_open()
    snapshot = engine.step(
        chart, snapshot, closed_issue(201, "alice", "ALICE"), MONDAY_9_BERLIN + timedelta(hours=1)
    ).snapshot
    week = engine.fire_due(chart, snapshot, MONDAY_9_BERLIN + timedelta(days=7, minutes=1))
    summaries = [e for e in week.effects if e.effect == "gitlab.issues.create"]
    assert len(summaries) == 1
    assert "1 of 2 answered (1 did not answer within a week)" in summaries[0].args["description"]
