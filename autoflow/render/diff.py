"""``--diff``: one diagram of two versions of a workflow, the change in colour.

States are matched by id.  A state only in the new version is *added*, only in
the old one *removed* (drawn where it was, under its old parent when that still
exists), and *changed* when its kind, parent or details (entry/exit effects,
invocations, targetless transitions) differ.

Transitions are matched by source, target and event: the same triple with the
same guard and effects is unchanged, with another guard or other effects
*changed* (the new label is shown), and otherwise *added* or *removed*.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from autoflow.render.graph import Change, DiagramEdge, DiagramGraph, DiagramNode


def diff_graphs(old: DiagramGraph, new: DiagramGraph) -> DiagramGraph:
    """The new graph with every difference from ``old`` marked (removed parts merged in)."""
    old_nodes, new_nodes = old.node_index(), new.node_index()
    old_parents, new_parents = old.parents(), new.parents()

    def node_change(node: DiagramNode) -> DiagramNode:
        before = old_nodes.get(node.id)
        if before is None:
            return replace(node, change=Change.ADDED)
        if (
            before.kind != node.kind
            or before.details != node.details
            or before.initial != node.initial
            or old_parents.get(node.id) != new_parents.get(node.id)
        ):
            return replace(node, change=Change.CHANGED)
        return node

    merged = new.map_nodes(node_change)

    # removed states, re-attached under their old parent when it still exists
    removed_by_parent: dict[str | None, list[DiagramNode]] = defaultdict(list)
    for node in old.walk():
        if node.id in new_nodes:
            continue
        parent = old_parents.get(node.id)
        if parent is not None and parent not in new_nodes:
            continue  # drawn inside its removed parent
        removed_by_parent[parent].append(_mark_removed(node, new_nodes))

    def attach(node: DiagramNode) -> DiagramNode:
        extra = removed_by_parent.get(node.id)
        if extra and node.is_container:
            return replace(node, children=node.children + tuple(extra))
        return node

    merged = merged.map_nodes(attach)
    orphans = [
        removed
        for parent, nodes in removed_by_parent.items()
        for removed in nodes
        if parent is not None and not new_nodes[parent].is_container
    ]
    top = merged.nodes + tuple(removed_by_parent.get(None, [])) + tuple(orphans)
    merged = replace(merged, nodes=top)

    return replace(merged, edges=_diff_edges(old.edges, new.edges))


def _mark_removed(node: DiagramNode, keep: dict[str, DiagramNode]) -> DiagramNode:
    children = tuple(_mark_removed(child, keep) for child in node.children if child.id not in keep)
    return replace(node, change=Change.REMOVED, children=children, active=False)


def _diff_edges(
    old: tuple[DiagramEdge, ...], new: tuple[DiagramEdge, ...]
) -> tuple[DiagramEdge, ...]:
    def exact(edge: DiagramEdge) -> tuple[str, str, str, str, tuple[str, ...]]:
        return (edge.source, edge.target, edge.event, edge.guard, edge.effects)

    def loose(edge: DiagramEdge) -> tuple[str, str, str]:
        return (edge.source, edge.target, edge.event)

    unmatched_old = list(old)
    result: list[DiagramEdge] = []
    pending: list[DiagramEdge] = []
    for edge in new:
        match = next((o for o in unmatched_old if exact(o) == exact(edge)), None)
        if match is not None:
            unmatched_old.remove(match)
            result.append(edge)
        else:
            pending.append(edge)
    for edge in pending:
        match = next((o for o in unmatched_old if loose(o) == loose(edge)), None)
        if match is not None:
            unmatched_old.remove(match)
            result.append(replace(edge, change=Change.CHANGED))
        else:
            result.append(replace(edge, change=Change.ADDED))
    result.extend(replace(edge, change=Change.REMOVED) for edge in unmatched_old)
    return tuple(result)
