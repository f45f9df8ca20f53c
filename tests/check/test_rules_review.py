"""Regressions found by the newcomer review of ``autoflow check`` (each through
:func:`autoflow.check.check_paths`)."""

from __future__ import annotations

from pathlib import Path

from autoflow.check import Diagnostic, check_paths

DATA = Path(__file__).parent / "data"


def findings(path: Path) -> list[Diagnostic]:
    [report] = check_paths([str(path)])
    return report.findings


def test_unhandled_effect_error_is_a_deadlock_reached_by_the_error() -> None:
    # an effect's result is delivered once: after error.effect.n, done.effect.n
    # is not offered again, so the instance is stuck in 'sending'
    [finding] = [f for f in findings(DATA / "effect-error-deadlock.yaml") if f.rule == "deadlock"]
    assert finding.states == ("sending",)
    assert [step.event for step in finding.trace] == ["error.effect.n"]
