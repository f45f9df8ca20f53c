"""The Petri net IR: place/transition nets with arc weights and an initial marking.

Like the statechart IR (:mod:`autoflow.model.ir`) it is made of frozen
dataclasses with tuples; spans point into the user's file and take no part in
equality, so a net read from PNML, written back and read again compares equal.

Conventions:

* Node ids are unique across places and transitions (PNML requires it).
* An :class:`Arc` goes from a place to a transition or from a transition to a
  place; its ``weight`` is a positive integer.  Several arcs between the same
  two nodes add up (:meth:`Net.pre` / :meth:`Net.post` sum them).
* ``Place.initial`` is the place's number of tokens in the initial marking.
* A *workflow net* (van der Aalst) has exactly one source place (no incoming
  arcs), exactly one sink place (no outgoing arcs), and every node lies on a
  path from the source to the sink.  Its analysis starts with one token in the
  source and completes with one token in the sink.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from autoflow.model.span import NO_SPAN, Span


@dataclass(frozen=True)
class Place:
    """A place; ``initial`` is its token count in the initial marking."""

    id: str
    name: str | None = None
    initial: int = 0
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @property
    def label(self) -> str:
        """The name when there is one, else the id (what messages show)."""
        return self.name or self.id


@dataclass(frozen=True)
class NetTransition:
    """A Petri net transition (named so to stay apart from the statechart ``Transition``)."""

    id: str
    name: str | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @property
    def label(self) -> str:
        """The name when there is one, else the id."""
        return self.name or self.id


@dataclass(frozen=True)
class Arc:
    """A weighted arc between a place and a transition (either direction)."""

    source: str
    target: str
    weight: int = 1
    id: str | None = field(default=None, compare=False)
    """The arc's PNML id; like the span it takes no part in equality."""
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Net:
    """A place/transition net with its initial marking (carried by the places)."""

    id: str
    places: tuple[Place, ...] = ()
    transitions: tuple[NetTransition, ...] = ()
    arcs: tuple[Arc, ...] = ()
    name: str | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    # -- lookups (cached: the dataclass is frozen, so they never go stale) --------

    @cached_property
    def place_index(self) -> Mapping[str, int]:
        """Place id → its position in :attr:`places` (the column of a marking vector)."""
        return {place.id: index for index, place in enumerate(self.places)}

    @cached_property
    def transition_index(self) -> Mapping[str, int]:
        """Transition id → its position in :attr:`transitions`."""
        return {transition.id: index for index, transition in enumerate(self.transitions)}

    @cached_property
    def _flows(self) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
        pre: dict[str, dict[str, int]] = {t.id: {} for t in self.transitions}
        post: dict[str, dict[str, int]] = {t.id: {} for t in self.transitions}
        for arc in self.arcs:
            if arc.target in pre:  # place -> transition
                row = pre[arc.target]
                row[arc.source] = row.get(arc.source, 0) + arc.weight
            elif arc.source in post:  # transition -> place
                row = post[arc.source]
                row[arc.target] = row.get(arc.target, 0) + arc.weight
        return pre, post

    def pre(self, transition_id: str) -> Mapping[str, int]:
        """Tokens ``transition_id`` consumes, by place id."""
        return self._flows[0][transition_id]

    def post(self, transition_id: str) -> Mapping[str, int]:
        """Tokens ``transition_id`` produces, by place id."""
        return self._flows[1][transition_id]

    @property
    def initial_marking(self) -> dict[str, int]:
        """The initial marking as ``{place id: tokens}`` (marked places only)."""
        return {place.id: place.initial for place in self.places if place.initial}

    def with_initial_marking(self, marking: Mapping[str, int]) -> Net:
        """A copy of the net whose initial marking is ``marking`` (unlisted places: 0)."""
        unknown = set(marking) - set(self.place_index)
        if unknown:
            raise KeyError(f"unknown place(s): {', '.join(sorted(unknown))}")
        places = tuple(
            Place(place.id, place.name, marking.get(place.id, 0), place.span)
            for place in self.places
        )
        return Net(self.id, places, self.transitions, self.arcs, self.name, self.span)


# --------------------------------------------------------------------------- workflow nets


def _degrees(net: Net) -> tuple[dict[str, int], dict[str, int]]:
    incoming = {place.id: 0 for place in net.places}
    outgoing = {place.id: 0 for place in net.places}
    for arc in net.arcs:
        if arc.target in incoming:
            incoming[arc.target] += 1
        if arc.source in outgoing:
            outgoing[arc.source] += 1
    return incoming, outgoing


def source_place(net: Net) -> Place | None:
    """The single place without incoming arcs, or None if there are none or several."""
    incoming, _ = _degrees(net)
    sources = [place for place in net.places if incoming[place.id] == 0]
    return sources[0] if len(sources) == 1 else None


def sink_place(net: Net) -> Place | None:
    """The single place without outgoing arcs, or None if there are none or several."""
    _, outgoing = _degrees(net)
    sinks = [place for place in net.places if outgoing[place.id] == 0]
    return sinks[0] if len(sinks) == 1 else None


def is_workflow_net(net: Net) -> bool:
    """One source place, one sink place, every node on a path from source to sink."""
    source, sink = source_place(net), sink_place(net)
    if source is None or sink is None or source.id == sink.id:
        return False
    forward: dict[str, list[str]] = {}
    backward: dict[str, list[str]] = {}
    for arc in net.arcs:
        forward.setdefault(arc.source, []).append(arc.target)
        backward.setdefault(arc.target, []).append(arc.source)
    nodes = {place.id for place in net.places} | {t.id for t in net.transitions}
    return _reachable(source.id, forward) >= nodes and _reachable(sink.id, backward) >= nodes


def _reachable(start: str, edges: Mapping[str, list[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen
