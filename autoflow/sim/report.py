"""Simulation reports: a Rich timeline for people, JSON for tools, JUnit for CI.

Each format is a pure function of the :class:`~autoflow.sim.simulator.TraceResult`
list.  The JSON shape is stable and documented in docs/traces.md::

    {"traces": [{"trace": PATH,
                 "steps": [{"at", "event", "configuration", "effects", "timers",
                            "instance", "kind", "line", "transitions", "note",
                            "errors": [{"event", "message"}]}],
                 "completed": bool,
                 "expectations": {"passed": N, "failed": N, "failures": [...]},
                 "coverage": {"states": [...], "transitions": [...]}}]}

JUnit follows GitLab's unit test report format: one ``<testcase>`` per trace,
one ``<failure>`` per unmet expectation.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.text import Text

from autoflow.model.durations import format_duration
from autoflow.sim.clock import format_instant
from autoflow.sim.simulator import EffectRecord, Failure, StepRecord, TraceResult, to_jsonable

__all__ = [
    "coverage_summary",
    "format_coverage",
    "format_json",
    "format_junit",
    "format_text",
    "render_text",
    "to_json",
]


# --------------------------------------------------------------------------- json


def to_json(results: Sequence[TraceResult], *, coverage: bool = False) -> dict[str, Any]:
    """The documented JSON document for ``results`` (plain dicts and lists);
    ``coverage`` adds the aggregate ``"coverage"`` of :func:`coverage_summary`."""
    document: dict[str, Any] = {"traces": [_trace_json(result) for result in results]}
    if coverage:
        document["coverage"] = coverage_summary(results)
    return document


def format_json(results: Sequence[TraceResult], *, coverage: bool = False) -> str:
    return json.dumps(to_json(results, coverage=coverage), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- coverage


def coverage_summary(results: Sequence[TraceResult]) -> dict[str, Any]:
    """State and transition coverage over all ``results`` (one workflow)::

        {"states": {"covered": [...], "uncovered": [...], "total": N, "percent": 66.7},
         "transitions": {...same...}, "traces": N}

    ``autoflow render --coverage`` reads this shape as well as the per-trace one.
    """
    summary: dict[str, Any] = {}
    for kind in ("states", "transitions"):
        total: list[str] = []
        covered: set[str] = set()
        for result in results:
            for item in getattr(result, f"{kind}_total"):
                if item not in total:
                    total.append(item)
            covered.update(getattr(result, f"{kind}_covered"))
        summary[kind] = {
            "covered": [item for item in total if item in covered],
            "uncovered": [item for item in total if item not in covered],
            "total": len(total),
            "percent": round(100.0 * len(covered & set(total)) / len(total), 1) if total else 100.0,
        }
    summary["traces"] = len(results)
    return summary


def format_coverage(results: Sequence[TraceResult]) -> str:
    """The coverage summary as text: totals, then what no trace covered."""
    summary = coverage_summary(results)
    lines = [f"coverage over {len(results)} trace(s):"]
    for kind in ("states", "transitions"):
        part = summary[kind]
        lines.append(f"  {kind:<12} {len(part['covered'])}/{part['total']} ({part['percent']:g}%)")
    for kind in ("states", "transitions"):
        uncovered = summary[kind]["uncovered"]
        if uncovered:
            lines.append(f"  not covered {kind}: {', '.join(uncovered)}")
    return "\n".join(lines) + "\n"


def _trace_json(result: TraceResult) -> dict[str, Any]:
    return {
        "trace": result.trace,
        "steps": [_step_json(step) for step in result.steps],
        "completed": result.completed,
        "expectations": {
            "passed": result.passed,
            "failed": result.failed,
            "failures": [_failure_json(failure) for failure in result.failures],
        },
        "coverage": {
            "states": list(result.states_covered),
            "transitions": list(result.transitions_covered),
        },
    }


def _step_json(step: StepRecord) -> dict[str, Any]:
    return {
        "at": format_instant(step.at),
        "event": step.event,
        "configuration": list(step.configuration),
        "effects": [_effect_json(effect) for effect in step.effects],
        "timers": [
            {"id": timer.id, "due": format_instant(timer.due), "event": timer.event}
            for timer in step.timers
        ],
        "instance": step.instance,
        "kind": step.kind,
        "line": step.line,
        "transitions": list(step.transitions),
        "completed": step.completed,
        "note": step.note,
        "errors": [{"event": name, "message": message} for name, message in step.errors],
    }


def _effect_json(effect: EffectRecord) -> dict[str, Any]:
    return {
        "id": effect.id,
        "effect": effect.effect,
        "args": to_jsonable(effect.args),
        "outcome": effect.outcome,
        "decided_by": effect.decided_by,
    }


def _failure_json(failure: Failure) -> dict[str, Any]:
    return {
        "line": failure.line,
        "at": format_instant(failure.at),
        "check": failure.check,
        "message": failure.message,
    }


# --------------------------------------------------------------------------- junit


def format_junit(results: Sequence[TraceResult], *, name: str = "autoflow simulate") -> str:
    """JUnit XML as GitLab reads it (``artifacts:reports:junit``)."""
    failures = sum(1 for result in results if result.failures)
    seconds = sum(result.seconds for result in results)
    root = ET.Element(
        "testsuites",
        name=name,
        tests=str(len(results)),
        failures=str(failures),
        errors="0",
        time=f"{seconds:.3f}",
    )
    suites: dict[str, list[TraceResult]] = {}
    for result in results:
        suites.setdefault(result.chart, []).append(result)
    for chart, members in suites.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=chart,
            tests=str(len(members)),
            failures=str(sum(1 for r in members if r.failures)),
            errors="0",
            skipped="0",
            time=f"{sum(r.seconds for r in members):.3f}",
        )
        for result in members:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"autoflow.simulate.{chart}",
                name=result.trace,
                file=result.trace,
                time=f"{result.seconds:.3f}",
            )
            for failure in result.failures:
                element = ET.SubElement(
                    case,
                    "failure",
                    message=f"line {failure.line}: {failure.check}: {failure.message}",
                    type="expectation",
                )
                element.text = (
                    f"{result.trace}:{failure.line}: at {format_instant(failure.at)}: "
                    f"expected {failure.check}: {failure.message}"
                )
            summary = ET.SubElement(case, "system-out")
            summary.text = _summary(result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


# --------------------------------------------------------------------------- text


_OUTCOME_STYLE = {"succeed": "green", "fail": "red", "hold": "yellow", "none": "dim"}


def render_text(results: Sequence[TraceResult]) -> RenderableType:
    """A Rich renderable: per trace, a timeline table and a summary line."""
    parts: list[RenderableType] = []
    for result in results:
        parts.append(Text.assemble(("trace ", "bold"), (result.trace, "bold cyan"),
                                   f"  (workflow {result.chart})"))  # fmt: skip
        parts.append(_timeline(result))
        parts.append(Text(_summary(result), style="red" if result.failures else "green"))
        parts.append(Text(""))
    return Group(*parts)


def format_text(results: Sequence[TraceResult], *, width: int = 160) -> str:
    """The text report as plain text (no colour), for ``--output FILE``."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, no_color=True, highlight=False, soft_wrap=False)
    console.print(render_text(results))
    return buffer.getvalue()


def _timeline(result: TraceResult) -> RenderableType:
    lines: list[RenderableType] = []
    start = result.steps[0].at if result.steps else None
    several = len({step.instance for step in result.steps if step.instance is not None}) > 1
    pending = sorted(result.failures, key=lambda f: f.after_step)
    for index, step in enumerate(result.steps):
        while pending and pending[0].after_step <= index:
            lines.append(_failure_line(pending.pop(0), start))
        lines.extend(_step_lines(step, start, several))
    lines.extend(_failure_line(failure, start) for failure in pending)
    return Group(*lines)


def _when(at: Any, start: Any) -> str:
    text = format_instant(at)
    if start is not None and at > start:
        text += f" (+{format_duration((at - start).total_seconds())})"
    return text


def _step_lines(step: StepRecord, start: Any, several: bool) -> list[Text]:
    head = Text(_when(step.at, start) + "  ", style="bold")
    if step.kind == "start":
        head.append("start" if step.event is None else f"start on {step.event}", style="bold")
    elif step.kind == "ignored":
        head.append(f"{step.event} (ignored)", style="dim")
    elif step.kind == "timer":
        head.append(f"timer {step.event}", style="magenta")
    elif step.kind == "result":
        head.append(step.event or "", style="cyan")
    else:
        head.append(step.event or "", style="bold")
    details = []
    if step.line is not None and step.kind != "result":
        details.append(f"line {step.line}")
    if several and step.instance is not None:
        details.append(f"instance {step.instance}")
    if details:
        head.append(f"  ({', '.join(details)})", style="dim")
    lines = [head]
    if step.note:
        lines.append(_detail("note", Text(step.note, style="dim")))
    if step.transitions:
        lines.append(_detail("transitions", Text(", ".join(step.transitions))))
    for name, message in step.errors:  # the action or guard was skipped, the run went on
        lines.append(_detail("error", Text(f"{name}: {message}", style="red")))
    if step.kind != "ignored":
        active = Text(", ".join(step.configuration) or "none")
        if step.completed:
            active.append("  (completed)", style="green")
        lines.append(_detail("active", active))
    for effect in step.effects:
        text = Text(f"{effect.effect} {effect.id} ")
        text.append(effect.outcome, style=_OUTCOME_STYLE.get(effect.outcome, ""))
        text.append(f" ({effect.decided_by})", style="dim")
        lines.append(_detail("effect", text))
    return lines


def _detail(label: str, value: Text) -> Text:
    return Text.assemble(f"    {label:<12}", value)


def _failure_line(failure: Failure, start: Any) -> Text:
    return Text.assemble(
        (_when(failure.at, start) + "  ", "bold red"),
        (f"✗ expect {failure.check} (line {failure.line}): ", "bold red"),
        (failure.message, "red"),
    )


def _summary(result: TraceResult) -> str:
    status = "completed" if result.completed else "not completed"
    expectations = f"{result.passed} expectation(s) passed, {result.failed} failed"
    coverage = (
        f"coverage: {len(result.states_covered)}/{len(result.states_total)} states, "
        f"{len(result.transitions_covered)}/{len(result.transitions_total)} transitions"
    )
    return f"{status}; {expectations}; {coverage}"
