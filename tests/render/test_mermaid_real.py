"""Every Mermaid diagram autoflow writes is drawn by the real mermaid package.

The sources go through ``mermaid.render`` in headless Chromium (the way GitLab
draws Markdown), which also runs the layout where Mermaid's own bugs crash —
a string comparison could not catch those.
"""

from __future__ import annotations

import pytest
from charts import CHARTS
from conftest import MermaidHarness, data_models, example_models, load_model

from autoflow.model.ir import Chart
from autoflow.render import Coverage, build_graph, diff_graphs, highlight, mark_coverage, render
from autoflow.render.mermaid import to_mermaid

# The minimal reproduction of mermaid-js/mermaid#4052: an arrow into a compound
# state inside a parallel region.  Mermaid must still crash on it, or the
# workaround (and this harness) would be testing nothing.
CRASHING = """stateDiagram-v2
    state parent {
        state region1 {
            [*] --> a
            a
            state inner {
                [*] --> c
                c
            }
            a --> inner : go
        }
        --
        state region2 {
            [*] --> x
            x
        }
    }
    [*] --> parent
"""


def _diagrams() -> dict[str, str]:
    diagrams: dict[str, str] = {}
    models = {f"fixture-{name}": chart for name, chart in CHARTS.items()}
    for path in [*data_models(), *example_models()]:
        try:
            models[path.name] = load_model(path)
        except pytest.skip.Exception:
            continue
    for name, model in models.items():
        graph = build_graph(model)
        diagrams[name] = to_mermaid(graph)
        if isinstance(model, Chart):
            every = [node.id for node in graph.walk()]
            diagrams[f"{name} highlighted"] = to_mermaid(highlight(graph, every[-1:]))
            half = frozenset(edge.id for edge in graph.edges[::2])
            covered = frozenset(every[::2])
            diagrams[f"{name} coverage"] = to_mermaid(mark_coverage(graph, Coverage(covered, half)))
    rollout = build_graph(CHARTS["rollout"])
    diagrams["diff rollout vs awkward"] = to_mermaid(
        diff_graphs(build_graph(CHARTS["awkward"]), rollout)
    )
    diagrams["fenced"] = (
        str(render(rollout, "mermaid", fence=True)).split("\n", 1)[1].rsplit("```", 1)[0]
    )
    return diagrams


def test_every_diagram_renders_in_mermaid(mermaid: MermaidHarness) -> None:
    diagrams = _diagrams()
    results = mermaid.render({**diagrams, "control: #4052 reproduction": CRASHING})
    control = results.pop("control: #4052 reproduction")
    assert not control["ok"], "mermaid no longer crashes on #4052: the control is void"
    assert "rank" in control["error"]
    failures = {name: r["error"] for name, r in results.items() if not r["ok"]}
    assert failures == {}
    assert set(results) == set(diagrams)
    assert all(r["svgBytes"] > 1000 for r in results.values())


def test_harness_reports_syntax_errors(mermaid: MermaidHarness) -> None:
    results = mermaid.render({"broken": "stateDiagram-v2\n    a --> \n"})
    assert not results["broken"]["ok"]
    assert "Parse error" in results["broken"]["error"]
