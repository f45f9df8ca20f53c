"""What ``autoflow check`` finds: diagnostics, and the report of one model.

A :class:`Diagnostic` is a value: rule id, severity, message, where (a
:class:`~autoflow.model.span.Span`), the states involved, and the shortest
event trace from the initial configuration that reaches the problem, in the
trace-file line shape (``{"at": "+2d", "event": "..."}``) so that
``autoflow simulate`` can replay it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from autoflow.model.span import Span


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


@dataclass(frozen=True)
class TraceStep:
    """One step of a counterexample: ``at`` is an offset from the previous step
    (``+0s``, ``+2d``); ``event`` is None when only time passes (a timer fires)."""

    at: str
    event: str | None = None
    data: Any = None
    instance: str | None = None  # the running instance the event goes to (keyed workflows)

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"at": self.at, "event": self.event}
        if self.data is not None:
            result["data"] = self.data
        if self.instance is not None:
            result["instance"] = self.instance
        return result


@dataclass(frozen=True)
class Diagnostic:
    rule: str
    severity: Severity
    message: str
    span: Span
    states: tuple[str, ...] = ()
    trace: tuple[TraceStep, ...] = ()
    witness: dict[str, Any] | None = None
    reached: tuple[str, ...] = ()  # active atomic states at the end of the trace

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "location": {"path": self.span.path, "line": self.span.line, "column": self.span.col},
            "states": list(self.states),
            "trace": [step.to_json() for step in self.trace],
        }
        if self.witness is not None:
            result["witness"] = self.witness
        return result


@dataclass
class ModelReport:
    """The result of checking one model file."""

    path: str
    kind: str  # "statechart" | "petri-net"
    stats: dict[str, Any] = field(default_factory=dict)
    findings: list[Diagnostic] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "stats": self.stats,
            "findings": [finding.to_json() for finding in self.findings],
        }
