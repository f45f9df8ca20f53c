"""One module per CLI command; ``autoflow/cli.py`` registers them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from autoflow.console import err

if TYPE_CHECKING:
    from autoflow.model.ir import Chart


def load_statechart(model: str, refusal: str) -> Chart:
    """Load ``model``; anything but a statechart (a Petri net) is a usage error, exit 2.

    ``refusal`` says what the command does, e.g. "simulate runs statecharts".
    Load errors propagate as :class:`~autoflow.errors.AutoflowError`.
    """
    from autoflow.model.io import load
    from autoflow.model.ir import Chart

    chart = load(model)
    if not isinstance(chart, Chart):
        err.print(f"{model}: {refusal}; this is a {type(chart).__name__}", markup=False)
        raise typer.Exit(2)
    return chart
