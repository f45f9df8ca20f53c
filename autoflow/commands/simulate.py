"""``autoflow simulate``: run a workflow against trace files in virtual time."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from autoflow.commands import load_statechart
from autoflow.console import err, out, print_error
from autoflow.errors import AutoflowError


class ReportFormat(enum.StrEnum):
    text = "text"
    json = "json"
    junit = "junit"


def simulate(
    model: Annotated[
        str,
        typer.Argument(
            metavar="MODEL",
            help="The workflow: .yaml/.yml, .scxml or a python-statemachine module:Class.",
        ),
    ],
    traces: Annotated[
        list[str],
        typer.Argument(metavar="TRACE...", help="Trace files (.jsonl) or directories of them."),
    ],
    format: Annotated[
        ReportFormat,
        typer.Option("--format", "-f", help="Report format."),
    ] = ReportFormat.text,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="Run the clock on after each trace ends: an ISO instant or an offset like +10d.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report to this file instead of stdout."),
    ] = None,
    coverage: Annotated[
        bool,
        typer.Option(
            "--coverage",
            help="Report state and transition coverage over all traces (text: a summary; "
            "json: an aggregate 'coverage' that autoflow render --coverage reads).",
        ),
    ] = False,
) -> None:
    """Run MODEL against each TRACE in virtual time and check the trace's expectations.

    Exit 0 when every expectation holds, 1 when some fail, 2 on bad input.
    Trace format: docs/traces.md.
    """
    from autoflow.sim import report
    from autoflow.sim.simulator import simulate_trace
    from autoflow.sim.trace import discover_traces, read_trace

    try:
        chart = load_statechart(model, "simulate runs statecharts")
        files = discover_traces(traces)
        if not files:
            err.print("no trace files (*.jsonl) found in " + ", ".join(traces), markup=False)
            raise typer.Exit(2)
        loaded = [read_trace(path) for path in files]
        results = [simulate_trace(chart, trace, until=until) for trace in loaded]
    except AutoflowError as error:
        print_error(error)
        raise typer.Exit(2) from None

    if format is ReportFormat.json:
        text = report.format_json(results, coverage=coverage)
    elif format is ReportFormat.junit:
        text = report.format_junit(results)
    elif output is not None:
        text = report.format_text(results)
        if coverage:
            text += report.format_coverage(results)
    else:
        text = ""
        out.print(report.render_text(results))
        if coverage:
            out.print(report.format_coverage(results), markup=False, end="")
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            err.print(f"{output}: cannot write: {exc.strerror}", markup=False)
            raise typer.Exit(2) from None
    elif text:
        out.file.write(text)  # verbatim: no markup, emoji codes or wrapping
    if coverage and format is ReportFormat.junit:
        err.print(report.format_coverage(results), markup=False, end="")
    failed = sum(result.failed for result in results)
    if failed:
        err.print(f"{failed} expectation(s) failed", markup=False)
        raise typer.Exit(1)
