"""``autoflow validate``: load models and report every error."""

from __future__ import annotations

from typing import Annotated

import typer

from autoflow.console import err, out, print_error
from autoflow.errors import AutoflowError


def validate(
    paths: Annotated[
        list[str],
        typer.Argument(help="Model files or directories (searched for .yaml/.yml, .scxml, .pnml)."),
    ],
) -> None:
    """Load every model and report every error; exit 0 when all are valid, 2 otherwise."""
    from autoflow.model.io import discover, load

    files = discover(paths)
    if not files:
        err.print("no model files found in " + ", ".join(paths), markup=False)
        raise typer.Exit(2)
    failures = 0
    for path in files:
        try:
            model = load(path)
        except AutoflowError as error:
            failures += 1
            print_error(error)
            continue
        out.print(f"[green]ok[/green]  {path}  {_describe(model)}")
    if failures:
        err.print(f"{failures} of {len(files)} file(s) invalid", markup=False)
        raise typer.Exit(2)
    out.print(f"{len(files)} file(s) valid")


def _describe(model: object) -> str:
    from autoflow.model.ir import Chart, walk_states
    from autoflow.model.net import Net

    if isinstance(model, Chart):
        states = walk_states(model.states)
        transitions = sum(len(state.transitions) for state in states)
        return f"({model.name}: {len(states)} states, {transitions} transitions)"
    if isinstance(model, Net):
        name = f"{model.name}: " if model.name else ""
        return f"(Petri net {name}{len(model.places)} places, {len(model.transitions)} transitions)"
    return f"({type(model).__name__})"
