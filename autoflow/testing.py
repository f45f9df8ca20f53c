"""Hypothesis strategies for property tests of your own workflows.

Needs `hypothesis <https://hypothesis.readthedocs.io>`_ (a test dependency:
``pip install hypothesis``); the rest of autoflow does not import it::

    from hypothesis import given, settings
    from autoflow.model.io import load
    from autoflow.sim.simulator import simulate_trace
    from autoflow.testing import traces

    chart = load("models/retro-bot.yaml")

    @settings(max_examples=50, deadline=None)
    @given(traces(chart))
    def test_the_retro_always_ends_in_done_or_failed(trace):
        result = simulate_trace(chart, trace, until="+30d")
        for step in result.steps:
            if step.completed:
                assert step.configuration in (("done",), ("failed",))

* :func:`events` draws single events the workflow reacts to (:class:`autoflow.sim.engine.Event`),
  with payloads from the guard reasoning (every guard branch) and real
  webhook bodies for GitLab events.
* :func:`traces` draws whole traces (:class:`autoflow.sim.trace.Trace`, ready
  for :func:`~autoflow.sim.simulator.simulate_trace`): walks over the explored
  state space with realistic gaps between events, shrinking towards shorter
  walks.  With ``expectations=True`` each trace also expects what the model
  does at each step (run it against a changed workflow to find differences).

The state space of a chart is explored once per chart and cached.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "autoflow.testing needs hypothesis: pip install hypothesis (a test dependency)"
    ) from exc

from autoflow.model.durations import parse_duration
from autoflow.model.ir import Chart
from autoflow.sim import engine
from autoflow.sim.generate import MAX_WALK_EVENTS, walker_for, webhook_payload
from autoflow.sim.trace import Trace, parse_trace

__all__ = ["events", "traces"]


class _DrawChooser:
    """Walk choices drawn from hypothesis (so failures shrink to short, simple walks)."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw

    def index(self, n: int) -> int:
        return int(self.draw(st.integers(0, n - 1))) if n > 1 else 0

    def weighted(self, weights: Any) -> int:
        return self.index(len(weights))

    def delay(self, low: float, high: float) -> float:
        if high <= low:
            return max(0.0, high)
        return float(self.draw(st.integers(int(low), int(high))))

    def stop(self) -> bool:
        return bool(self.draw(st.booleans()))


def events(chart: Chart) -> st.SearchStrategy[engine.Event]:
    """Events ``chart`` reacts to somewhere, with payloads that exercise its guards."""
    walker = walker_for(chart)
    seen: dict[str, engine.Event] = {}
    for node in walker.space.nodes:
        for _, step in walker.space.successors.get(node.index, []):
            if step.kind in ("event", "start") and step.event is not None:
                data = webhook_payload(step.event, step.data)
                key = step.event + json.dumps(data, sort_keys=True, default=str)
                seen.setdefault(key, engine.Event(step.event, data))
        if node.step is not None and node.step.kind == "start" and node.step.event is not None:
            data = webhook_payload(node.step.event, node.step.data)
            key = node.step.event + json.dumps(data, sort_keys=True, default=str)
            seen.setdefault(key, engine.Event(node.step.event, data))
    if not seen:
        return st.nothing()
    return st.sampled_from([seen[key] for key in sorted(seen)])


def traces(
    chart: Chart,
    *,
    max_events: int = 20,
    horizon: str = "30d",
    expectations: bool = False,
) -> st.SearchStrategy[Trace]:
    """Traces of ``chart``: walks of at most ``max_events`` events within ``horizon``."""
    walker = walker_for(chart)
    span = timedelta(seconds=parse_duration(horizon))
    limit = max(1, min(max_events, MAX_WALK_EVENTS * 10))

    @st.composite
    def draw_trace(draw: Any) -> Trace:
        replay = walker.walk(_DrawChooser(draw), horizon=span, max_events=limit)
        generated = walker.realise(
            "hypothesis", replay, "drawn by autoflow.testing.traces", expectations=expectations
        )
        text = "" if generated is None else generated.text()
        return parse_trace(text, walker.trace_path("hypothesis"))

    return draw_trace()
