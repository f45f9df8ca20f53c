"""``autoflow render``: a diagram of a workflow or Petri net, with review overlays."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from autoflow.console import err, print_error
from autoflow.errors import AutoflowError


def render(
    model: Annotated[
        str,
        typer.Argument(
            help="A workflow (.yaml), SCXML chart (.scxml), Petri net (.pnml) or "
            "python-statemachine class (module:ClassName)."
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Write here; the extension picks the format (.mmd .md .dot .gv .svg .png).",
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help="mermaid | dot | svg | png (default: from -o, else mermaid)."
        ),
    ] = None,
    fence: Annotated[
        bool, typer.Option("--fence", help="Wrap Mermaid in a ```mermaid block for Markdown.")
    ] = False,
    highlight: Annotated[
        str | None,
        typer.Option("--highlight", help="Comma-separated states to mark as active."),
    ] = None,
    snapshot: Annotated[
        Path | None,
        typer.Option("--snapshot", help='Mark the "configuration" of a snapshot JSON file.'),
    ] = None,
    trace: Annotated[
        Path | None,
        typer.Option(
            "--trace",
            help="Number the transitions a trace takes (trace file, check counterexample, "
            "or simulate --format json output).",
        ),
    ] = None,
    coverage: Annotated[
        Path | None,
        typer.Option(
            "--coverage",
            help="simulate --format json output: draw uncovered transitions dashed red.",
        ),
    ] = None,
    diff: Annotated[
        str | None,
        typer.Option("--diff", help="The OTHER (older) version: colour what changed since it."),
    ] = None,
) -> None:
    """Draw MODEL as Mermaid (stdout by default), DOT, SVG or PNG, with review overlays."""
    from autoflow.render import EXTENSIONS, FORMATS

    chosen = fmt.lower() if fmt else None
    if chosen is None and output is not None:
        chosen = EXTENSIONS.get(output.suffix.lower())
        if chosen is None:
            _usage(
                f"cannot tell the format from {output.name!r}: use --format "
                f"({' | '.join(FORMATS)}) or an extension {' '.join(sorted(EXTENSIONS))}"
            )
    chosen = chosen or "mermaid"
    if chosen not in FORMATS:
        _usage(f"unknown --format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if fence and chosen != "mermaid":
        _usage("--fence wraps Mermaid only; drop it or use --format mermaid")
    if highlight and snapshot:
        _usage("give --highlight or --snapshot, not both")
    if chosen == "png" and output is None:
        _usage("PNG is binary: give an output file with -o diagram.png")

    try:
        data = _draw(model, chosen, fence, highlight, snapshot, trace, coverage, diff)
    except AutoflowError as error:
        print_error(error)
        raise typer.Exit(2) from None

    if output is None:
        text = data if isinstance(data, str) else data.decode("utf-8")
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        if isinstance(data, str):
            output.write_text(data, encoding="utf-8")
        else:
            output.write_bytes(data)
    except OSError as exc:
        err.print(f"{output}: cannot write: {exc.strerror}", markup=False)
        raise typer.Exit(2) from None
    err.print(f"wrote {output} ({chosen})", markup=False)


def _usage(message: str) -> None:
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(2)


def _draw(
    model_path: str,
    fmt: str,
    fence: bool,
    highlight: str | None,
    snapshot: Path | None,
    trace: Path | None,
    coverage: Path | None,
    diff: str | None,
) -> str | bytes:
    from autoflow import render as diagrams
    from autoflow.model.io import load
    from autoflow.model.ir import Chart

    model = load(model_path)
    graph = diagrams.build_graph(model)
    if diff is not None:
        graph = diagrams.diff_graphs(diagrams.build_graph(load(diff)), graph)
    if highlight:
        states = [s.strip() for s in highlight.split(",") if s.strip()]
        graph = diagrams.highlight(graph, states)
    if snapshot is not None:
        graph = diagrams.highlight(
            graph, diagrams.read_configuration(str(snapshot)), what=str(snapshot)
        )
    if coverage is not None:
        graph = diagrams.mark_coverage(graph, diagrams.read_coverage(str(coverage)))
    if trace is not None:
        if not isinstance(model, Chart):
            raise diagrams.OverlayError("--trace applies to statecharts, not Petri nets")
        graph = diagrams.number_path(graph, _trace_path(model, str(trace)))
    return diagrams.render(graph, fmt, fence=fence)


def _trace_path(chart: Any, path: str) -> list[str]:
    """Transition ids a trace takes: read from simulate's output, else simulated.

    A trace file or a check counterexample is run through the simulator (the
    engine's exact semantics); only when that is not possible (for example a
    counterexample without times) are the events followed on the diagram alone.
    """
    from autoflow.render import read_trace, trace_path

    steps = read_trace(path)
    if steps and all(step.transitions is not None for step in steps):
        return trace_path(chart, steps)
    if not any(step.configuration is not None for step in steps):
        simulated = _simulate(chart, path)
        if simulated is not None:
            return simulated
    return trace_path(chart, steps)


def _simulate(chart: Any, path: str) -> list[str] | None:
    from autoflow.errors import SimulationError
    from autoflow.sim.simulator import simulate_trace
    from autoflow.sim.trace import parse_trace

    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        data = data.get("trace", data.get("steps"))
    if isinstance(data, list):  # a counterexample: [{"at", "event"}, ...] → trace lines
        text = "\n".join(
            json.dumps({key: item[key] for key in ("at", "event", "data") if key in item})
            for item in data
            if isinstance(item, dict) and "event" in item
        )
    try:
        result = simulate_trace(chart, parse_trace(text, path))
    except (SimulationError, ValueError) as exc:
        err.print(f"note: could not simulate {path} ({exc}); following its events", markup=False)
        return None
    return [transition for step in result.steps for transition in step.transitions]
