"""Every error autoflow raises on purpose.

One root, three subtrees: problems in a model the user wrote, problems while
simulating or running a workflow, and problems of the runtime service::

    AutoflowError
    ├── ModelError                  a workflow, block, chart or net is wrong
    │   ├── SourceError             malformed YAML / XML / JSON, too large, entity bomb
    │   ├── SchemaError             unknown key, wrong type, missing field, bad duration
    │   ├── ModelReferenceError     unknown target, duplicate id, missing block
    │   ├── ExpressionError         a CEL expression does not compile
    │   └── UnsupportedError        a construct autoflow deliberately rejects (<script>)
    ├── ModelErrors                 several ModelErrors found in one load
    ├── EvaluationError             a CEL expression failed while it was evaluated
    ├── SimulationError             the simulator could not run
    │   └── TraceError              a trace file is malformed (line and field)
    └── ServiceError                the runtime service failed

Every ``ModelError`` carries a :class:`~autoflow.model.span.Span` and prints as
``path:line:col: message``, followed by the offending source line with a caret
under the column and, where there is one, a hint.  Third-party exceptions are
wrapped with ``raise ... from exc`` so the original stays reachable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autoflow.model.span import Span


class AutoflowError(Exception):
    """Root of every error autoflow raises deliberately."""

    def render(self) -> str:
        """The text shown to a user (the CLI prints exactly this)."""
        return str(self)


class ModelError(AutoflowError):
    """Something in a model file is wrong; ``span`` says where."""

    def __init__(self, message: str, span: Span | None = None, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint

    def __str__(self) -> str:
        if self.span is None:
            return self.message
        return f"{self.span}: {self.message}"

    def render(self) -> str:
        lines = [str(self)]
        if self.span is not None:
            excerpt = self.span.excerpt()
            if excerpt:
                lines.append(excerpt)
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class SourceError(ModelError):
    """The file cannot be parsed at all: malformed YAML/XML, too large, unsafe."""


class SchemaError(ModelError):
    """The file parses but does not follow the format: unknown key, wrong type, ..."""


class ModelReferenceError(ModelError):
    """A name does not resolve, or is defined twice."""


class ExpressionError(ModelError):
    """A CEL expression does not compile."""


class UnsupportedError(ModelError):
    """A construct autoflow rejects on purpose (for example SCXML ``<script>``)."""


class ModelErrors(AutoflowError):
    """Several model errors found in one load; rendered one after another."""

    def __init__(self, errors: Iterable[ModelError]) -> None:
        self.errors: Sequence[ModelError] = tuple(errors)
        super().__init__(f"{len(self.errors)} error(s)")

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)

    def render(self) -> str:
        return "\n\n".join(error.render() for error in self.errors)


class EvaluationError(AutoflowError):
    """A CEL expression failed at evaluation time (no such key, wrong types, ...).

    The engine turns this into an ``error.execution`` event; the instance keeps
    running.
    """


class SimulationError(AutoflowError):
    """The simulator could not run."""


class TraceError(SimulationError):
    """A trace file line is malformed; the message names the file, line and field."""

    def __init__(self, message: str, path: str, line: int, field: str | None = None) -> None:
        self.path = path
        self.line = line
        self.field = field
        where = f"{path}:{line}" if line > 0 else path
        text = f"{where}: {message}" if field is None else f"{where}: field {field!r}: {message}"
        super().__init__(text)


class ServiceError(AutoflowError):
    """The runtime service failed (storage, adapters, configuration)."""
