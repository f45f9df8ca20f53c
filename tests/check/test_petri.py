"""Petri-net analysis: exact StateSpace figures, unboundedness witnesses, soundness.

Expected figures come from outside autoflow: the Model Checking Contest / pm4py
values listed in tests/model/data/pnml/README.md, and a deliberately naive
explorer written here (dicts of tuples, no numpy) for the Kanban ladder and for
random nets.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autoflow.check.petri import (
    NotAWorkflowNetError,
    coverability,
    explore,
    soundness,
)
from autoflow.model.io.pnml import read_pnml_file
from autoflow.model.net import Arc, Net, NetTransition, Place

DATA = Path(__file__).resolve().parent.parent / "model" / "data" / "pnml"

# --------------------------------------------------------------------------- a naive reference


Marking = tuple[int, ...]


def flows(net: Net) -> list[tuple[str, dict[int, int], dict[int, int]]]:
    index = net.place_index
    return [
        (
            t.id,
            {index[p]: w for p, w in net.pre(t.id).items()},
            {index[p]: w for p, w in net.post(t.id).items()},
        )
        for t in net.transitions
    ]


def fire(marking: Marking, pre: Mapping[int, int], post: Mapping[int, int]) -> Marking | None:
    if any(marking[p] < w for p, w in pre.items()):
        return None
    out = list(marking)
    for p, w in pre.items():
        out[p] -= w
    for p, w in post.items():
        out[p] += w
    return tuple(out)


def naive(net: Net, cap: int = 200_000) -> dict[str, object] | None:
    """Plain BFS; None when more than ``cap`` markings (treated as 'too big')."""
    table = flows(net)
    start = tuple(p.initial for p in net.places)
    depth = {start: 0}
    queue = deque([start])
    edges = 0
    dead: list[Marking] = []
    while queue:
        marking = queue.popleft()
        enabled = 0
        for _, pre, post in table:
            nxt = fire(marking, pre, post)
            if nxt is None:
                continue
            enabled += 1
            if nxt not in depth:
                if len(depth) >= cap:
                    return None
                depth[nxt] = depth[marking] + 1
                queue.append(nxt)
        edges += enabled
        if not enabled:
            dead.append(marking)
    return {
        "states": len(depth),
        "edges": edges,
        "max_tokens_place": max(max(m) for m in depth),
        "max_tokens_marking": max(sum(m) for m in depth),
        "dead": sorted(dead),
        "depth": depth,
    }


def replay(net: Net, sequence: tuple[str, ...], start: Marking | None = None) -> Marking:
    """Fire ``sequence`` from the initial marking; fails if a transition is not enabled."""
    table = {t: (pre, post) for t, pre, post in flows(net)}
    marking = start if start is not None else tuple(p.initial for p in net.places)
    for transition in sequence:
        nxt = fire(marking, *table[transition])
        assert nxt is not None, f"{transition} is not enabled in {marking}"
        marking = nxt
    return marking


def as_tuple(net: Net, marking: Mapping[str, int]) -> Marking:
    return tuple(marking.get(p.id, 0) for p in net.places)


def kanban(n: int) -> Net:
    net = read_pnml_file(str(DATA / "Kanban-PT-02000.pnml"))
    return net.with_initial_marking(dict.fromkeys(net.initial_marking, n))


def figures(space: object) -> tuple[int, int, int, int, int]:
    return (
        space.states,  # type: ignore[attr-defined]
        space.edges,  # type: ignore[attr-defined]
        space.max_tokens_place,  # type: ignore[attr-defined]
        space.max_tokens_marking,  # type: ignore[attr-defined]
        len(space.dead_states),  # type: ignore[attr-defined]
    )


# --------------------------------------------------------------------------- known figures

KNOWN = [
    ("M1", 144, 363, 1, 5, 1),
    ("M2", 230, 784, 1, 5, 1),
    ("ML4", 1_154, 4_744, 1, 6, 1),
    ("M7", 36_740, 226_350, 1, 10, 1),
    ("ML2", 82_939, 446_854, 1, 11, 1),
    ("Angiogenesis-PT-01", 110, 288, 1, 8, 4),
]


@pytest.mark.parametrize(("name", "states", "edges", "place", "marking", "dead"), KNOWN)
def test_figures_of_the_benchmark_nets(
    name: str, states: int, edges: int, place: int, marking: int, dead: int
) -> None:
    space = explore(read_pnml_file(str(DATA / f"{name}.pnml")))
    assert space.complete
    assert space.bounded is True
    assert figures(space) == (states, edges, place, marking, dead)


@pytest.mark.parametrize(
    ("n", "states", "edges"), [(1, 160, 616), (2, 4_600, 28_120), (3, 58_400, 446_400)]
)
def test_kanban_ladder_matches_published_figures(n: int, states: int, edges: int) -> None:
    space = explore(kanban(n))
    assert (space.states, space.edges) == (states, edges)
    assert space.max_tokens_place == n
    assert space.max_tokens_marking == 4 * n
    assert len(space.dead_states) == 0


@pytest.mark.parametrize("n", [1, 2, 3])
def test_kanban_ladder_matches_the_naive_explorer(n: int) -> None:
    net = kanban(n)
    reference = naive(net)
    assert reference is not None
    space = explore(net)
    assert space.states == reference["states"]
    assert space.edges == reference["edges"]
    assert space.max_tokens_place == reference["max_tokens_place"]
    assert space.max_tokens_marking == reference["max_tokens_marking"]


def test_small_benchmark_nets_match_the_naive_explorer_including_dead_markings() -> None:
    for name in ("M1", "M2", "ML4", "Angiogenesis-PT-01"):
        net = read_pnml_file(str(DATA / f"{name}.pnml"))
        reference = naive(net)
        assert reference is not None
        space = explore(net)
        assert figures(space)[:4] == (
            reference["states"],
            reference["edges"],
            reference["max_tokens_place"],
            reference["max_tokens_marking"],
        )
        dead = sorted(as_tuple(net, d.marking) for d in space.dead_markings)
        assert dead == reference["dead"]


def test_dead_markings_come_with_shortest_firing_sequences() -> None:
    net = read_pnml_file(str(DATA / "Angiogenesis-PT-01.pnml"))
    reference = naive(net)
    assert reference is not None
    depth = reference["depth"]
    assert isinstance(depth, dict)
    space = explore(net)
    assert len(space.dead_markings) == 4
    for dead in space.dead_markings:
        reached = replay(net, dead.firing_sequence)
        assert reached == as_tuple(net, dead.marking)
        assert len(dead.firing_sequence) == depth[reached]


def test_stress_net_is_truncated_at_the_bound_and_says_so() -> None:
    net = read_pnml_file(str(DATA / "DiscoveryGPU-PT-15a.pnml"))
    space = explore(net, max_states=5_000)
    assert space.states == 5_000
    assert space.truncated
    assert space.bounded is None
    assert not space.complete
    assert space.figures()["truncated"] is True


def test_progress_is_reported_per_layer_and_ends_at_the_total() -> None:
    calls: list[tuple[int, int]] = []
    space = explore(kanban(2), progress=lambda done, seen: calls.append((done, seen)))
    assert len(calls) > 5
    assert calls[-1][1] == space.states
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(calls))


def test_kept_edges_are_the_counted_edges_and_each_is_a_firing() -> None:
    net = read_pnml_file(str(DATA / "M2.pnml"))
    space = explore(net, keep_edges=True)
    assert space.edge_arrays is not None
    sources, transitions, targets = space.edge_arrays
    assert sources.size == space.edges
    table = flows(net)
    for s, t, d in zip(sources.tolist(), transitions.tolist(), targets.tolist(), strict=True):
        _, pre, post = table[t]
        assert fire(tuple(space.markings[s].tolist()), pre, post) == tuple(
            space.markings[d].tolist()
        )


# --------------------------------------------------------------------------- unbounded nets


def producer() -> Net:
    """``gen`` keeps its token and adds one to ``buffer``; ``use`` moves it to ``done``."""
    return Net(
        "producer",
        (Place("idle", initial=1), Place("buffer"), Place("done")),
        (NetTransition("gen"), NetTransition("use")),
        (
            Arc("idle", "gen"),
            Arc("gen", "idle"),
            Arc("gen", "buffer"),
            Arc("buffer", "use"),
            Arc("use", "done"),
        ),
    )


def test_unbounded_net_stops_with_a_witness_that_pumps() -> None:
    net = producer()
    space = explore(net)
    assert space.bounded is False
    witness = space.unbounded
    assert witness is not None
    before = replay(net, witness.prefix)
    after = replay(net, witness.loop, before)
    assert all(a >= b for a, b in zip(after, before, strict=True))
    grown = tuple(net.places[i].id for i, (a, b) in enumerate(zip(after, before, strict=True)))
    assert set(witness.places) <= set(grown)
    assert witness.places == ("buffer",)
    replay(net, witness.firing_sequence)


def test_unbounded_deep_in_the_net_is_found_with_a_replayable_witness() -> None:
    # A safe cycle a -> b -> c -> a where the step c -> a also drops a token in `leak`.
    net = Net(
        "leaky-cycle",
        (Place("a", initial=1), Place("b"), Place("c"), Place("leak")),
        (NetTransition("ab"), NetTransition("bc"), NetTransition("ca")),
        (
            Arc("a", "ab"),
            Arc("ab", "b"),
            Arc("b", "bc"),
            Arc("bc", "c"),
            Arc("c", "ca"),
            Arc("ca", "a"),
            Arc("ca", "leak", 2),
        ),
    )
    witness = explore(net).unbounded
    assert witness is not None
    assert witness.places == ("leak",)
    assert witness.prefix == ()
    assert witness.loop == ("ab", "bc", "ca")
    assert replay(net, witness.firing_sequence)[3] == 4


def test_coverability_lists_every_unbounded_place() -> None:
    result = coverability(producer())
    assert result.bounded is False
    assert result.unbounded_places == ("buffer", "done")
    exact = result.witnesses["buffer"]
    assert exact.exact
    before = replay(producer(), exact.prefix)
    assert replay(producer(), exact.loop, before)[1] > before[1]


def test_coverability_of_a_bounded_net_is_its_reachability_graph() -> None:
    net = read_pnml_file(str(DATA / "M1.pnml"))
    result = coverability(net)
    assert result.bounded is True
    assert result.unbounded_places == ()
    assert result.nodes == 144


# --------------------------------------------------------------------------- soundness


def workflow(*arcs: tuple[str, str], places: tuple[str, ...], transitions: tuple[str, ...]) -> Net:
    return Net(
        "wf",
        tuple(Place(p) for p in places),
        tuple(NetTransition(t) for t in transitions),
        tuple(Arc(s, t) for s, t in arcs),
    )


@pytest.mark.parametrize("name", ["M1", "M2", "ML4", "M7", "ML2"])
def test_benchmark_workflow_nets_are_sound(name: str) -> None:
    result = soundness(read_pnml_file(str(DATA / f"{name}.pnml")))
    assert result.sound is True
    assert result.option_to_complete
    assert result.proper_completion
    assert result.dead_transitions == ()
    assert result.counterexample is None


def test_and_split_without_join_violates_proper_completion() -> None:
    # i -> split -> (a, b); a -> finish -> o; b is never consumed.
    net = workflow(
        ("i", "split"),
        ("split", "a"),
        ("split", "b"),
        ("a", "finish"),
        ("finish", "o"),
        ("b", "drop"),
        ("drop", "o"),
        places=("i", "a", "b", "o"),
        transitions=("split", "finish", "drop"),
    )
    result = soundness(net)
    assert result.sound is False
    assert result.proper_completion is False
    # In a workflow net an overfull marking can never shrink back to [o] either.
    assert result.option_to_complete is False
    assert result.counterexample in {("split", "finish"), ("split", "drop")}
    start = as_tuple(net, {"i": 1})
    reached = replay(net, result.counterexample or (), start)
    assert reached[3] == 1
    assert sum(reached) > 1


def test_xor_split_into_and_join_deadlocks_with_shortest_counterexample() -> None:
    # i -> (left | right) -> a or b; join needs a AND b: stuck after one step, join is dead.
    net = workflow(
        ("i", "left"),
        ("i", "right"),
        ("left", "a"),
        ("right", "b"),
        ("a", "join"),
        ("b", "join"),
        ("join", "o"),
        places=("i", "a", "b", "o"),
        transitions=("left", "right", "join"),
    )
    result = soundness(net)
    assert result.sound is False
    assert result.option_to_complete is False
    assert result.dead_transitions == ("join",)
    assert result.counterexample in {("left",), ("right",)}
    assert "no option to complete" in result.reason


def test_option_to_complete_counterexample_is_the_shortest_way_into_a_deadlock() -> None:
    # left -> a -> finish -> o completes; a -> feed -> c and right -> b get stuck: join
    # needs b and c together, which never happens.
    net = workflow(
        ("i", "left"),
        ("left", "a"),
        ("a", "finish"),
        ("finish", "o"),
        ("a", "feed"),
        ("feed", "c"),
        ("i", "right"),
        ("right", "b"),
        ("b", "join"),
        ("c", "join"),
        ("join", "o"),
        places=("i", "a", "b", "c", "o"),
        transitions=("left", "finish", "feed", "right", "join"),
    )
    result = soundness(net)
    assert result.sound is False
    assert result.option_to_complete is False
    assert result.proper_completion is True
    assert result.dead_transitions == ("join",)
    assert result.counterexample == ("right",)
    assert "right leads to [b], a deadlock" in result.reason


def test_seeded_defect_in_a_benchmark_net_is_caught_with_a_replayable_counterexample() -> None:
    net = read_pnml_file(str(DATA / "M2.pnml"))
    # The first transition also puts a token into some unrelated place: one token too many.
    source = next(p.id for p in net.places if p.initial)
    first = next(arc.target for arc in net.arcs if arc.source == source)
    outputs = set(net.post(first))
    extra = next(p.id for p in net.places[len(net.places) // 2 :] if p.id not in outputs)
    broken = Net(net.id, net.places, net.transitions, (*net.arcs, Arc(first, extra)))
    result = soundness(broken)
    assert result.sound is False
    assert result.counterexample is not None
    reached = replay(broken, result.counterexample, as_tuple(broken, {source: 1}))
    # The reached marking either holds the sink's token and more, or cannot complete.
    sink = broken.place_index[result.sink]
    overfull = reached[sink] > 0 and sum(reached) > 1
    onward = naive(
        broken.with_initial_marking(
            {p.id: tokens for p, tokens in zip(broken.places, reached, strict=True)}
        )
    )
    assert onward is not None
    final = tuple(1 if i == sink else 0 for i in range(len(reached)))
    assert overfull or final not in onward["depth"]  # type: ignore[operator]


def test_unbounded_workflow_net_is_unsound() -> None:
    net = workflow(
        ("i", "start"),
        ("start", "busy"),
        ("busy", "again"),
        ("again", "busy"),
        ("again", "extra"),
        ("busy", "stop"),
        ("stop", "o"),
        ("extra", "flush"),
        ("flush", "o"),
        places=("i", "busy", "extra", "o"),
        transitions=("start", "again", "stop", "flush"),
    )
    result = soundness(net)
    assert result.sound is False
    assert "unbounded" in result.reason
    assert result.counterexample is not None
    replay(net, result.counterexample, as_tuple(net, {"i": 1}))


def test_soundness_refuses_a_net_that_is_not_a_workflow_net() -> None:
    with pytest.raises(NotAWorkflowNetError, match="not a workflow net"):
        soundness(kanban(1))


# --------------------------------------------------------------------------- random nets


@st.composite
def small_nets(draw: st.DrawFn) -> Net:
    n_places = draw(st.integers(1, 5))
    n_transitions = draw(st.integers(1, 5))
    places = tuple(Place(f"p{i}", initial=draw(st.integers(0, 2))) for i in range(n_places))
    transitions = tuple(NetTransition(f"t{i}") for i in range(n_transitions))
    arcs = []
    for t in transitions:
        for p in places:
            if draw(st.booleans()):
                arcs.append(Arc(p.id, t.id, draw(st.integers(1, 2))))
            if draw(st.booleans()):
                arcs.append(Arc(t.id, p.id, draw(st.integers(1, 2))))
    return Net("random", places, transitions, tuple(arcs))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_nets())
def test_random_nets_agree_with_the_naive_explorer(net: Net) -> None:
    space = explore(net)
    if space.unbounded is not None:
        witness = space.unbounded
        before = replay(net, witness.prefix)
        after = replay(net, witness.loop, before)
        assert all(a >= b for a, b in zip(after, before, strict=True))
        assert after != before
        assert coverability(net).bounded is False
        return
    reference = naive(net, cap=50_000)
    assert reference is not None, "explore called a net bounded that the naive search finds huge"
    assert figures(space)[:4] == (
        reference["states"],
        reference["edges"],
        reference["max_tokens_place"],
        reference["max_tokens_marking"],
    )
    assert sorted(as_tuple(net, d.marking) for d in space.dead_markings) == reference["dead"]
    assert coverability(net).bounded is True
