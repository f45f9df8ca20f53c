"""``unused-data`` (warning): in a workflow that declares its triggers, data that no
expression reads (assigning it does not count)."""

from __future__ import annotations

from collections.abc import Iterator

from autoflow.check.diagnostics import Diagnostic, Severity
from autoflow.check.explore import StateSpace
from autoflow.model.ir import Chart, Data, Expr, Invoke, Send, walk_states

ID = "unused-data"
SEVERITY = Severity.WARNING
DESCRIPTION = "Data that nothing reads (workflows with triggers)."


def _read(value: object, names: set[str]) -> None:
    if isinstance(value, Expr):
        try:
            names.update(value.program.free_variables)
        except Exception:
            return
    elif isinstance(value, tuple):
        for item in value:
            _read(item, names)
    elif hasattr(value, "__dataclass_fields__"):
        if isinstance(value, Send | Invoke):
            names.update(value.namelist)
        for name in value.__dataclass_fields__:
            if name != "span":
                _read(getattr(value, name), names)


def check(model: Chart, space: StateSpace) -> Iterator[Diagnostic]:
    if not model.triggers:
        return
    read: set[str] = set()
    items: list[Data] = list(model.datamodel)
    for state in walk_states(model.states):
        items.extend(state.datamodel)
    _read(model.states, read)
    _read(model.triggers, read)
    _read(model.initial, read)
    for item in items:
        _read(item.expr, read)
    for item in items:
        if item.id not in read:
            yield Diagnostic(
                ID,
                SEVERITY,
                f"data {item.id!r} is never read by any expression",
                item.span,
                (),
            )
