"""Regressions found by the newcomer review of ``autoflow check`` (each through
:func:`autoflow.check.check_paths`)."""

from __future__ import annotations

from pathlib import Path

from autoflow.check import Diagnostic, check_paths
from autoflow.check.guards import GuardReasoner, Verdict
from autoflow.model.cel import compile_expression
from autoflow.model.io import load
from autoflow.model.ir import Chart, Expr
from autoflow.model.span import Span

DATA = Path(__file__).parent / "data"


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def findings(path: Path) -> list[Diagnostic]:
    [report] = check_paths([str(path)])
    return report.findings


def test_unhandled_effect_error_is_a_deadlock_reached_by_the_error() -> None:
    # an effect's result is delivered once: after error.effect.n, done.effect.n
    # is not offered again, so the instance is stuck in 'sending'
    [finding] = [f for f in findings(DATA / "effect-error-deadlock.yaml") if f.rule == "deadlock"]
    assert finding.states == ("sending",)
    assert [step.event for step in finding.trace] == ["error.effect.n"]


def evaluate(source: str, event: object) -> object:
    return compile_expression(source, Span("t")).evaluate({"event": event})


def test_guard_compared_with_null_is_false_without_error_for_the_all_false_payload() -> None:
    path = DATA / "null-guard.yaml"
    assert findings(path) == []  # no eventless-cycle: no payload makes the guard fail
    chart = load(str(path))
    assert isinstance(chart, Chart)
    [guard] = [t.guard for t in chart.states[0].transitions if t.guard is not None]
    reasoner = GuardReasoner(chart)
    false = reasoner.solve([], [guard])
    assert false.verdict is Verdict.SAT
    assert evaluate(guard.source, false.payload) is False  # the field present, not null
    true = reasoner.solve([guard])
    assert true.verdict is Verdict.SAT
    assert evaluate(guard.source, true.payload) is True  # the field present and null


def test_null_comparison_and_equality_on_one_field_cannot_both_hold() -> None:
    chart = load(str(DATA / "null-guard.yaml"))
    assert isinstance(chart, Chart)
    reasoner = GuardReasoner(chart)
    is_null = Expr("event.assignee.id == null", Span("t"))
    is_one = Expr("event.assignee.id == 1", Span("t"))
    assert reasoner.solve([is_null, is_one]).verdict is Verdict.UNSAT
    [both_false] = [reasoner.solve([], [is_null, is_one])]
    assert evaluate(is_null.source, both_false.payload) is False
    assert evaluate(is_one.source, both_false.payload) is False


def test_loop_of_guard_errors_names_the_guard_and_the_error() -> None:
    path = DATA / "guard-error-loop.yaml"
    [finding] = [f for f in findings(path) if f.rule == "eventless-cycle"]
    assert finding.span.line == line_of(path, "if: int(name) > 3")
    assert "check#1" in finding.message  # `on:` comes first in the state
    assert "int(name) > 3" in finding.message
    assert "error.execution" in finding.message
    assert "abc" in finding.message  # the evaluation error itself
    assert [step.event for step in finding.trace] == ["ticket.open"]


def test_assumed_guard_is_named_by_its_transition_id_with_the_outcome_the_trace_needs() -> None:
    [finding] = [f for f in findings(DATA / "assumed-guard.yaml") if f.rule == "deadlock"]
    assert finding.states == ("late",)
    assert "__autoflow" not in finding.message
    assert "guard of deciding#0 (`now >= timestamp(deadline)`) is true" in finding.message
    assert "needs" in finding.message  # the replay may take the other branch
    assert all("__autoflow" not in str(step.data) for step in finding.trace)


def test_trace_uses_a_payload_that_decides_the_guard_rather_than_an_assumption() -> None:
    [finding] = [f for f in findings(DATA / "decided-by-payload.yaml") if f.rule == "deadlock"]
    assert finding.states == ("big",)
    assert "assumption" not in finding.message
    [start] = finding.trace
    assert evaluate("event.count > 3", start.data) is True  # the replay takes the same way
