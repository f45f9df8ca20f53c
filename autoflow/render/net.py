"""The diagram of a Petri net: places (circles, with their initial marking), transitions
(boxes) and weighted arcs."""

from __future__ import annotations

from autoflow.model.net import Net
from autoflow.render.graph import DiagramEdge, DiagramGraph, DiagramNode, NodeKind


def net_graph(net: Net) -> DiagramGraph:
    """Places and transitions in file order, one edge per arc (weight kept)."""
    nodes = [
        DiagramNode(id=place.id, kind=NodeKind.PLACE, label=place.label, tokens=place.initial)
        for place in net.places
    ]
    nodes += [
        DiagramNode(id=transition.id, kind=NodeKind.NET_TRANSITION, label=transition.label)
        for transition in net.transitions
    ]
    edges = tuple(
        DiagramEdge(
            id=arc.id or f"{arc.source}->{arc.target}",
            source=arc.source,
            target=arc.target,
            weight=arc.weight,
        )
        for arc in net.arcs
    )
    return DiagramGraph(name=net.name or net.id, nodes=tuple(nodes), edges=edges, kind="petri-net")
