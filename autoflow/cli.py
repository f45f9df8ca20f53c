"""The ``autoflow`` command line: a thin layer over the public functions.

Results go to stdout, progress and errors to stderr.  Exit codes follow ruff and
ESLint: 0 clean, 1 findings, 2 usage, configuration, I/O or parse errors.
"""

from __future__ import annotations

from typing import Annotated

import typer

from autoflow import __version__
from autoflow.commands.check import check
from autoflow.commands.render import render
from autoflow.commands.simulate import simulate
from autoflow.commands.traces import traces
from autoflow.commands.validate import validate
from autoflow.console import out

app = typer.Typer(
    name="autoflow",
    help="DevOps workflows as formal statecharts: validate, check, simulate and render them.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"autoflow {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", help="Show the version and exit.", callback=_version),
    ] = False,
) -> None:
    """autoflow: verify, simulate, render and run DevOps workflows."""


# Commands live in autoflow/commands/<name>.py as plain functions and are registered
# here, one line each; their modules import heavy dependencies lazily.
app.command()(validate)
app.command()(check)
app.command()(simulate)
app.command()(render)
app.command()(traces)


def main() -> None:
    """Console-script entry point."""
    app()
