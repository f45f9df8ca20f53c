"""``autoflow check``: verify workflows and Petri nets; exit like a linter."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from autoflow.console import err, out, print_error
from autoflow.errors import AutoflowError

if TYPE_CHECKING:
    from autoflow.check import ModelReport


class CheckFormat(enum.StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    gitlab = "gitlab"


class FailOn(enum.StrEnum):
    error = "error"
    warning = "warning"


def check(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH...",
            help="Model files or directories (searched for .yaml/.yml, .scxml, .pnml).",
        ),
    ],
    format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="Output format.")
    ] = CheckFormat.text,
    fail_on: Annotated[
        FailOn,
        typer.Option("--fail-on", help="The lowest severity that makes the exit code 1."),
    ] = FailOn.error,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when there are findings.")
    ] = False,
    max_states: Annotated[
        int,
        typer.Option(
            "--max-states",
            min=1,
            help="Stop exploring a model after this many states (reported, never silent).",
        ),
    ] = 20_000,
    traces: Annotated[
        Path | None,
        typer.Option(
            "--traces",
            help="Write each counterexample as a trace file `autoflow simulate` replays.",
        ),
    ] = None,
) -> None:
    """Verify workflows and Petri nets, with the shortest trace to every finding.

    Workflows: deadlocks, livelocks, unreachable states, dead transitions,
    nondeterministic guards, waits without timeouts, undefined data.
    Petri nets: state-space figures, boundedness, soundness.

    Exit 0 clean, 1 findings at or above --fail-on, 2 bad input.  See docs/check.md.
    """
    from autoflow.check import check_paths, formats
    from autoflow.check.diagnostics import Severity
    from autoflow.check.rules import DESCRIPTIONS

    skipped: list[str] = []
    status = err.status("exploring", spinner="dots") if err.is_terminal else None

    def progress(path: str, states: int, edges: int) -> None:
        if status is not None:
            if states >= 1000:
                status.start()
            status.update(f"{path}: {states} states, {edges} edges")

    try:
        try:
            reports = check_paths(paths, max_states=max_states, progress=progress, skipped=skipped)
        finally:
            if status is not None:
                status.stop()
    except AutoflowError as error:
        print_error(error)
        raise typer.Exit(2) from None
    for path in skipped:
        err.print(
            f"{path}: skipped (a block: it is checked where a workflow uses it)", markup=False
        )
    if not reports and not skipped:
        err.print("no model files found in " + ", ".join(paths), markup=False)
        raise typer.Exit(2)
    for report in reports:
        if report.stats.get("truncated"):
            err.print(
                f"{report.path}: exploration stopped at --max-states {max_states}; "
                "the verdict is incomplete",
                markup=False,
            )
    if traces is not None:
        _write_traces(reports, traces)
    if format is CheckFormat.json:
        out.print(formats.to_json(reports), end="", markup=False, highlight=False, soft_wrap=True)
    elif format is CheckFormat.sarif:
        text = formats.to_sarif(reports, DESCRIPTIONS)
        out.print(text, end="", markup=False, highlight=False, soft_wrap=True)
    elif format is CheckFormat.gitlab:
        out.print(formats.to_gitlab(reports), end="", markup=False, highlight=False, soft_wrap=True)
    else:
        _print_text(reports)
    threshold = Severity(fail_on.value)
    failing = any(f.severity.rank >= threshold.rank for report in reports for f in report.findings)
    if failing and not exit_zero:
        raise typer.Exit(1)


def _print_text(reports: list[ModelReport]) -> None:
    from rich.markup import escape
    from rich.table import Table

    colours = {"error": "red", "warning": "yellow", "info": "blue"}
    total = 0
    for report in reports:
        stats = report.stats
        figures = f"{stats.get('states')} states, {stats.get('edges')} edges"
        if report.kind == "petri-net":
            figures += (
                f", max {stats.get('max_tokens_place')} tokens in a place, "
                f"max {stats.get('max_tokens_marking')} in a marking, "
                f"bounded: {stats.get('bounded')}, sound: {stats.get('sound')}"
            )
        if not report.findings:
            out.print(f"[green]ok[/green]  {report.path}  ({figures})", highlight=False)
            continue
        total += len(report.findings)
        table = Table(
            title=escape(f"{report.path}  ({figures})"), title_justify="left", show_lines=True
        )
        table.add_column("where", overflow="fold")  # a block file's path folds
        table.add_column("severity")
        table.add_column("rule", no_wrap=True)
        table.add_column("finding")
        table.add_column("trace")
        for finding in report.findings:
            where = f"{finding.span.line}:{finding.span.col}" if finding.span.line else "-"
            if finding.span.line and finding.span.path and finding.span.path != report.path:
                where = f"{finding.span.path}:{where}"  # in a block the workflow uses
            trace = "\n".join(
                f"{step.at} {step.event if step.event is not None else '(time passes)'}"
                for step in finding.trace
            )
            colour = colours[finding.severity.value]
            table.add_row(
                where,
                f"[{colour}]{finding.severity.value}[/{colour}]",
                finding.rule,
                escape(finding.message),
                escape(trace) or "-",
            )
        out.print(table)
    if total:
        out.print(f"{total} finding(s) in {len(reports)} model(s)", highlight=False)
    else:
        out.print(f"{len(reports)} model(s) checked, no findings", highlight=False)


def replay_lines(report: ModelReport, index: int) -> list[dict[str, object]]:
    """The trace file (as JSON lines) that replays finding ``index`` of ``report``.

    Effects are held (their results are events of the trace); pure time passing
    moves the next line's ``at``; a trailing wait becomes an ``expect`` line.
    The last line expects the configuration the finding reports to be active.
    """
    from autoflow.model.durations import format_duration, parse_duration

    finding = report.findings[index]
    lines: list[dict[str, object]] = [
        {"comment": f"{finding.rule}: {finding.message}"},
        {"policy": {"*": "hold"}},
    ]
    waited = 0.0
    for step in finding.trace:
        waited += parse_duration(step.at.lstrip("+"))
        if step.event is None:
            continue
        line = step.to_json()
        line["at"] = "+" + format_duration(waited)
        waited = 0.0
        lines.append(line)
    if finding.reached:
        lines.append(
            {"at": "+" + format_duration(waited), "expect": {"active": list(finding.reached)}}
        )
    return lines


def _write_traces(reports: list[ModelReport], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for report in reports:
        if report.kind != "statechart":
            continue
        stem = Path(report.path).stem
        for index, finding in enumerate(report.findings):
            if not finding.trace:
                continue
            target = directory / f"{stem}.{index + 1}.{finding.rule}.jsonl"
            lines = replay_lines(report, index)
            target.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
            err.print(f"wrote {target}", markup=False, highlight=False)
