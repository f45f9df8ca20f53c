"""Evaluations per second of autoflow's CEL, compared with cel-python (celpy) when installed.

Run: ``.venv/bin/python benchmarks/cel_bench.py``.  Prints one line per
expression: autoflow's rate, and celpy's rate on the same expression.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from autoflow.model.cel import compile_expression
from autoflow.model.span import Span

CASES: list[tuple[str, dict[str, Any]]] = [
    ('a > 3 && b in ["x", "y"]', {"a": 5, "b": "y"}),
    (
        "event.object_attributes.state == 'closed'",
        {"event": {"object_attributes": {"state": "closed"}}},
    ),
    ("size(items) > 2 && items.all(i, i > 0)", {"items": [1, 2, 3, 4]}),
    ('"Retro " + string(m.title)', {"m": {"title": "week 12"}}),
]


def rate(function: Callable[[], Any], seconds: float = 1.0) -> float:
    """Calls per second of ``function``, measured over about ``seconds``."""
    count = 0
    batch = 1000
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            function()
        count += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def celpy_rate(source: str, activation: dict[str, Any]) -> float | None:
    try:
        import celpy  # type: ignore[import-untyped]
        from celpy import json_to_cel
    except ImportError:
        return None
    environment = celpy.Environment()
    program = environment.program(environment.compile(source))
    cel_activation = {name: json_to_cel(value) for name, value in activation.items()}
    return rate(lambda: program.evaluate(cel_activation), seconds=0.5)


def main() -> None:
    for source, activation in CASES:
        program = compile_expression(source, Span("<bench>"))
        ours = rate(lambda p=program, a=activation: p.evaluate(a))
        theirs = celpy_rate(source, activation)
        other = f"celpy {theirs:>10,.0f}/s" if theirs is not None else "celpy n/a"
        print(f"{ours:>12,.0f}/s  {other}  {source}")


if __name__ == "__main__":
    main()
