"""Petri net analysis: state spaces, boundedness, coverability and workflow-net soundness.

Three public entry points, each a plain function of a :class:`~autoflow.model.net.Net`:

* :func:`explore` builds the reachability graph breadth first and returns a
  :class:`StateSpace` with the Model Checking Contest's four StateSpace figures
  (reachable markings, edges, max tokens in one place, max tokens in one
  marking), the dead markings with a shortest firing sequence to each, and an
  :class:`Unboundedness` witness when the net is unbounded (exploration stops
  there instead of running forever).
* :func:`coverability` runs the Karp–Miller construction and returns every
  unbounded place, each with a witness firing sequence.
* :func:`soundness` decides van der Aalst soundness of a workflow net: option
  to complete, proper completion, no dead transitions, with the shortest
  firing sequence that shows a violation.

How :func:`explore` stays fast in Python: markings are rows of a numpy array,
the search expands a whole BFS layer at once (one vectorised enabledness test
per transition), and markings are deduplicated by a linear 64-bit hash
``h(M) = Σ M[p]·R[p] mod 2⁶⁴``.  Linearity makes a successor's hash the
parent's hash plus a per-transition constant, so hashing costs O(1) per edge.
Hashes only propose equality: every edge's successor is compared row by row
with the marking its hash points to, so a collision can never merge two
markings (if one happens, the search restarts with fresh random factors).

Unboundedness: if the reachable set is infinite, the BFS tree has an infinite
path, and on it (Dickson's lemma) a marking that covers an ancestor strictly.
Such a marking must exceed all of its ancestors in some place (a *path
record*), so only path records are compared with their ancestors — few, and
each comparison is filtered by total token count first.  The ancestor ``M``
and the descendant ``M' > M`` give the witness: fire the prefix to reach
``M``, then repeat the loop ``M → M'`` forever.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import numpy as np
import numpy.typing as npt

from autoflow.errors import ModelError
from autoflow.model.net import Net, is_workflow_net, sink_place, source_place

__all__ = [
    "CoverabilityResult",
    "DeadMarking",
    "NotAWorkflowNetError",
    "SoundnessResult",
    "StateSpace",
    "Unboundedness",
    "coverability",
    "explore",
    "soundness",
]

IntArray = npt.NDArray[np.int64]
Progress = Callable[[int, int], None]
"""``progress(explored, discovered)``: called after every BFS layer."""


class NotAWorkflowNetError(ModelError):
    """Soundness was asked of a net that is not a workflow net."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Unboundedness:
    """Proof that a net is unbounded: ``prefix`` reaches ``M``, ``loop`` leads from ``M``
    to ``M' > M`` and can therefore be fired again and again, adding tokens to ``places``
    each time.  Sequences are transition ids."""

    places: tuple[str, ...]
    prefix: tuple[str, ...]
    loop: tuple[str, ...]
    exact: bool = True
    """False when the loop was found under earlier accelerations (Karp–Miller ω places):
    then the loop is firable once the earlier loops have been pumped often enough."""

    @property
    def firing_sequence(self) -> tuple[str, ...]:
        """Prefix followed by the loop twice: the growth is visible in a replay."""
        return self.prefix + self.loop + self.loop


@dataclass(frozen=True)
class DeadMarking:
    """A reachable marking in which no transition is enabled."""

    marking: Mapping[str, int]
    firing_sequence: tuple[str, ...]


class StateSpace:
    """The explored reachability graph of a net and its figures.

    ``states``, ``edges``, ``max_tokens_place`` and ``max_tokens_marking`` are the
    Model Checking Contest's StateSpace figures; ``edges`` counts the pairs
    (reachable marking, transition enabled in it), i.e. every arc of the
    reachability graph labelled by its transition.  They are exact when
    ``complete`` (bounded and not truncated); otherwise they describe the part
    explored before the search stopped.

    Markings are numbered in breadth-first order (0 is the initial marking),
    so a lower number never needs a longer firing sequence.
    """

    def __init__(
        self,
        net: Net,
        *,
        markings: IntArray,
        parent: npt.NDArray[np.int32],
        parent_transition: npt.NDArray[np.int32],
        edges: int,
        dead: npt.NDArray[np.int64],
        truncated: bool,
        unbounded: Unboundedness | None,
        seconds: float,
        edge_arrays: tuple[IntArray, IntArray, IntArray] | None,
    ) -> None:
        self.net = net
        self.markings = markings
        """One row per reachable marking, one column per place (``net.places`` order)."""
        self._parent = parent
        self._parent_transition = parent_transition
        self.states = int(markings.shape[0])
        self.edges = edges
        self.max_tokens_place = int(markings.max()) if markings.size else 0
        self.max_tokens_marking = int(markings.sum(axis=1).max()) if markings.size else 0
        self.dead_states = dead
        """Numbers of the dead markings (ascending, so shortest first)."""
        self.truncated = truncated
        """The search stopped at ``max_states`` before it had seen every marking."""
        self.unbounded = unbounded
        self.seconds = seconds
        self.edge_arrays = edge_arrays
        """``(source, transition, target)`` arrays when explored with ``keep_edges``."""

    @property
    def bounded(self) -> bool | None:
        """True if bounded, False if proven unbounded, None if truncated before knowing."""
        if self.unbounded is not None:
            return False
        return None if self.truncated else True

    @property
    def complete(self) -> bool:
        """Every reachable marking was explored: the figures are exact."""
        return self.unbounded is None and not self.truncated

    @property
    def max_tokens_place_id(self) -> str | None:
        """A place that holds ``max_tokens_place`` tokens in some marking."""
        if not self.markings.size:
            return None
        column = int(np.argmax(self.markings.max(axis=0)))
        return self.net.places[column].id

    @property
    def dead_markings(self) -> tuple[DeadMarking, ...]:
        """Every dead marking found, with a shortest firing sequence to it."""
        return tuple(
            DeadMarking(self.marking(int(i)), self.firing_sequence(int(i)))
            for i in self.dead_states
        )

    def marking(self, state: int) -> dict[str, int]:
        """Marking number ``state`` as ``{place id: tokens}`` (marked places only)."""
        row = self.markings[state]
        return {self.net.places[p].id: int(row[p]) for p in np.flatnonzero(row)}

    def firing_sequence(self, state: int) -> tuple[str, ...]:
        """A shortest sequence of transition ids from the initial marking to ``state``."""
        ids: list[str] = []
        while state > 0:
            ids.append(self.net.transitions[int(self._parent_transition[state])].id)
            state = int(self._parent[state])
        return tuple(reversed(ids))

    def find(self, marking: Mapping[str, int]) -> int | None:
        """The number of a reachable marking given as ``{place id: tokens}``, or None."""
        row = np.zeros(len(self.net.places), dtype=self.markings.dtype)
        for place_id, tokens in marking.items():
            row[self.net.place_index[place_id]] = tokens
        hits = np.flatnonzero((self.markings == row).all(axis=1))
        return int(hits[0]) if hits.size else None

    def figures(self) -> dict[str, Any]:
        """The figures as plain data (what ``autoflow check --format json`` reports)."""
        return {
            "states": self.states,
            "edges": self.edges,
            "max_tokens_place": self.max_tokens_place,
            "max_tokens_marking": self.max_tokens_marking,
            "dead_markings": len(self.dead_states),
            "bounded": self.bounded,
            "truncated": self.truncated,
            "seconds": round(self.seconds, 3),
        }

    def __repr__(self) -> str:
        return (
            f"StateSpace(states={self.states}, edges={self.edges}, "
            f"max_tokens_place={self.max_tokens_place}, "
            f"max_tokens_marking={self.max_tokens_marking}, dead={len(self.dead_states)}, "
            f"bounded={self.bounded}, truncated={self.truncated})"
        )


# --------------------------------------------------------------------------- exploration


@dataclass
class _Matrices:
    pre: IntArray  # T x P
    delta: IntArray  # T x P
    pre_places: list[npt.NDArray[np.intp]]
    pre_weights: list[IntArray]
    initial: IntArray  # P


def _matrices(net: Net) -> _Matrices:
    places, transitions = net.place_index, net.transition_index
    pre = np.zeros((len(transitions), len(places)), dtype=np.int64)
    post = np.zeros_like(pre)
    for arc in net.arcs:
        if arc.target in transitions:
            pre[transitions[arc.target], places[arc.source]] += arc.weight
        else:
            post[transitions[arc.source], places[arc.target]] += arc.weight
    pre_places = [np.flatnonzero(row) for row in pre]
    pre_weights = [pre[t, idx] for t, idx in enumerate(pre_places)]
    initial = np.array([place.initial for place in net.places], dtype=np.int64)
    return _Matrices(pre, post - pre, pre_places, pre_weights, initial)


class _HashCollisionError(Exception):
    """Two different markings share a hash; the search restarts with other factors."""


_DTYPES = (np.int8, np.int16, np.int32, np.int64)


def _fitting_dtype(largest: int) -> type[np.signedinteger[Any]]:
    for dtype in _DTYPES:
        if largest <= np.iinfo(dtype).max:
            return dtype
    raise OverflowError("a place holds more than 2**63 tokens")


def explore(
    net: Net,
    *,
    max_states: int | None = None,
    progress: Progress | None = None,
    keep_edges: bool = False,
) -> StateSpace:
    """Explore the reachable markings of ``net`` breadth first.

    ``max_states`` bounds the number of markings kept (the result then has
    ``truncated=True``); ``progress(explored, discovered)`` is called after each
    BFS layer; ``keep_edges`` also returns the reachability graph's edges
    (needed by :func:`soundness`, costs 24 bytes per edge).  An unbounded net
    stops the search with ``unbounded`` set to a witness.
    """
    for seed in range(8):
        try:
            return _explore(net, max_states, progress, keep_edges, seed)
        except _HashCollisionError:
            continue
    raise RuntimeError("hash collisions in 8 attempts: this cannot happen by chance")


def _explore(
    net: Net,
    max_states: int | None,
    progress: Progress | None,
    keep_edges: bool,
    seed: int,
) -> StateSpace:
    started = perf_counter()
    m = _matrices(net)
    n_places, n_transitions = m.pre.shape[1], m.pre.shape[0]
    rng = np.random.default_rng(0x5EED + seed)
    factors = rng.integers(0, 2**64 - 1, size=n_places, dtype=np.uint64, endpoint=True) | 1
    # Per-transition hash increments; uint64 arithmetic wraps, which is exactly mod 2**64.
    hash_delta = (m.delta.astype(np.uint64) * factors).sum(axis=1, dtype=np.uint64)

    dtype = _fitting_dtype(max(int(m.initial.max(initial=0)), int(m.pre.max(initial=0)), 1))
    store = np.zeros((1024, n_places), dtype=dtype)
    parent = np.full(1024, -1, dtype=np.int32)
    parent_t = np.full(1024, -1, dtype=np.int32)
    anchor = np.full(1024, -1, dtype=np.int32)  # nearest total-record ancestor-or-self
    store[0] = m.initial
    anchor[0] = 0
    count = 1
    h0 = (m.initial.astype(np.uint64) * factors).sum(dtype=np.uint64)
    keys = np.array([h0], dtype=np.uint64)  # sorted hashes of all markings
    key_ids = np.array([0], dtype=np.int64)  # marking number of each sorted hash

    frontier = np.array([0], dtype=np.int64)
    frontier_hash = np.array([h0], dtype=np.uint64)
    frontier_best = np.array([int(m.initial.sum())], dtype=np.int64)  # max total on the path
    delta_range = (int(m.delta.min(initial=0)), int(m.delta.max(initial=0)))
    edges = 0
    dead: list[IntArray] = []
    edge_parts: list[tuple[IntArray, IntArray, IntArray]] = []
    truncated = False
    unbounded: Unboundedness | None = None
    limit = max_states if max_states is not None else None

    while frontier.size:
        rows = store[frontier]
        work = _fitting_dtype(int(rows.max(initial=0)) + delta_range[1])
        if np.iinfo(work).min > delta_range[0]:
            work = np.int64
        rows = rows.astype(work, copy=False)
        delta = m.delta.astype(work)
        enabled_count = np.zeros(frontier.size, dtype=np.int32)
        src_parts: list[npt.NDArray[np.intp]] = []
        t_parts: list[IntArray] = []
        for t in range(n_transitions):
            idx = m.pre_places[t]
            if idx.size == 0:
                hits = np.arange(frontier.size)
            elif idx.size == 1:
                hits = np.flatnonzero(rows[:, idx[0]] >= m.pre_weights[t][0])
            else:
                hits = np.flatnonzero((rows[:, idx] >= m.pre_weights[t]).all(axis=1))
            if hits.size:
                src_parts.append(hits)
                t_parts.append(np.full(hits.size, t, dtype=np.int64))
                enabled_count[hits] += 1
        dead_here = frontier[enabled_count == 0]
        if dead_here.size:
            dead.append(dead_here)
        if not src_parts:
            break
        src = np.concatenate(src_parts)
        trans = np.concatenate(t_parts)
        edges += int(src.size)
        hashes = frontier_hash[src] + hash_delta[trans]

        unique, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        _verify_same(rows, delta, src, trans, first[inverse])
        pos = np.searchsorted(keys, unique)
        pos_clipped = np.minimum(pos, keys.size - 1)
        known = keys[pos_clipped] == unique
        rep_rows = rows[src[first]].astype(np.int64) + m.delta[trans[first]]
        if known.any():
            stored = store[key_ids[pos_clipped[known]]]
            if not np.array_equal(stored, rep_rows[known]):
                raise _HashCollisionError
        fresh = np.flatnonzero(~known)
        if limit is not None and count + fresh.size > limit:
            fresh = fresh[: max(limit - count, 0)]
            truncated = True
        new_rows = rep_rows[fresh]
        new_ids = np.arange(count, count + fresh.size, dtype=np.int64)
        if new_rows.size and int(new_rows.max()) > np.iinfo(store.dtype).max:
            store = store.astype(_fitting_dtype(int(new_rows.max())))

        # Grow the arrays (amortised doubling) and append the new markings.
        needed = count + fresh.size
        if needed > store.shape[0]:
            capacity = max(needed, 2 * store.shape[0])
            store = _grow(store, capacity)
            parent = _grow(parent, capacity, fill=-1)
            parent_t = _grow(parent_t, capacity, fill=-1)
            anchor = _grow(anchor, capacity, fill=-1)
        store[count:needed] = new_rows
        parent_local = src[first[fresh]]
        parent[count:needed] = frontier[parent_local]
        parent_t[count:needed] = trans[first[fresh]]

        if keep_edges:
            target_of_unique = np.full(unique.size, -1, dtype=np.int64)
            target_of_unique[known] = key_ids[pos_clipped[known]]
            target_of_unique[fresh] = new_ids
            targets = target_of_unique[inverse]
            kept = targets >= 0
            edge_parts.append((frontier[src][kept], trans[kept], targets[kept]))

        # Insert the new hashes into the sorted index.
        new_hashes = unique[fresh]
        at = np.searchsorted(keys, new_hashes)
        keys = np.insert(keys, at, new_hashes)
        key_ids = np.insert(key_ids, at, new_ids)

        # Path records (more tokens than any ancestor) may witness unboundedness.
        new_totals = new_rows.sum(axis=1)
        parent_best = frontier_best[parent_local]
        is_record = new_totals > parent_best
        best = np.maximum(parent_best, new_totals)
        anchor[count:needed] = np.where(is_record, new_ids, anchor[frontier[parent_local]])
        if is_record.any():
            unbounded = _strict_cover(net, store, parent, parent_t, anchor, new_ids[is_record])
        count = needed
        frontier, frontier_hash, frontier_best = new_ids, new_hashes, best
        if progress is not None:
            progress(count - frontier.size, count)
        if unbounded is not None or truncated:
            break

    edge_arrays = None
    if keep_edges:
        if edge_parts:
            edge_arrays = (
                np.concatenate([part[0] for part in edge_parts]),
                np.concatenate([part[1] for part in edge_parts]),
                np.concatenate([part[2] for part in edge_parts]),
            )
        else:
            empty = np.zeros(0, dtype=np.int64)
            edge_arrays = (empty, empty, empty)
    dead_states = np.sort(np.concatenate(dead)) if dead else np.zeros(0, dtype=np.int64)
    return StateSpace(
        net,
        markings=store[:count],
        parent=parent[:count],
        parent_transition=parent_t[:count],
        edges=edges,
        dead=dead_states,
        truncated=truncated,
        unbounded=unbounded,
        seconds=perf_counter() - started,
        edge_arrays=edge_arrays,
    )


_CHUNK = 1 << 18


def _verify_same(
    rows: IntArray,
    delta: IntArray,
    src: npt.NDArray[np.intp],
    trans: IntArray,
    representative: npt.NDArray[np.intp],
) -> None:
    """Every edge's successor equals the successor of the edge whose hash it shares."""
    for start in range(0, src.size, _CHUNK):
        stop = start + _CHUNK
        mine = rows[src[start:stop]] + delta[trans[start:stop]]
        rep = representative[start:stop]
        theirs = rows[src[rep]] + delta[trans[rep]]
        if not np.array_equal(mine, theirs):
            raise _HashCollisionError


def _grow(array: npt.NDArray[Any], capacity: int, fill: int = 0) -> npt.NDArray[Any]:
    shape = (capacity, *array.shape[1:])
    grown = np.full(shape, fill, dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown


def _strict_cover(
    net: Net,
    store: npt.NDArray[Any],
    parent: npt.NDArray[np.int32],
    parent_t: npt.NDArray[np.int32],
    anchor: npt.NDArray[np.int32],
    candidates: IntArray,
) -> Unboundedness | None:
    """A candidate that covers one of its BFS ancestors strictly, as a witness.

    Candidates are total records (more tokens than every ancestor).  On an infinite
    BFS path the totals grow without bound, so the path has infinitely many total
    records, and by Dickson's lemma one of them covers an earlier one: comparing
    records with their record ancestors (``anchor`` chains) is complete.
    """
    rows = store[candidates]
    above = parent[candidates]
    ancestors = np.where(above >= 0, anchor[np.maximum(above, 0)], -1).astype(np.int64)
    alive = np.arange(candidates.size)
    while True:
        keep = ancestors[alive] >= 0
        alive = alive[keep]
        if not alive.size:
            return None
        anc = ancestors[alive]
        covered = (rows[alive] >= store[anc]).all(axis=1)
        if covered.any():
            hit = int(np.flatnonzero(covered)[0])
            descendant, ancestor = int(candidates[alive[hit]]), int(anc[hit])
            grown = np.flatnonzero(store[descendant] > store[ancestor])
            path = _path(net, parent, parent_t, descendant)
            depth = len(_path(net, parent, parent_t, ancestor))
            return Unboundedness(
                tuple(net.places[int(p)].id for p in grown), path[:depth], path[depth:]
            )
        above = parent[anc]
        ancestors[alive] = np.where(above >= 0, anchor[np.maximum(above, 0)], -1)


def _path(
    net: Net, parent: npt.NDArray[np.int32], parent_t: npt.NDArray[np.int32], state: int
) -> tuple[str, ...]:
    ids: list[str] = []
    while state > 0:
        ids.append(net.transitions[int(parent_t[state])].id)
        state = int(parent[state])
    return tuple(reversed(ids))


# --------------------------------------------------------------------------- coverability


@dataclass(frozen=True)
class CoverabilityResult:
    """The outcome of the Karp–Miller construction."""

    unbounded_places: tuple[str, ...]
    """Every place whose token count has no bound (ω in some node)."""
    witnesses: Mapping[str, Unboundedness]
    """For each unbounded place, how to pump it."""
    nodes: int
    truncated: bool = False
    """``max_nodes`` was reached: ``unbounded_places`` may be incomplete."""

    @property
    def bounded(self) -> bool | None:
        """True if bounded, False if not, None if the construction was cut short."""
        if self.unbounded_places:
            return False
        return None if self.truncated else True


def coverability(net: Net, *, max_nodes: int | None = 1_000_000) -> CoverabilityResult:
    """Karp–Miller coverability graph: every unbounded place, each with a witness.

    Nodes are ω-markings identified globally (a coverability graph rather than a
    tree); a new node that strictly covers an ancestor on its discovery path gets
    ω in the places that grew.  For a bounded net this is the reachability graph,
    so prefer :func:`explore` for large bounded nets.
    """
    omega = -1  # marks an unbounded place in a node's marking
    m = _matrices(net)
    pre = [
        tuple((int(p), int(w)) for p, w in zip(m.pre_places[t], m.pre_weights[t], strict=True))
        for t in range(m.pre.shape[0])
    ]
    changes = [tuple((int(p), int(d)) for p, d in enumerate(row) if d) for row in m.delta]
    root = tuple(int(v) for v in m.initial)
    index: dict[tuple[int, ...], int] = {root: 0}
    nodes: list[tuple[int, ...]] = [root]
    parents: list[tuple[int, int]] = [(-1, -1)]
    ever_omega: list[bool] = [False]
    witnesses: dict[str, Unboundedness] = {}
    queue = [0]
    head = 0
    truncated = False

    def path(node: int) -> tuple[str, ...]:
        ids: list[str] = []
        while node > 0:
            up, t = parents[node]
            ids.append(net.transitions[t].id)
            node = up
        return tuple(reversed(ids))

    while head < len(queue):
        current = queue[head]
        head += 1
        marking = nodes[current]
        for t, needs in enumerate(pre):
            if any(marking[p] != omega and marking[p] < w for p, w in needs):
                continue
            successor = list(marking)
            for p, d in changes[t]:
                if successor[p] != omega:
                    successor[p] += d
            # Accelerate against every ancestor the successor covers strictly.
            accelerated = True
            while accelerated:
                accelerated = False
                ancestor = current
                while ancestor >= 0:
                    old = nodes[ancestor]
                    if (
                        all(
                            s == omega or (o != omega and s >= o)
                            for s, o in zip(successor, old, strict=True)
                        )
                        and tuple(successor) != old
                    ):
                        grown = [
                            p
                            for p, (s, o) in enumerate(zip(successor, old, strict=True))
                            if s != omega and s > o
                        ]
                        if grown:
                            loop_path = (*path(current), net.transitions[t].id)
                            prefix = path(ancestor)
                            exact = not ever_omega[current] and omega not in successor
                            for p in grown:
                                place_id = net.places[p].id
                                witnesses.setdefault(
                                    place_id,
                                    Unboundedness(
                                        tuple(net.places[q].id for q in grown),
                                        prefix,
                                        loop_path[len(prefix) :],
                                        exact,
                                    ),
                                )
                                successor[p] = omega
                            accelerated = True
                    ancestor = parents[ancestor][0]
            key = tuple(successor)
            if key in index:
                continue
            if max_nodes is not None and len(nodes) >= max_nodes:
                truncated = True
                break
            index[key] = len(nodes)
            nodes.append(key)
            parents.append((current, t))
            ever_omega.append(ever_omega[current] or omega in key)
            queue.append(len(nodes) - 1)
        if truncated:
            break
    unbounded = tuple(place.id for place in net.places if place.id in witnesses)
    return CoverabilityResult(unbounded, witnesses, len(nodes), truncated)


# --------------------------------------------------------------------------- soundness


@dataclass(frozen=True)
class SoundnessResult:
    """Soundness of a workflow net, started with one token in its source place.

    ``sound`` is None when the search hit ``max_states`` before deciding.  The
    ``counterexample`` is a shortest firing sequence (transition ids) to a
    marking that violates option to complete or proper completion; for an
    unbounded net it is the pumping witness.
    """

    sound: bool | None
    option_to_complete: bool | None
    proper_completion: bool | None
    dead_transitions: tuple[str, ...]
    counterexample: tuple[str, ...] | None
    reason: str
    source: str
    sink: str
    space: StateSpace = field(repr=False)


def soundness(
    net: Net, *, max_states: int | None = None, progress: Progress | None = None
) -> SoundnessResult:
    """Decide whether the workflow net ``net`` is sound (van der Aalst).

    Sound means: from every marking reachable from ``[source]`` the marking
    ``[sink]`` is reachable (option to complete); a reachable marking with a
    token in the sink is exactly ``[sink]`` (proper completion); every
    transition can fire in some reachable marking (no dead transitions).
    """
    source, sink = source_place(net), sink_place(net)
    if source is None or sink is None or not is_workflow_net(net):
        raise NotAWorkflowNetError(
            "not a workflow net: soundness needs one source place, one sink place "
            "and every node on a path between them",
            net.span,
        )
    start = net.with_initial_marking({source.id: 1})
    space = explore(start, max_states=max_states, progress=progress, keep_edges=True)

    def result(
        sound: bool | None,
        option: bool | None,
        proper: bool | None,
        dead: tuple[str, ...],
        counterexample: tuple[str, ...] | None,
        reason: str,
    ) -> SoundnessResult:
        return SoundnessResult(
            sound, option, proper, dead, counterexample, reason, source.id, sink.id, space
        )

    if space.unbounded is not None:
        places = ", ".join(space.unbounded.places)
        return result(
            False,
            None,
            None,
            (),
            space.unbounded.firing_sequence,
            f"unbounded: the loop can be repeated forever, adding tokens to {places}",
        )
    if space.truncated:
        return result(None, None, None, (), None, f"undecided: stopped at {space.states} markings")
    assert space.edge_arrays is not None
    sources, transitions, targets = space.edge_arrays
    sink_column = net.place_index[sink.id]
    marks = space.markings
    in_sink = marks[:, sink_column] > 0
    overfull = np.flatnonzero(in_sink & (marks.sum(axis=1) > 1))
    final = np.flatnonzero(in_sink & (marks.sum(axis=1) == 1))

    can_finish = np.zeros(space.states, dtype=bool)
    can_finish[final] = True
    while True:  # backward fixpoint over the reachability graph
        grow = can_finish[targets] & ~can_finish[sources]
        if not grow.any():
            break
        can_finish[sources[grow]] = True
    stuck = np.flatnonzero(~can_finish)
    fired = np.zeros(len(net.transitions), dtype=bool)
    fired[transitions] = True
    dead_transitions = tuple(net.transitions[int(t)].id for t in np.flatnonzero(~fired))

    option = stuck.size == 0
    proper = overfull.size == 0
    counterexample: tuple[str, ...] | None = None
    reasons: list[str] = []
    if not option:
        # A deadlock (no transition enabled) tells the story best; else the first stuck marking.
        deadlocks = np.intersect1d(stuck, space.dead_states)
        witness = int(deadlocks[0]) if deadlocks.size else int(stuck[0])
        counterexample = space.firing_sequence(witness)
        kind = "a deadlock" if deadlocks.size else "a marking"
        reasons.append(
            f"no option to complete: {_story(net, counterexample)} leads to "
            f"{_show(space.marking(witness))}, {kind} from which [{sink.id}] cannot be reached"
        )
    if not proper:
        bad = int(overfull[0])
        # Overfull markings cannot complete either; show one, it is the clearer story.
        counterexample = space.firing_sequence(bad)
        reasons.append(
            f"no proper completion: {_story(net, counterexample)} leads to "
            f"{_show(space.marking(bad))}, a token in the sink while others remain"
        )
    if dead_transitions:
        reasons.append("dead transitions: " + ", ".join(dead_transitions))
    sound = option and proper and not dead_transitions
    return result(
        sound,
        option,
        proper,
        dead_transitions,
        counterexample,
        "; ".join(reasons) or "sound",
    )


def _story(net: Net, sequence: tuple[str, ...]) -> str:
    """A firing sequence for people: transition names, or 'the initial marking'."""
    if not sequence:
        return "the initial marking"
    index = net.transition_index
    return " → ".join(net.transitions[index[t]].label for t in sequence)


def _show(marking: Mapping[str, int]) -> str:
    parts = [place if tokens == 1 else f"{tokens}·{place}" for place, tokens in marking.items()]
    return "[" + ", ".join(parts) + "]"
