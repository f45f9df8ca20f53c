"""Graphviz DOT through pydot, and SVG/PNG through Graphviz's ``dot`` program.

Compound states are clusters with rounded borders, parallel states bold ones
whose regions are dashed clusters.  An arrow to or from a compound state ends at
its border: it is drawn to an invisible anchor inside the cluster and clipped
there (``compound=true`` with ``lhead``/``ltail``).  Node names in the DOT text
are generated (``n0``, ``n1``, …), so no model id can be mistaken for DOT syntax
(``a:b`` would be a port); the model ids appear as labels.
"""

from __future__ import annotations

import shutil
from typing import Any

import pydot

from autoflow.errors import AutoflowError
from autoflow.render.graph import (
    Change,
    DiagramEdge,
    DiagramGraph,
    DiagramNode,
    NodeKind,
    ancestors,
)

FONT = "Helvetica"
COLORS = {
    Change.ADDED: "#2e7d32",
    Change.REMOVED: "#c62828",
    Change.CHANGED: "#ef6c00",
}
FILLS = {
    Change.ADDED: "#c8e6c9",
    Change.REMOVED: "#ffcdd2",
    Change.CHANGED: "#ffe0b2",
}
ACTIVE_FILL = "#ffe082"
ACTIVE_BORDER = "#e65100"
TRACE_COLOR = "#1565c0"
UNCOVERED_COLOR = "#c62828"

INSTALL_HINT = (
    "SVG and PNG need Graphviz's `dot` program, which is not on PATH.\n"
    "Install Graphviz:  apt-get install graphviz  (Debian/Ubuntu),  brew install graphviz  "
    "(macOS),  dnf install graphviz  (Fedora),  or see https://graphviz.org/download/\n"
    "Mermaid (--format mermaid) and DOT (--format dot) need nothing else."
)


class GraphvizMissingError(AutoflowError):
    """SVG/PNG were asked for but Graphviz's ``dot`` program is not installed."""

    def __init__(self) -> None:
        super().__init__(INSTALL_HINT)


class GraphvizFailedError(AutoflowError):
    """Graphviz's ``dot`` ran but failed."""


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _quote(text: str) -> str:
    """A DOT string literal (pydot would leave some labels unquoted)."""
    return f'"{_escape(text)}"'


def _lines_label(title: str, details: tuple[str, ...]) -> str:
    """A title line, then left-aligned detail lines (DOT's ``\\l`` line ends)."""
    if not details:
        return _quote(title)
    body = "".join(_escape(line) + "\\l" for line in details)
    return f'"{_escape(title)}\\l{body}"'


class _DotBuilder:
    def __init__(self, graph: DiagramGraph) -> None:
        self.graph = graph
        self.nodes = graph.node_index()
        self.parent = graph.parents()
        self.names = {node.id: f"n{index}" for index, node in enumerate(graph.walk())}

    def build(self) -> pydot.Dot:
        dot = pydot.Dot(
            _quote(self.graph.name),
            graph_type="digraph",
            compound="true",
            rankdir="LR",
            fontname=FONT,
            newrank="true",
        )
        dot.set_node_defaults(fontname=FONT, fontsize="11")
        dot.set_edge_defaults(fontname=FONT, fontsize="10")
        if self.graph.kind == "petri-net":
            self._net(dot)
            return dot
        if self.graph.initial:
            self._initial_marker(dot, "top", self.graph.initial)
        for node in self.graph.nodes:
            self._node(dot, node)
        for edge in self.graph.edges:
            if edge.source in self.nodes and edge.target in self.nodes:
                dot.add_edge(self._edge(edge))
        return dot

    # ------------------------------------------------------------------ nodes

    def _initial_marker(self, container: Any, key: str, targets: tuple[str, ...]) -> None:
        marker = f"init_{key}"
        container.add_node(
            pydot.Node(marker, shape="point", width="0.15", label='""', color="black")
        )
        for target in targets:
            if target in self.nodes:
                attrs = self._endpoint_attrs(None, target)
                container.add_edge(pydot.Edge(marker, attrs.pop("dst"), **attrs))

    def _endpoint_attrs(self, source: str | None, target: str) -> dict[str, Any]:
        """dst (and lhead) of an arrow into ``target``, anchored at a cluster's border."""
        attrs: dict[str, Any] = {}
        target_node = self.nodes[target]
        if target_node.is_container:
            attrs["dst"] = self._anchor(target)
            if source is None or target not in ancestors(self.parent, source):
                attrs["lhead"] = self._cluster(target)
        else:
            attrs["dst"] = self.names[target]
        return attrs

    def _anchor(self, node_id: str) -> str:
        return f"{self.names[node_id]}_anchor"

    def _cluster(self, node_id: str) -> str:
        return f"cluster_{self.names[node_id]}"

    def _node(self, container: Any, node: DiagramNode) -> None:
        name = self.names[node.id]
        if node.is_container:
            self._cluster_of(container, node)
            return
        attrs: dict[str, Any] = {"label": _quote(node.label)}
        if node.kind in (NodeKind.HISTORY_SHALLOW, NodeKind.HISTORY_DEEP):
            attrs.update(shape="circle", width="0.3", fixedsize="true")
            attrs["label"] = _quote("H*" if node.kind is NodeKind.HISTORY_DEEP else "H")
        elif node.kind is NodeKind.FINAL:  # a double border: compact even for long ids
            attrs.update(shape="box", peripheries="2")
            attrs["label"] = _lines_label(node.label, node.details)
        else:
            attrs.update(shape="box", style='"rounded"')
            attrs["label"] = _lines_label(node.label, node.details)
        styles = ["rounded"] if attrs.get("shape") == "box" else []
        if node.active:
            styles += ["filled", "bold"]
            attrs.update(fillcolor=ACTIVE_FILL, color=ACTIVE_BORDER, penwidth="2")
        elif node.change is not None:
            styles += ["filled"]
            attrs.update(fillcolor=FILLS[node.change], color=COLORS[node.change])
            if node.change is Change.REMOVED:
                styles.append("dashed")
        elif node.uncovered:
            styles.append("dashed")
            attrs.update(color=UNCOVERED_COLOR)
        if styles:
            attrs["style"] = _quote(",".join(styles))
        container.add_node(pydot.Node(name, **attrs))

    def _cluster_of(self, container: Any, node: DiagramNode) -> None:
        name = self.names[node.id]
        label = node.label + ("  ‖ parallel" if node.kind is NodeKind.PARALLEL else "")
        styles = ["rounded"]
        if node.kind is NodeKind.PARALLEL:
            styles.append("bold")
        if node.region:
            styles.append("dashed")
        attrs: dict[str, Any] = {
            "label": _lines_label(label, node.details),
            "labeljust": "l",
            "fontname": FONT,
        }
        if node.active:
            styles += ["filled", "bold"]
            attrs.update(fillcolor="#fff8e1", color=ACTIVE_BORDER, penwidth="2")
        elif node.change is not None:
            styles.append("filled")
            attrs.update(fillcolor=FILLS[node.change], color=COLORS[node.change], penwidth="2")
        elif node.uncovered:
            attrs.update(color=UNCOVERED_COLOR)
            if "dashed" not in styles:
                styles.append("dashed")
        attrs["style"] = _quote(",".join(styles))
        cluster = pydot.Cluster(name, **attrs)
        cluster.add_node(
            pydot.Node(
                self._anchor(node.id), shape="point", style="invis", width="0.01", label='""'
            )
        )
        if node.kind is NodeKind.COMPOUND and node.initial:
            self._initial_marker(cluster, name, node.initial)
        for child in node.children:
            self._node(cluster, child)
        container.add_subgraph(cluster)

    # ------------------------------------------------------------------ edges

    def _edge(self, edge: DiagramEdge) -> pydot.Edge:
        source_node = self.nodes[edge.source]
        attrs = self._endpoint_attrs(edge.source, edge.target)
        if source_node.is_container:
            src = self._anchor(edge.source)
            if edge.source not in ancestors(self.parent, edge.target):
                attrs["ltail"] = self._cluster(edge.source)
        else:
            src = self.names[edge.source]
        dst = attrs.pop("dst")
        label = edge.label
        if edge.steps:
            label = "(" + ",".join(str(step) for step in edge.steps) + ") " + label
        if label:
            attrs["label"] = _quote(label)
        attrs["tooltip"] = _quote(edge.id)  # the transition id, shown on hover in SVG
        styles: list[str] = []
        if edge.internal:
            styles.append("dotted")
        if edge.change is not None:
            attrs.update(color=COLORS[edge.change], fontcolor=COLORS[edge.change], penwidth="2")
            if edge.change is Change.REMOVED:
                styles.append("dashed")
        elif edge.uncovered:
            attrs.update(color=UNCOVERED_COLOR, fontcolor=UNCOVERED_COLOR)
            styles.append("dashed")
        elif edge.steps:
            attrs.update(color=TRACE_COLOR, fontcolor=TRACE_COLOR, penwidth="2.5")
        if styles:
            attrs["style"] = _quote(",".join(styles))
        return pydot.Edge(src, dst, **attrs)

    # ------------------------------------------------------------------ Petri nets

    def _net(self, dot: pydot.Dot) -> None:
        for node in self.graph.walk():
            name = self.names[node.id]
            if node.kind is NodeKind.PLACE:
                label = node.label
                if node.tokens:
                    marks = "●" * node.tokens if node.tokens <= 3 else f"●×{node.tokens}"
                    label += "\n" + marks
                dot.add_node(pydot.Node(name, shape="circle", label=_quote(label)))
            else:
                dot.add_node(
                    pydot.Node(
                        name,
                        shape="box",
                        style="filled",
                        fillcolor="#eeeeee",
                        label=_quote(node.label),
                    )
                )
        for edge in self.graph.edges:
            attrs: dict[str, Any] = {}
            if edge.weight != 1:
                attrs["label"] = _quote(str(edge.weight))
            dot.add_edge(pydot.Edge(self.names[edge.source], self.names[edge.target], **attrs))


def to_pydot(graph: DiagramGraph) -> pydot.Dot:
    """The diagram as a pydot graph (for callers that want to adjust it)."""
    return _DotBuilder(graph).build()


def to_dot(graph: DiagramGraph) -> str:
    """The DOT source of a diagram."""
    text: str = to_pydot(graph).to_string()
    return text


def to_image(graph: DiagramGraph, image_format: str) -> bytes:
    """``svg`` or ``png`` bytes drawn by Graphviz's ``dot``; needs Graphviz installed."""
    program = shutil.which("dot")
    if program is None:
        raise GraphvizMissingError()
    try:
        data: Any = to_pydot(graph).create(prog=program, format=image_format)
    except Exception as exc:  # pydot raises bare exceptions with dot's stderr
        raise GraphvizFailedError(f"Graphviz's dot failed: {exc}") from exc
    return data if isinstance(data, bytes) else str(data).encode("utf-8")
