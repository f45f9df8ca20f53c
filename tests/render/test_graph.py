"""The diagram graph and the Mermaid workaround, checked on the IR fixtures."""

from __future__ import annotations

import re

from charts import ROLLOUT

from autoflow.render import TraceStep, build_graph, trace_path
from autoflow.render.graph import NodeKind
from autoflow.render.mermaid import _Ids, escape, to_mermaid


def test_labels_event_guard_effects_and_timers() -> None:
    graph = build_graph(ROLLOUT)
    labels = {edge.id: edge.label for edge in graph.edges}
    assert labels["build#0"] == "pipeline.success / gitlab.releases.create"
    assert labels["release#0"] == "after 1h"
    assert labels["pre-prod.soak#0"] == "after 1d"
    assert labels["steady#0"] == "anomaly [error_rate > 0.05 && traffic >= 100]"
    assert labels["canary#0"] == "after 1h / gitlab.deployments.update, send progress, notify, +1"
    nodes = graph.node_index()
    assert nodes["waiting"].details == ("comment / gitlab.notes.create",)
    assert nodes["release"].details == ("entry / notify",)
    assert nodes["paused-history"].kind is NodeKind.HISTORY_DEEP
    assert nodes["approvals"].region
    assert nodes["observing"].in_parallel


def test_no_mermaid_arrow_touches_a_compound_inside_a_parallel_region() -> None:
    graph = build_graph(ROLLOUT)
    ids = _Ids([node.id for node in graph.walk()])
    forbidden = {ids[n.id] for n in graph.walk() if n.is_container and n.in_parallel}
    assert forbidden == {"pre_prod_soak", "observing", "approvals"}
    text = to_mermaid(graph)
    for line in text.splitlines():
        match = re.match(r"\s*(\S+) --> (\S+)", line)
        if match:
            assert not {match.group(1), match.group(2)} & forbidden, line
    # the arrow into `observing` enters its initial child; the one out of it says so
    assert "warming --> steady : metrics.ready" in text
    assert "steady --> steady : (from observing) reset" in text


def test_ids_are_sanitised_and_unique() -> None:
    ids = _Ids(["a.b", "a-b", "end", "1x", "a:b"])
    assert [ids[i] for i in ["a.b", "a-b", "end", "1x", "a:b"]] == [
        "a_b",
        "a_b_2",
        "end_",
        "s_1x",
        "a_b_3",
    ]
    assert escape('a "b"; #c <d>\n e') == "a #quot;b#quot;#59; #35;c #lt;d#gt; e"


def test_trace_path_from_configurations_picks_the_guard_that_held() -> None:
    steps = [
        TraceStep("pipeline.success", ("release",)),
        TraceStep(None, ("approvals", "waiting", "warming")),
        TraceStep("approve", ("approved", "warming")),
    ]
    assert trace_path(ROLLOUT, steps) == ["build#0", "release#0", "waiting#0"]
