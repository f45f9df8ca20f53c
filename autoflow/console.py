"""The two consoles of the CLI: results on stdout, progress and errors on stderr.

Colour is off when the stream is not a terminal (Rich decides) or ``NO_COLOR`` is set.
"""

from __future__ import annotations

import os

from rich.console import Console

from autoflow.errors import AutoflowError


def _console(stderr: bool) -> Console:
    no_color = bool(os.environ.get("NO_COLOR"))
    return Console(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=True, emoji=False)


out = _console(stderr=False)
err = _console(stderr=True)


def print_error(error: AutoflowError) -> None:
    """Print an error as ``path:line:col: message`` with its excerpt, on stderr."""
    err.print(error.render(), markup=False)
