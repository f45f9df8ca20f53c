"""Every rule of ``autoflow check``: a workflow with the defect (caught, with its location
and shortest trace) and the same workflow fixed (no finding at all)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoflow.check import Diagnostic, check_paths
from autoflow.check.guards import GuardReasoner, Verdict
from autoflow.check.rules import RULES
from autoflow.model.cel import compile_expression
from autoflow.model.io import load
from autoflow.model.ir import Chart
from autoflow.model.span import Span

DATA = Path(__file__).parent / "data"


def line_of(path: Path, text: str) -> int:
    """1-based line of the first line of ``path`` that contains ``text``."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def findings(name: str, **options: int) -> list[Diagnostic]:
    [report] = check_paths([str(DATA / name)], **options)
    return report.findings


def only(rule: str, items: list[Diagnostic]) -> list[Diagnostic]:
    return [f for f in items if f.rule == rule]


# rule, defect file, text on the line the finding points at, states, events of the trace
CASES = [
    ("deadlock", "deadlock.yaml", "  blocked:", ("blocked",), ["ticket.open", "ticket.approve"]),
    ("livelock", "livelock.yaml", "  remind:", ("remind", "wait"), ["ticket.open", None]),
    ("unreachable-state", "unreachable.yaml", "  escalated:", ("escalated",), []),
    ("eventless-cycle", "eventless-cycle.yaml", "      - target: check", ("check", "recheck"),
     ["ticket.open", "ticket.reopen"]),
    ("nondeterminism", "nondeterminism.yaml", 'if: event.label == "security"', ("triage",),
     ["ticket.open"]),
    ("wait-without-timeout", "wait-without-timeout.yaml", "  approval:", ("approval",),
     ["ticket.open"]),
    ("undefined-variable", "undefined-variable.yaml", "if: approvals >= 2", (), []),
    ("unknown-event", "unknown-event.yaml", "ticket.escalate: done", ("open",), ["ticket.open"]),
    ("unused-data", "unused-data.yaml", 'reviewer: "alice"', (), []),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "name", "anchor", "states", "events"), CASES)
def test_rule_catches_its_defect(
    rule: str, name: str, anchor: str, states: tuple[str, ...], events: list[str | None]
) -> None:
    [finding] = only(rule, findings(name))
    assert finding.span.path == str(DATA / name)
    assert finding.span.line == line_of(DATA / name, anchor)
    assert finding.states == states
    assert [step.event for step in finding.trace] == events
    expected = next(r.SEVERITY for r in RULES if rule == r.ID)
    assert finding.severity is expected


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*-fixed.yaml")))
def test_fixed_workflow_has_no_findings(name: str) -> None:
    assert findings(name) == []


def test_every_rule_has_a_defect_and_a_fixed_workflow() -> None:
    statechart_rules = {r.ID for r in RULES} - {"state-limit"}
    files = {case[0]: case[1] for case in CASES} | {"dead-transition": "dead-transition.yaml"}
    assert set(files) == statechart_rules
    for name in files.values():
        assert (DATA / name.replace(".yaml", "-fixed.yaml")).exists()


def test_dead_transition_shadowed_and_unsatisfiable() -> None:
    path = DATA / "dead-transition.yaml"
    dead = only("dead-transition", findings("dead-transition.yaml"))
    by_line = {f.span.line: f for f in dead}
    shadowed = by_line[line_of(path, 'if: event.reason == "duplicate"')]
    assert "open#0" in shadowed.message
    assert "always wins" in shadowed.message
    unsat = by_line[line_of(path, "if: attempts > 5 && attempts < 3")]
    assert "unsatisfiable" in unsat.message
    assert [s.event for s in unsat.trace] == ["ticket.open"]  # how to get to its source


def test_dead_transition_source_unreachable() -> None:
    [dead] = only("dead-transition", findings("unreachable.yaml"))
    assert "'escalated' is never active" in dead.message


def test_deadlock_trace_has_the_payload_that_satisfies_nothing_more() -> None:
    [finding] = only("deadlock", findings("deadlock.yaml"))
    assert [step.at for step in finding.trace] == ["+0s", "+0s"]
    assert finding.trace[1].instance == "instance"  # routed to the running instance


def test_livelock_trace_says_when_time_passes() -> None:
    [finding] = only("livelock", findings("livelock.yaml"))
    assert [(s.at, s.event) for s in finding.trace] == [("+0s", "ticket.open"), ("+1d", None)]


def test_nondeterminism_witness_satisfies_both_guards() -> None:
    [finding] = only("nondeterminism", findings("nondeterminism.yaml"))
    assert finding.witness is not None
    event = {"priority": finding.witness["event.priority"], "label": finding.witness["event.label"]}
    for guard in ("event.priority > 3", 'event.label == "security"'):
        assert compile_expression(guard, Span("t")).evaluate({"event": event}) is True


def test_scxml_chart_has_no_interface_findings() -> None:
    # the chart's data is never read and its events come from no trigger: its interface
    assert findings("interface.scxml") == []


def test_truncated_exploration_is_reported_and_suppresses_completeness_rules() -> None:
    items = findings("livelock.yaml", max_states=2)
    assert [f.rule for f in items] == ["state-limit"]
    [report] = check_paths([str(DATA / "livelock.yaml")], max_states=2)
    assert report.stats["truncated"] is True
    assert report.stats["states"] == 2


def test_deadlock_found_before_the_limit_is_still_reported() -> None:
    rules = [f.rule for f in findings("deadlock.yaml", max_states=3)]
    assert "deadlock" in rules


def test_guard_reasoner_unsat_sat_and_unknown() -> None:
    chart = load(str(DATA / "dead-transition.yaml"))
    assert isinstance(chart, Chart)
    reasoner = GuardReasoner(chart)
    guard = chart.states[0].transitions[2].guard
    assert guard is not None
    assert reasoner.solve([guard]).verdict is Verdict.UNSAT
    reason = chart.states[0].transitions[1].guard
    assert reason is not None
    solved = reasoner.solve([reason])
    assert solved.verdict is Verdict.SAT
    assert solved.payload == {"reason": "duplicate"}
    negated = reasoner.solve([], [reason])
    assert negated.verdict is Verdict.SAT
    assert negated.payload["reason"] != "duplicate"
