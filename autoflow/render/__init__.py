"""Diagrams for reviews: one :class:`DiagramGraph`, one renderer per format.

>>> graph = build_graph(chart)                  # a Chart or a Petri Net
>>> graph = highlight(graph, ["review"])        # overlays return new graphs
>>> text = render(graph, "mermaid")             # or "dot"; "svg"/"png" give bytes

Formats: ``mermaid`` (``stateDiagram-v2``, or ``flowchart`` for Petri nets),
``dot`` (pydot), ``svg`` and ``png`` (Graphviz's ``dot`` program).  See
docs/render.md.
"""

from __future__ import annotations

from autoflow.render.diff import diff_graphs
from autoflow.render.graph import (
    Change,
    DiagramEdge,
    DiagramGraph,
    DiagramNode,
    NodeKind,
    build_graph,
)
from autoflow.render.overlays import (
    Coverage,
    OverlayError,
    TraceStep,
    highlight,
    mark_coverage,
    number_path,
    read_configuration,
    read_coverage,
    read_trace,
    trace_path,
)

FORMATS = ("mermaid", "dot", "svg", "png")

#: Output file extensions and the format each implies.
EXTENSIONS = {
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".md": "mermaid",
    ".dot": "dot",
    ".gv": "dot",
    ".svg": "svg",
    ".png": "png",
}

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "Change",
    "Coverage",
    "DiagramEdge",
    "DiagramGraph",
    "DiagramNode",
    "NodeKind",
    "OverlayError",
    "TraceStep",
    "build_graph",
    "diff_graphs",
    "highlight",
    "mark_coverage",
    "number_path",
    "read_configuration",
    "read_coverage",
    "read_trace",
    "render",
    "trace_path",
]


def render(graph: DiagramGraph, fmt: str, *, fence: bool = False) -> str | bytes:
    """The diagram in ``fmt``: text for mermaid and dot, bytes for svg and png."""
    if fmt == "mermaid":
        from autoflow.render.mermaid import fence as wrap
        from autoflow.render.mermaid import to_mermaid

        text = to_mermaid(graph)
        return wrap(text) if fence else text
    if fmt == "dot":
        from autoflow.render.dot import to_dot

        return to_dot(graph)
    if fmt in ("svg", "png"):
        from autoflow.render.dot import to_image

        return to_image(graph, fmt)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
