"""Mermaid ``stateDiagram-v2`` (and ``flowchart`` for Petri nets) that GitLab renders.

Conservative syntax only: ``state "label" as id`` for anything whose label is
not a plain identifier, ids reduced to letters, digits and underscores, every
label character that Mermaid's grammar or its HTML sanitiser could take for
syntax written as a Mermaid entity code (``#quot;``, ``#59;``, …).

Each transition is written inside the innermost compound state that contains
both of its ends (never between the ``--`` separated regions of a parallel
state), after every state it names has been declared, so Mermaid never creates a
stray state in the wrong scope.

The parallel-region workaround
    Mermaid's layout crashes (``Cannot set properties of undefined (setting
    'rank')``, mermaid-js/mermaid#4052) when an arrow starts or ends at a
    *compound* state that sits inside a parallel region — and ``[*] --> X``
    counts.  For such a state only, the arrow is redrawn to the state's initial
    atomic descendant (following initial transitions down): an arrow *into* the
    compound enters exactly there, so the picture stays true; an arrow *out of*
    it is drawn from that child and its label is prefixed ``(from X)`` so the
    reader knows it leaves the whole compound.  The DOT renderer has no such
    limitation and draws the arrow to the compound's border.
"""

from __future__ import annotations

import re

from autoflow.render.graph import (
    Change,
    DiagramEdge,
    DiagramGraph,
    DiagramNode,
    NodeKind,
    ancestors,
)

INDENT = "    "

#: Words Mermaid's state-diagram grammar treats as keywords; never used as ids.
RESERVED = frozenset(
    {
        "state",
        "note",
        "end",
        "direction",
        "class",
        "classdef",
        "style",
        "as",
        "left",
        "right",
        "of",
        "hide",
        "scale",
        "acctitle",
        "accdescr",
        "click",
        "default",
        "graph",
        "subgraph",
        "flowchart",
    }
)

#: Styles of the overlays (``class`` names used in the output).
CLASS_DEFS: dict[str, str] = {
    "active": "fill:#ffe082,stroke:#e65100,stroke-width:3px",
    "uncovered": "stroke:#c62828,stroke-width:2px,stroke-dasharray:5 5",
    "added": "fill:#c8e6c9,stroke:#2e7d32,stroke-width:2px",
    "removed": "fill:#ffcdd2,stroke:#c62828,stroke-width:2px,stroke-dasharray:5 5",
    "changed": "fill:#ffe0b2,stroke:#ef6c00,stroke-width:2px",
}

CHANGE_MARK = {Change.ADDED: "+ ", Change.REMOVED: "− ", Change.CHANGED: "~ "}

_ENTITIES = {
    "#": "#35;",
    '"': "#quot;",
    ";": "#59;",
    "<": "#lt;",
    ">": "#gt;",
    "%": "#37;",
    "{": "#123;",
    "}": "#125;",
    "`": "#96;",
    "\\": "#92;",
}


def escape(text: str) -> str:
    """A label safe inside Mermaid quotes or after ``:`` (one line, entity codes)."""
    flat = " ".join(text.split())
    return "".join(_ENTITIES.get(char, char) for char in flat)


def fence(text: str) -> str:
    """``text`` in a ```mermaid code block, ready to paste into a merge request."""
    return f"```mermaid\n{text.rstrip()}\n```\n"


class _Ids:
    """Mermaid-safe ids for model ids: ``deploy-prod.v2`` → ``deploy_prod_v2``, unique."""

    def __init__(self, ids: list[str]) -> None:
        self.by_id: dict[str, str] = {}
        taken: set[str] = set()
        for original in ids:
            base = re.sub(r"\W", "_", original, flags=re.ASCII) or "s"
            if base[0].isdigit():
                base = "s_" + base
            if base.lower() in RESERVED:
                base += "_"
            candidate, counter = base, 2
            while candidate.lower() in taken:
                candidate = f"{base}_{counter}"
                counter += 1
            taken.add(candidate.lower())
            self.by_id[original] = candidate

    def __getitem__(self, original: str) -> str:
        return self.by_id[original]


def to_mermaid(graph: DiagramGraph) -> str:
    """The Mermaid source of a diagram (statechart or Petri net)."""
    if graph.kind == "petri-net":
        return _net_to_mermaid(graph)
    return _StateDiagram(graph).render()


class _StateDiagram:
    def __init__(self, graph: DiagramGraph) -> None:
        self.graph = graph
        self.nodes = graph.node_index()
        self.parent = graph.parents()
        self.ids = _Ids([node.id for node in graph.walk()])
        self.classes: dict[str, list[str]] = {}
        # edges grouped by the compound state (None: top level) they are written in
        self.scoped: dict[str | None, list[DiagramEdge]] = {}
        for edge in graph.edges:
            if edge.source in self.nodes and edge.target in self.nodes:
                self.scoped.setdefault(self._scope(edge.source, edge.target), []).append(edge)

    # ------------------------------------------------------------------ structure

    def _scope(self, source: str, target: str) -> str | None:
        """The innermost compound (not parallel) state that is a proper ancestor of both."""
        target_ancestors = set(ancestors(self.parent, target))
        for ancestor in ancestors(self.parent, source):
            if ancestor in target_ancestors and self.nodes[ancestor].kind is NodeKind.COMPOUND:
                return ancestor
        return None

    def _needs_workaround(self, node_id: str) -> bool:
        node = self.nodes.get(node_id)
        return node is not None and node.is_container and node.in_parallel

    def _entry_point(self, node_id: str) -> str:
        """The atomic state an arrow into ``node_id`` really enters (initial chain)."""
        seen = set()
        current = node_id
        while current not in seen:
            seen.add(current)
            node = self.nodes[current]
            if not node.is_container:
                break
            if node.kind is NodeKind.COMPOUND and node.initial and node.initial[0] in self.nodes:
                current = node.initial[0]
            else:
                current = node.children[0].id
        return current

    def _endpoint(self, node_id: str) -> str:
        if self._needs_workaround(node_id):
            return self.ids[self._entry_point(node_id)]
        return self.ids[node_id]

    # ------------------------------------------------------------------ output

    def render(self) -> str:
        lines = ["stateDiagram-v2"]
        if self.graph.initial:
            for target in self.graph.initial:
                if target in self.nodes:
                    lines.append(f"{INDENT}[*] --> {self._endpoint(target)}")
        for node in self.graph.nodes:
            self._node(node, lines, 1)
        self._edges(None, lines, 1)
        self._finals(self.graph.nodes, lines, 1)
        if self.classes:
            for name, members in self.classes.items():
                lines.append(f"{INDENT}classDef {name} {CLASS_DEFS[name]}")
                lines.append(f"{INDENT}class {','.join(members)} {name}")
        return "\n".join(lines) + "\n"

    def _mark(self, node: DiagramNode) -> None:
        mid = self.ids[node.id]
        if node.change is not None:
            self.classes.setdefault(node.change.value, []).append(mid)
        if node.active:
            self.classes.setdefault("active", []).append(mid)
        elif node.uncovered:
            self.classes.setdefault("uncovered", []).append(mid)

    def _node(self, node: DiagramNode, lines: list[str], depth: int) -> None:
        pad = INDENT * depth
        mid = self.ids[node.id]
        self._mark(node)
        if node.kind in (NodeKind.HISTORY_SHALLOW, NodeKind.HISTORY_DEEP):
            symbol = "H*" if node.kind is NodeKind.HISTORY_DEEP else "H"
            lines.append(f'{pad}state "{symbol}" as {mid}')
            return
        if not node.is_container:
            if node.label != mid:
                lines.append(f'{pad}state "{escape(node.label)}" as {mid}')
            else:
                lines.append(f"{pad}{mid}")
            for detail in node.details:
                lines.append(f"{pad}{mid} : {escape(detail)}")
            return
        header = f'state "{escape(node.label)}" as {mid}' if node.label != mid else f"state {mid}"
        lines.append(f"{pad}{header} {{")
        if node.kind is NodeKind.PARALLEL:
            for index, child in enumerate(node.children):
                if index:
                    lines.append(f"{pad}{INDENT}--")
                self._node(child, lines, depth + 1)
        else:
            for target in node.initial:
                if target in self.nodes:
                    lines.append(f"{pad}{INDENT}[*] --> {self._endpoint(target)}")
            for child in node.children:
                self._node(child, lines, depth + 1)
            self._edges(node.id, lines, depth + 1)
            self._finals(node.children, lines, depth + 1)
        lines.append(f"{pad}}}")
        if node.details and not node.in_parallel:
            lines.append(f"{pad}note right of {mid}")
            for detail in node.details:
                lines.append(f"{pad}{INDENT}{escape(detail)}")
            lines.append(f"{pad}end note")

    def _finals(self, nodes: tuple[DiagramNode, ...], lines: list[str], depth: int) -> None:
        for node in nodes:
            if node.kind is NodeKind.FINAL:
                lines.append(f"{INDENT * depth}{self.ids[node.id]} --> [*]")

    def _edges(self, scope: str | None, lines: list[str], depth: int) -> None:
        pad = INDENT * depth
        for edge in self.scoped.get(scope, []):
            source = self._endpoint(edge.source)
            target = self._endpoint(edge.target)
            label = edge.label
            if self._needs_workaround(edge.source):
                label = f"(from {edge.source}) {label}".rstrip()
            label = _decorate(edge, label)
            if label:
                lines.append(f"{pad}{source} --> {target} : {escape(label)}")
            else:
                lines.append(f"{pad}{source} --> {target}")


def _decorate(edge: DiagramEdge, label: str) -> str:
    """Overlay marks in front of a label (Mermaid state diagrams cannot style arrows)."""
    prefix = ""
    if edge.change is not None:
        prefix += CHANGE_MARK[edge.change]
    if edge.steps:
        prefix += "(" + ",".join(str(step) for step in edge.steps) + ") "
    if edge.uncovered:
        prefix += "✗ "
    return (prefix + label).strip()


# --------------------------------------------------------------------------- Petri nets


def _net_to_mermaid(graph: DiagramGraph) -> str:
    """A Petri net as a Mermaid flowchart: places as circles, transitions as boxes."""
    ids = _Ids([node.id for node in graph.walk()])
    lines = ["flowchart LR"]
    for node in graph.walk():
        mid = ids[node.id]
        if node.kind is NodeKind.PLACE:
            marking = f" {'●' * node.tokens}" if 0 < node.tokens <= 3 else ""
            if node.tokens > 3:
                marking = f" ●×{node.tokens}"
            lines.append(f'{INDENT}{mid}(("{escape(node.label + marking)}"))')
        else:
            lines.append(f'{INDENT}{mid}["{escape(node.label)}"]')
    for edge in graph.edges:
        source, target = ids[edge.source], ids[edge.target]
        if edge.weight != 1:
            lines.append(f'{INDENT}{source} -->|"{edge.weight}"| {target}')
        else:
            lines.append(f"{INDENT}{source} --> {target}")
    return "\n".join(lines) + "\n"
