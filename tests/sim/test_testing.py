"""autoflow.testing: hypothesis strategies over every example workflow."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autoflow.model.io import load
from autoflow.model.ir import Chart
from autoflow.sim import engine
from autoflow.sim.simulator import simulate_trace
from autoflow.sim.trace import EventLine, Trace
from autoflow.testing import events, traces

ROOT = Path(__file__).resolve().parents[2]
MODELS = [
    m for m in sorted((ROOT / "models").glob("*.yaml")) if (ROOT / "traces" / m.stem).is_dir()
]
CHARTS: dict[str, Chart] = {}


def chart(path: Path) -> Chart:
    if path.stem not in CHARTS:
        loaded = load(str(path))
        assert isinstance(loaded, Chart)
        CHARTS[path.stem] = loaded
    return CHARTS[path.stem]


@pytest.mark.parametrize("model", MODELS, ids=[m.stem for m in MODELS])
def test_random_traces_never_crash_the_engine(model: Path) -> None:
    workflow = chart(model)

    @settings(
        max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
    )
    @given(traces(workflow, max_events=12))
    def run(trace: Trace) -> None:
        assert isinstance(trace, Trace)
        result = simulate_trace(workflow, trace, until="+30d")
        assert result.failed == 0
        for step in result.steps:
            assert set(step.configuration) <= set(workflow.index.states)

    run()


def test_traces_with_expectations_hold_on_their_own_model() -> None:
    workflow = chart(ROOT / "models" / "retro-bot.yaml")

    @settings(max_examples=10, deadline=None, database=None)
    @given(traces(workflow, expectations=True))
    def run(trace: Trace) -> None:
        result = simulate_trace(workflow, trace)
        assert result.failed == 0
        assert result.passed >= sum(1 for line in trace.lines if isinstance(line, EventLine))

    run()


def test_events_are_events_the_workflow_takes() -> None:
    from autoflow.model.events import descriptor_matches
    from autoflow.model.ir import walk_states

    workflow = chart(ROOT / "models" / "access-request.yaml")
    descriptors = [d for t in workflow.triggers for d in t.events] + [
        d for s in walk_states(workflow.states) for t in s.transitions for d in t.events
    ]
    names: set[str] = set()

    @settings(max_examples=40, deadline=None, database=None)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        event = data.draw(events(workflow))
        assert isinstance(event, engine.Event)
        assert any(descriptor_matches(d, event.name) for d in descriptors)
        names.add(event.name)
        if event.name.startswith("gitlab."):
            assert isinstance(event.data, dict)
            assert event.data["object_kind"] == event.name.split(".")[1]  # a real webhook body
            assert "repository" in event.data  # the rest of the real payload is there

    run()
    assert len(names) >= 2
