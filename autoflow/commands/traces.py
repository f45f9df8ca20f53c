"""``autoflow traces``: generate trace files from the model (model-based testing)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from autoflow.commands import load_statechart
from autoflow.console import err, out, print_error
from autoflow.errors import AutoflowError


class Strategy(enum.StrEnum):
    cover_states = "cover-states"
    cover_transitions = "cover-transitions"
    random = "random"
    boundary = "boundary"


def traces(
    model: Annotated[
        str,
        typer.Argument(
            metavar="MODEL",
            help="The workflow: .yaml/.yml, .scxml or a python-statemachine module:Class.",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Directory to write the trace files into."),
    ],
    strategy: Annotated[
        Strategy,
        typer.Option("--strategy", "-s", help="Which traces to generate."),
    ] = Strategy.cover_transitions,
    count: Annotated[
        int | None,
        typer.Option("--count", "-n", help="random: how many walks (default 10)."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="random: the seed; the same seed writes the same files."),
    ] = None,
    horizon: Annotated[
        str | None,
        typer.Option("--horizon", help="random: how much virtual time a walk may span (30d)."),
    ] = None,
) -> None:
    """Write trace files for MODEL, each a valid input to `autoflow simulate`.

    cover-states / cover-transitions: shortest event paths that together enter
    every reachable state / fire every reachable transition.  random: seeded
    random walks.  boundary: an event just before and just after every timer's
    deadline.  Every trace expects the configuration the model reaches after
    each step, so `autoflow simulate CHANGED_MODEL DIR` shows where a change
    alters behaviour.  Guide: docs/testing-workflows.md.
    """
    from datetime import timedelta

    from autoflow.model.durations import parse_duration
    from autoflow.sim.generate import DEFAULT_HORIZON, generate, write_generation

    if strategy is not Strategy.random:
        given = [
            name
            for name, value in (("--count", count), ("--seed", seed), ("--horizon", horizon))
            if value is not None
        ]
        if given:
            err.print(
                f"{', '.join(given)}: only for --strategy random "
                f"(--strategy {strategy.value} is deterministic and sized by the model)",
                markup=False,
            )
            raise typer.Exit(2)
    if count is not None and count < 1:
        err.print(f"--count: expected a positive number of traces, got {count}", markup=False)
        raise typer.Exit(2)
    span = DEFAULT_HORIZON
    if horizon is not None:
        try:
            span = timedelta(seconds=parse_duration(horizon))
        except ValueError as exc:
            err.print(f"--horizon: {exc}", markup=False)
            raise typer.Exit(2) from None
        if span <= timedelta(0):
            err.print("--horizon: expected a positive duration such as 30d", markup=False)
            raise typer.Exit(2)
    if output.exists() and not output.is_dir():
        err.print(f"{output}: not a directory", markup=False)
        raise typer.Exit(2)
    try:
        chart = load_statechart(model, "traces are generated for statecharts")
        generation = generate(
            chart,
            strategy.value,
            count=10 if count is None else count,
            seed=0 if seed is None else seed,
            horizon=span,
        )
        written = write_generation(generation, output)
    except AutoflowError as error:
        print_error(error)
        raise typer.Exit(2) from None
    except OSError as exc:
        err.print(f"{output}: cannot write: {exc.strerror}", markup=False)
        raise typer.Exit(2) from None

    events = sum(trace.events for trace in generation.traces)
    out.print(
        f"wrote {len(written)} trace(s) to {output} ({strategy.value}, {events} event(s), "
        f"{generation.explored} explored state(s), {generation.seconds:.2f}s)",
        markup=False,
    )
    if generation.targets:
        noun = "states" if strategy is Strategy.cover_states else "transitions"
        out.print(
            f"covers {len(generation.covered)}/{len(generation.targets)} reachable {noun}",
            markup=False,
        )
        if generation.missed:
            err.print(
                f"not covered: {', '.join(generation.missed)} — the exploration reached "
                "them only under a guard it could not decide, and no generated payload "
                "takes that path (see docs/testing-workflows.md)",
                markup=False,
            )
