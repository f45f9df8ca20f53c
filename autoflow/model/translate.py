"""Statechart → Petri net: the control-flow skeleton of a workflow as a P/T net.

:func:`translate` turns a :class:`~autoflow.model.ir.Chart` into a
:class:`~autoflow.model.net.Net` plus a :class:`Translation` that says which
place stands for which state and which net transition for which chart
transition; :func:`chart_to_net` returns just the net.  docs/petri-nets.md
("Workflows as nets") teaches the encoding with pictures; in short:

* **Places** — one per *atomic or final* state (``place id = state id``).
  Compound and parallel states have no place: one is active exactly when one
  of its descendants' places is marked, so a marking *is* a configuration
  (its set of active leaves).  A parallel state's regions hold one token
  each; that is where concurrency shows.  Extra places: ``i`` (source, one
  token initially), ``o`` (sink, when the chart has top-level final states)
  and one ``<invoke id>.joined`` per invoke (the child sessions have
  finished; ``done.invoke`` is pending).
* **Transitions** — one net transition per *variant* of a chart transition:
  a variant fixes which leaves are active below the transition's domain (the
  tokens it takes, e.g. every configuration of the other regions when a
  transition leaves a parallel state) and, with history, which configuration
  it restores.  Ids are ``<state>#<index>`` (the id ``autoflow check`` and the
  simulator's coverage use) with ``~<n>`` appended when there are several
  variants.  ``start`` moves the token from ``i`` into the initial
  configuration, ``finish:<final>`` moves a top-level final's token into
  ``o``.
* **Control-flow abstraction** — data is dropped and every guard counts as
  possibly true: a guarded chart transition becomes net transitions that may
  always fire.  Every external event (effect results and errors included) may
  arrive at any time, and every pending timer may fire at any time: timers
  are ordinary transitions.  Targetless transitions change no state and get
  no net transition.  What the chart's priorities make impossible is left
  out, so the net does not invent behaviour: a transition that an earlier
  unguarded transition (same event, in the same state or a descendant on the
  way up) always pre-empts, and any event or timer in a configuration that
  an unguarded eventless transition leaves at once.
* ``done.state.X`` — a transition on it takes the tokens of a configuration
  in which ``X`` is complete (its final child active; for a parallel state,
  every region in a final state: the regions *synchronise*).
* **History** is approximated: entering a history state may restore any
  configuration it could have recorded — shallow: any child of the parent
  (entered by default), deep: any leaf configuration of the parent — or take
  its default transition.  The net can therefore restore a configuration the
  chart did not record (it over-approximates).
* **Invokes and foreach fan-out** — entering the invoking state puts the
  child chart's initial configuration into the child's places ``fanout_width``
  times (a plain invoke: once); the children run as tokens.  When the child
  chart is sequential (no parallel state, no invoke) the children share one
  set of places and are counted (a *counting abstraction*: N tokens in the
  child's places); otherwise every child gets its own copy of the places.  A
  ``join`` transition takes the children's tokens when enough of them are
  in a top-level final state (all, any one, or ``count``; a ``count`` that
  is not a literal counts as 1) and marks ``<invoke>.joined``;
  with a timeout, a ``timeout`` transition takes them in any configuration
  where the join condition does not hold.  A transition on
  ``done.invoke.<id>`` takes ``<invoke>.joined``; leaving the invoking state
  takes the children's tokens in whatever configuration they are.

Size: the variants of one chart transition are the product of the
configurations of the regions it leaves (and of the running children of the
invokes it cancels); :func:`translate` refuses more than ``max_variants``
per transition with a :class:`TranslationError` pointing at it.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from autoflow.errors import ModelError
from autoflow.model.durations import format_duration
from autoflow.model.ir import (
    Chart,
    HistoryKind,
    Invoke,
    JoinKind,
    State,
    StateKind,
    TimerKind,
    Transition,
    TransitionKind,
    walk_states,
)
from autoflow.model.net import Arc, Net, NetTransition, Place
from autoflow.model.span import NO_SPAN, Span

__all__ = [
    "DEFAULT_FANOUT_WIDTH",
    "DEFAULT_MAX_VARIANTS",
    "InvokeInfo",
    "NetTransitionOrigin",
    "PlaceOrigin",
    "Translation",
    "TranslationError",
    "chart_to_net",
    "translate",
]

DEFAULT_FANOUT_WIDTH = 2
DEFAULT_MAX_VARIANTS = 4096
TIMER_PREFIX = "autoflow.timer."  # the engine's timer event names (sim/engine.py)

Leaves = frozenset[str]
"""A leaf configuration: the active atomic/final states of one session (state ids)."""


class TranslationError(ModelError):
    """A chart cannot be translated within the configured bounds."""


# --------------------------------------------------------------------------- the mapping


@dataclass(frozen=True)
class PlaceOrigin:
    """What a place stands for.

    ``kind``: ``"source"`` (``i``), ``"sink"`` (``o``), ``"state"`` (an atomic or
    final state of the session ``scope``) or ``"joined"`` (the children of
    ``invoke`` have finished; ``done.invoke`` is pending).  ``scope`` is ``""``
    for the workflow itself and the place-id prefix of a child session (e.g.
    ``"ask_each_member."``) otherwise; ``"over"``: ``done.invoke`` was handled
    without leaving the invoking state.  ``final``: a top-level final state of
    its chart (for a child: the child has completed).
    """

    kind: Literal["source", "sink", "state", "joined", "over"]
    scope: str = ""
    state: str | None = None
    invoke: str | None = None
    final: bool = False


@dataclass(frozen=True)
class NetTransitionOrigin:
    """What a net transition stands for.

    ``kind``: ``"start"``, ``"transition"`` (variant ``variant`` of the
    ``index``-th transition written in ``state``), ``"finish"`` (the top-level
    final ``state`` completes the workflow), ``"join"`` / ``"timeout"`` (the
    fan-out ``invoke`` of ``state`` completes / times out).  ``urgent``: the
    engine takes it without waiting for an outside event (an unguarded
    eventless transition, ``done.state``/``done.invoke`` handlers without a
    guard, a join, start and finish); a marking in which an urgent transition
    is enabled is *transient* — the chart never rests there.
    """

    kind: Literal["start", "transition", "finish", "join", "timeout"]
    scope: str = ""
    state: str | None = None
    index: int | None = None
    variant: int = 0
    invoke: str | None = None
    urgent: bool = False

    @property
    def chart_transition(self) -> str | None:
        """``<state>#<index>`` for chart transitions (the checker's transition id)."""
        if self.kind != "transition" or self.state is None or self.index is None:
            return None
        return f"{self.state}#{self.index}"


@dataclass(frozen=True)
class InvokeInfo:
    """One invoke and how its child sessions are represented.

    ``scopes``: the child sessions' place prefixes — one shared prefix (with
    ``counted`` True, the children are ``width`` tokens in the same places) or
    one prefix per child.
    """

    scope: str
    state: str
    invoke: str
    width: int
    counted: bool
    scopes: tuple[str, ...]
    joined: str
    over: str | None = None
    """Place marked when a ``done.invoke`` transition took ``joined`` but left the
    invoking state active (only when the chart has such a transition)."""


@dataclass(frozen=True)
class Translation:
    """A chart's net and the correspondence between the two."""

    chart: Chart
    net: Net
    places: Mapping[str, PlaceOrigin]
    transitions: Mapping[str, NetTransitionOrigin]
    invokes: tuple[InvokeInfo, ...]
    charts: Mapping[str, Chart]
    """Scope (place prefix) → the chart that session runs ("" is the workflow)."""
    source: str
    sink: str | None
    fanout_width: int
    state_places: Mapping[tuple[str, str], str] = field(repr=False)
    """(scope, state id) → place id, for atomic and final states."""
    variants: Mapping[tuple[str, str, int], tuple[str, ...]] = field(repr=False)
    """(scope, state id, transition index) → its net transitions (empty: none)."""

    def place_of(self, state_id: str, scope: str = "") -> str:
        """The place of an atomic or final state (KeyError for other states)."""
        return self.state_places[(scope, state_id)]

    def net_transitions_of(self, state_id: str, index: int, scope: str = "") -> tuple[str, ...]:
        """The net transitions that stand for the ``index``-th transition of ``state_id``."""
        return self.variants[(scope, state_id, index)]

    def marking_of(self, configuration: Iterable[str], scope: str = "") -> dict[str, int]:
        """The marking of a configuration of the workflow (state ids; compound ones ignored)."""
        marking: Counter[str] = Counter()
        for state_id in configuration:
            place = self.state_places.get((scope, state_id))
            if place is not None:
                marking[place] += 1
        return dict(marking)

    def dead_chart_transitions(self, dead: Iterable[str]) -> tuple[str, ...]:
        """Chart transitions (``[scope]<state>#<index>``) all of whose variants are in ``dead``.

        A dead *variant* (e.g. leaving a parallel state from a combination of
        regions that never occurs) is no defect of the chart as long as another
        variant of the same chart transition can fire.
        """
        dead_set = set(dead)
        return tuple(
            f"{scope}{state}#{index}"
            for (scope, state, index), ids in self.variants.items()
            if ids and all(i in dead_set for i in ids)
        )

    @property
    def urgent(self) -> frozenset[str]:
        """Ids of the urgent net transitions (see :class:`NetTransitionOrigin`)."""
        return frozenset(t for t, origin in self.transitions.items() if origin.urgent)


def chart_to_net(chart: Chart, *, fanout_width: int = DEFAULT_FANOUT_WIDTH) -> Net:
    """The Petri net of ``chart`` (see the module docstring for the encoding)."""
    return translate(chart, fanout_width=fanout_width).net


def translate(
    chart: Chart,
    *,
    fanout_width: int = DEFAULT_FANOUT_WIDTH,
    max_variants: int = DEFAULT_MAX_VARIANTS,
) -> Translation:
    """Translate ``chart`` into a net and the mapping between them.

    ``fanout_width``: how many children a ``foreach`` invoke spawns in the net
    (a bounded stand-in for "the length of the list"); ``max_variants``: the
    most net transitions one chart transition may become.
    """
    if fanout_width < 1:
        raise ValueError("fanout_width must be at least 1")
    return _Builder(chart, fanout_width, max_variants).build()


# --------------------------------------------------------------------------- chart structure


def _descriptor(text: str) -> str:
    text = text.strip()
    if text.endswith(".*"):
        text = text[:-2]
    return text.rstrip(".")


def _covers(descriptor: str, name: str) -> bool:
    """Does event descriptor ``descriptor`` match every event ``name`` matches?"""
    return descriptor == "*" or name == descriptor or name.startswith(descriptor + ".")


class _Tree:
    """Lookups over one chart (the workflow or an invoked child)."""

    def __init__(self, chart: Chart) -> None:
        self.chart = chart
        self.index = chart.index
        self.states = self.index.states
        self.parent = self.index.parent
        self.order = self.index.order
        self._leafconfs: dict[str, list[Leaves]] = {}
        self._default: dict[str, list[Leaves]] = {}

    def kind(self, state_id: str) -> StateKind:
        return self.states[state_id].kind

    def children(self, state_id: str) -> list[str]:
        """Non-history children (regions of a parallel state, sub-states of a compound one)."""
        return [c.id for c in self.states[state_id].children if c.kind is not StateKind.HISTORY]

    def is_leaf(self, state_id: str) -> bool:
        return self.kind(state_id) in (StateKind.ATOMIC, StateKind.FINAL)

    def leaves(self) -> list[str]:
        return [s.id for s in walk_states(self.chart.states) if self.is_leaf(s.id)]

    def top(self) -> list[str]:
        return [s.id for s in self.chart.states if s.kind is not StateKind.HISTORY]

    def within(self, state_id: str, ancestor: str | None) -> bool:
        """``state_id`` is ``ancestor`` or below it (``None`` is the chart's root)."""
        if ancestor is None:
            return True
        current: str | None = state_id
        while current is not None:
            if current == ancestor:
                return True
            current = self.parent[current]
        return False

    def closure(self, leaves: Iterable[str]) -> set[str]:
        """The leaves and all their ancestors: the full configuration."""
        result: set[str] = set()
        for leaf in leaves:
            result.add(leaf)
            result.update(self.index.ancestors(leaf))
        return result

    def child_toward(self, ancestor: str | None, state_id: str) -> str:
        """The child of ``ancestor`` (or the top-level state) on the way to ``state_id``."""
        current = state_id
        while self.parent[current] != ancestor:
            parent = self.parent[current]
            assert parent is not None, f"{state_id} is not below {ancestor}"
            current = parent
        return current

    # -- configurations -----------------------------------------------------------

    def leafconfs(self, state_id: str) -> list[Leaves]:
        """Every leaf configuration of ``state_id`` while it is active."""
        if state_id not in self._leafconfs:
            kind = self.kind(state_id)
            if kind in (StateKind.ATOMIC, StateKind.FINAL):
                result = [frozenset({state_id})]
            elif kind is StateKind.COMPOUND:
                result = [conf for c in self.children(state_id) for conf in self.leafconfs(c)]
            else:
                result = _product([self.leafconfs(c) for c in self.children(state_id)])
            self._leafconfs[state_id] = result
        return self._leafconfs[state_id]

    def leafconfs_with(self, root: str, state_id: str) -> list[Leaves]:
        """Leaf configurations of ``root`` in which ``state_id`` (below it) is active."""
        if root == state_id:
            return self.leafconfs(state_id)
        kind = self.kind(root)
        toward = self.child_toward(root, state_id)
        if kind is StateKind.COMPOUND:
            return self.leafconfs_with(toward, state_id)
        parts = [
            self.leafconfs_with(c, state_id) if c == toward else self.leafconfs(c)
            for c in self.children(root)
        ]
        return _product(parts)

    def done_confs(self, state_id: str) -> list[Leaves]:
        """Leaf configurations in which ``state_id`` is complete (SCXML ``isInFinalState``)."""
        kind = self.kind(state_id)
        if kind is StateKind.COMPOUND:
            return [
                frozenset({c}) for c in self.children(state_id) if self.kind(c) is StateKind.FINAL
            ]
        if kind is StateKind.PARALLEL:
            return _product([self.done_confs(c) for c in self.children(state_id)])
        return []

    def is_done(self, state_id: str, leaves: Leaves) -> bool:
        below = frozenset(leaf for leaf in leaves if self.within(leaf, state_id))
        return below in self.done_confs(state_id)

    def default_entry(self, state_id: str) -> list[Leaves]:
        """Leaf configurations entered when ``state_id`` is entered by default."""
        if state_id not in self._default:
            kind = self.kind(state_id)
            state = self.states[state_id]
            if kind in (StateKind.ATOMIC, StateKind.FINAL):
                result = [frozenset({state_id})]
            elif kind is StateKind.COMPOUND:
                assert state.initial is not None
                targets = frozenset(state.initial.targets) or frozenset(self.children(state_id)[:1])
                result = self.enter(state_id, targets)
            elif kind is StateKind.PARALLEL:
                result = _product([self.default_entry(c) for c in self.children(state_id)])
            else:
                result = self.history_restores(state_id)
            self._default[state_id] = result
        return self._default[state_id]

    def enter(self, root: str, targets: frozenset[str]) -> list[Leaves]:
        """Leaf configurations entered below ``root`` to reach ``targets`` (all below it)."""
        if root in targets:
            return self.default_entry(root)
        kind = self.kind(root)
        if kind is StateKind.COMPOUND or kind is StateKind.PARALLEL:
            histories = [t for t in targets if self.parent[t] == root]
            histories = [t for t in histories if self.kind(t) is StateKind.HISTORY]
            if histories:
                return _dedupe(self.history_restores(histories[0]))
        if kind is StateKind.COMPOUND:
            below = [t for t in targets if t != root]
            toward = self.child_toward(root, min(below, key=self.order.__getitem__))
            return self.enter(toward, frozenset(t for t in below if self.within(t, toward)))
        if kind is StateKind.PARALLEL:
            parts = []
            for region in self.children(root):
                inside = frozenset(t for t in targets if self.within(t, region))
                parts.append(self.enter(region, inside) if inside else self.default_entry(region))
            return _product(parts)
        return [frozenset({root})]

    def history_restores(self, history_id: str) -> list[Leaves]:
        """What entering a history state may restore (the approximation, see the module)."""
        state = self.states[history_id]
        parent = self.parent[history_id]
        assert parent is not None
        restores: list[Leaves] = []
        if self.kind(parent) is StateKind.PARALLEL and state.history is not HistoryKind.DEEP:
            restores.extend(self.default_entry(parent))
        elif state.history is HistoryKind.DEEP:
            restores.extend(self.leafconfs(parent))
        else:
            for child in self.children(parent):
                restores.extend(self.default_entry(child))
        if state.transitions and state.transitions[0].targets:
            restores.extend(self.enter(parent, frozenset(state.transitions[0].targets)))
        return _dedupe(restores)

    # -- transitions ----------------------------------------------------------------

    def domain(self, source: str, transition: Transition) -> str | None:
        """SCXML's transition domain (``None``: the root)."""
        targets = transition.targets
        if (
            transition.kind is TransitionKind.INTERNAL
            and self.kind(source) is StateKind.COMPOUND
            and all(t != source and self.within(t, source) for t in targets)
        ):
            return source
        for ancestor in self.index.ancestors(source):
            if self.kind(ancestor) is StateKind.COMPOUND and all(
                t != ancestor and self.within(t, ancestor) for t in targets
            ):
                return ancestor
        return None

    def triggers(self, source: str, index: int) -> tuple[str, ...]:
        """The descriptors a transition reacts to; a timer's is its event name."""
        transition = self.states[source].transitions[index]
        if transition.timer is not None:
            return (f"{TIMER_PREFIX}{source}.{index}",)
        return tuple(_descriptor(e) for e in transition.events)

    def eventless_exit(self, state_id: str) -> bool:
        """Does ``state_id`` have an unguarded eventless transition that changes state?"""
        return any(
            not t.events and t.timer is None and t.guard is None and t.targets
            for t in self.states[state_id].transitions
        )

    def selectable(self, source: str, index: int, leaves: Leaves) -> bool:
        """Can the engine select this transition in ``leaves``, guards being free?

        False when, for every active atomic state below ``source``, an unguarded
        transition met earlier on the way up (descendants first, then document
        order) always takes the same events.
        """
        eventless = not self.triggers(source, index)
        names = self.triggers(source, index)
        for leaf in leaves:
            if not self.within(leaf, source):
                continue
            chain = [leaf, *self.index.ancestors(leaf)]
            blocked = False
            for state_id in chain[: chain.index(source) + 1]:
                for k, other in enumerate(self.states[state_id].transitions):
                    if state_id == source and k == index:
                        break
                    if other.guard is not None:
                        continue
                    other_names = self.triggers(state_id, k)
                    if eventless:
                        blocked = not other_names
                    else:
                        blocked = bool(other_names) and all(
                            any(_covers(d, n) for d in other_names) for n in names
                        )
                    if blocked:
                        break
                if blocked:
                    break
            if not blocked:
                return True
        return False


def _product(parts: list[list[Leaves]]) -> list[Leaves]:
    return [frozenset().union(*combo) for combo in itertools.product(*parts)]


def _dedupe(confs: Iterable[Leaves]) -> list[Leaves]:
    return list(dict.fromkeys(confs))


# --------------------------------------------------------------------------- building


_DURATION = re.compile(r'^duration\("(\d+(?:\.\d+)?)s"\)$')


def _trigger_label(transition: Transition) -> str:
    if transition.timer is not None:
        source = transition.timer.expr.source.strip()
        match = _DURATION.match(source)
        if transition.timer.kind is TimerKind.AFTER:
            return "after " + (format_duration(float(match.group(1))) if match else source)
        return f"at {source}"
    return " ".join(transition.events) or "always"


@dataclass
class _Scope:
    """One session: the workflow itself or one (or all counted) child(ren) of an invoke."""

    tree: _Tree
    prefix: str
    places: dict[str, str] = field(default_factory=dict)  # state id -> place id
    invokes: dict[str, list[InvokeInfo]] = field(default_factory=dict)  # state id -> its invokes


class _Builder:
    def __init__(self, chart: Chart, width: int, max_variants: int) -> None:
        self.chart = chart
        self.width = width
        self.max_variants = max_variants
        self.places: dict[str, Place] = {}
        self.place_origin: dict[str, PlaceOrigin] = {}
        self.transitions: list[NetTransition] = []
        self.origins: dict[str, NetTransitionOrigin] = {}
        self.arcs: list[Arc] = []
        self.state_places: dict[tuple[str, str], str] = {}
        self.variants: dict[tuple[str, str, int], tuple[str, ...]] = {}
        self.invoke_infos: list[InvokeInfo] = []
        self.scopes: dict[str, _Scope] = {}
        self.used_ids: set[str] = set()

    # -- ids ----------------------------------------------------------------------------

    def fresh(self, wanted: str) -> str:
        candidate = wanted
        while candidate in self.used_ids:
            candidate += "_"
        self.used_ids.add(candidate)
        return candidate

    def add_place(self, wanted: str, name: str, origin: PlaceOrigin, span: Span) -> str:
        place_id = self.fresh(wanted)
        self.places[place_id] = Place(place_id, name, 0, span)
        self.place_origin[place_id] = origin
        return place_id

    def add_transition(
        self,
        wanted: str,
        name: str,
        origin: NetTransitionOrigin,
        pre: Mapping[str, int],
        post: Mapping[str, int],
        span: Span,
    ) -> str:
        transition_id = self.fresh(wanted)
        self.transitions.append(NetTransition(transition_id, name, span))
        self.origins[transition_id] = origin
        for place, weight in sorted(pre.items()):
            if weight:
                self.arcs.append(Arc(place, transition_id, weight, span=span))
        for place, weight in sorted(post.items()):
            if weight:
                self.arcs.append(Arc(transition_id, place, weight, span=span))
        return transition_id

    # -- scopes -------------------------------------------------------------------------

    def make_scope(self, chart: Chart, prefix: str, label: str) -> _Scope:
        scope = _Scope(_Tree(chart), prefix)
        self.scopes[prefix] = scope
        tree = scope.tree
        for leaf in tree.leaves():
            state = tree.states[leaf]
            final = tree.parent[leaf] is None and state.kind is StateKind.FINAL
            name = leaf if not prefix else f"{label} › {leaf}"
            place = self.add_place(
                prefix + leaf, name, PlaceOrigin("state", prefix, leaf, final=final), state.span
            )
            scope.places[leaf] = place
            self.state_places[(prefix, leaf)] = place
        for state in walk_states(chart.states):
            for k, invoke in enumerate(state.invokes):
                info = self.make_invoke(scope, state, k, invoke)
                if self.handled_in_place(tree, info):
                    over = self.add_place(
                        f"{info.joined[: -len('.joined')]}.over",
                        f"{info.invoke} handled",
                        PlaceOrigin("over", scope.prefix, state.id, info.invoke),
                        invoke.span,
                    )
                    self.invoke_infos[-1] = info = replace(info, over=over)
                scope.invokes.setdefault(state.id, []).append(info)
        return scope

    @staticmethod
    def handled_in_place(tree: _Tree, info: InvokeInfo) -> bool:
        """Does a ``done.invoke`` transition leave the invoking state active?"""
        name = f"done.invoke.{info.invoke}"
        for state in walk_states(tree.chart.states):
            if state.kind is StateKind.HISTORY:
                continue
            for transition in state.transitions:
                if not transition.targets or name not in transition.events:
                    continue
                domain = tree.domain(state.id, transition)
                exit_root = state.id if domain == state.id else tree.child_toward(domain, state.id)
                if not tree.within(info.state, exit_root) or info.state == domain:
                    return True
        return False

    def make_invoke(self, scope: _Scope, state: State, k: int, invoke: Invoke) -> InvokeInfo:
        invoke_id = invoke.id or f"{state.id}.invoke{k}"
        child = invoke.chart
        width = self.width if invoke.foreach is not None else 1
        label = f"{invoke_id}[*]" if invoke.foreach is not None else invoke_id
        if child is None:  # nothing to run: the invoke fails at run time
            scopes: tuple[str, ...] = ()
            counted = True
        else:
            sequential = all(
                s.kind is not StateKind.PARALLEL and not s.invokes
                for s in walk_states(child.states)
            )
            counted = sequential or width == 1
            base = scope.prefix + invoke_id
            if counted:
                scopes = (self.make_scope(child, self.fresh_prefix(base + "."), label).prefix,)
            else:
                scopes = tuple(
                    self.make_scope(
                        child, self.fresh_prefix(f"{base}.{j}."), f"{invoke_id}[{j}]"
                    ).prefix
                    for j in range(1, width + 1)
                )
        joined = self.add_place(
            f"{scope.prefix}{invoke_id}.joined",
            f"{label} joined",
            PlaceOrigin("joined", scope.prefix, state.id, invoke_id),
            invoke.span,
        )
        info = InvokeInfo(scope.prefix, state.id, invoke_id, width, counted, scopes, joined)
        self.invoke_infos.append(info)
        return info

    def fresh_prefix(self, wanted: str) -> str:
        candidate = wanted
        while candidate in self.scopes:
            candidate = candidate[:-1] + "_."
        return candidate

    # -- tokens -------------------------------------------------------------------------

    def tokens(self, scope: _Scope, leaves: Leaves) -> Counter[str]:
        return Counter(scope.places[leaf] for leaf in leaves)

    def initial_tokens(self, scope: _Scope) -> list[Counter[str]]:
        """Tokens of a session that has just started (its initial configuration)."""
        tree = scope.tree
        targets = frozenset(self.chart_initial_targets(tree))
        root = tree.child_toward(None, min(targets, key=tree.order.__getitem__))
        result = []
        for leaves in tree.enter(root, targets):
            for spawned in self.spawn(scope, tree.closure(leaves)):
                result.append(self.tokens(scope, leaves) + spawned)
        return result

    @staticmethod
    def chart_initial_targets(tree: _Tree) -> tuple[str, ...]:
        return tree.chart.initial.targets or tuple(tree.top()[:1])

    def spawn(self, scope: _Scope, entered: Iterable[str]) -> list[Counter[str]]:
        """Child tokens put down when the invoking states ``entered`` are entered."""
        options: list[list[Counter[str]]] = []
        for state_id in sorted(entered, key=scope.tree.order.__getitem__):
            for info in scope.invokes.get(state_id, ()):
                options.append(self.invoke_start(info))
        return [sum(combo, Counter()) for combo in itertools.product(*options)]

    def invoke_start(self, info: InvokeInfo) -> list[Counter[str]]:
        if not info.scopes:
            return [Counter({info.joined: 1})]  # no child: "done" at once (as an error)
        per_child = [self.initial_tokens(self.scopes[prefix]) for prefix in info.scopes]
        if info.counted:
            per_child = per_child * info.width
        return [sum(combo, Counter()) for combo in itertools.product(*per_child)]

    def session_tokens(self, scope: _Scope) -> list[tuple[Counter[str], bool]]:
        """Every token set a running child session may hold, and whether it has completed."""
        tree = scope.tree
        result: list[tuple[Counter[str], bool]] = []
        for top in tree.top():
            for leaves in tree.leafconfs(top):
                completed = any(
                    tree.parent[leaf] is None and tree.kind(leaf) is StateKind.FINAL
                    for leaf in leaves
                )
                for children in self.running(scope, tree.closure(leaves)):
                    result.append((self.tokens(scope, leaves) + children, completed))
        return result

    def running(
        self, scope: _Scope, active: Iterable[str], fixed: str | None = None
    ) -> list[Counter[str]]:
        """Tokens of the invokes of ``active`` states in any of their configurations.

        ``fixed``: an invoke id whose ``joined`` token is taken (``done.invoke``).
        """
        options: list[list[Counter[str]]] = []
        for state_id in sorted(active, key=scope.tree.order.__getitem__):
            for info in scope.invokes.get(state_id, ()):
                if info.invoke == fixed:
                    options.append([Counter({info.joined: 1})])
                else:
                    options.append(self.invoke_states(info))
        return [sum(combo, Counter()) for combo in itertools.product(*options)]

    def invoke_states(self, info: InvokeInfo) -> list[Counter[str]]:
        """What an invoke may hold while its state is active: running children, ``joined``
        or ``over`` — never nothing, so that a transition cannot leave children behind."""
        result = [Counter({info.joined: 1})]
        if info.over is not None:
            result.append(Counter({info.over: 1}))
        for tokens, _ in self.children_configurations(info):
            result.append(tokens)
        return _dedupe_counters(result)

    def children_configurations(self, info: InvokeInfo) -> list[tuple[Counter[str], int]]:
        """Every token set of an invoke's running children, with how many have completed."""
        if not info.scopes:
            return []
        sessions = [self.session_tokens(self.scopes[prefix]) for prefix in info.scopes]
        combos: Iterable[tuple[tuple[Counter[str], bool], ...]]
        if info.counted:
            combos = itertools.combinations_with_replacement(sessions[0], info.width)
        else:
            combos = itertools.product(*sessions)
        result = []
        for combo in combos:
            tokens = sum((tokens for tokens, _ in combo), Counter())
            result.append((tokens, sum(1 for _, completed in combo if completed)))
            if len(result) > self.max_variants:
                raise TranslationError(
                    f"the children of {info.invoke!r} have more than {self.max_variants} "
                    "configurations",
                    self.scopes[info.scopes[0]].tree.chart.span,
                    hint="lower fanout_width or simplify the child workflow",
                )
        return result

    # -- the net ------------------------------------------------------------------------

    def build(self) -> Translation:
        chart = self.chart
        source = self.add_place("i", "start", PlaceOrigin("source"), chart.span)
        self.places[source] = Place(source, "start", 1, chart.span)
        top = self.make_scope(chart, "", chart.name)
        tree = top.tree
        finals = [s for s in tree.top() if tree.kind(s) is StateKind.FINAL]
        sink = self.add_place("o", "completed", PlaceOrigin("sink"), chart.span) if finals else None
        initial = self.initial_tokens(top)
        for n, tokens in enumerate(initial):
            self.add_transition(
                "start" if len(initial) == 1 else f"start~{n + 1}",
                f"start {chart.name}",
                NetTransitionOrigin("start", urgent=True),
                {source: 1},
                tokens,
                chart.initial.span if chart.initial.span is not NO_SPAN else chart.span,
            )
        for final in finals:
            assert sink is not None
            self.add_transition(
                f"finish:{final}",
                f"{final} completes {chart.name}",
                NetTransitionOrigin("finish", state=final, urgent=True),
                {top.places[final]: 1},
                {sink: 1},
                tree.states[final].span,
            )
        for prefix in list(self.scopes):
            self.scope_transitions(self.scopes[prefix])
        for info in self.invoke_infos:
            self.join_transitions(info)
        net = Net(
            chart.name,
            tuple(self.places.values()),
            tuple(self.transitions),
            tuple(self.arcs),
            name=f"{chart.name} (control flow)",
            span=chart.span,
        )
        return Translation(
            chart,
            net,
            dict(self.place_origin),
            dict(self.origins),
            tuple(self.invoke_infos),
            {prefix: scope.tree.chart for prefix, scope in self.scopes.items()},
            source,
            sink,
            self.width,
            dict(self.state_places),
            dict(self.variants),
        )

    def scope_transitions(self, scope: _Scope) -> None:
        tree = scope.tree
        for state in walk_states(tree.chart.states):
            if state.kind is StateKind.HISTORY:
                continue
            for k, transition in enumerate(state.transitions):
                found = list(self.variants_of(scope, state, k)) if transition.targets else []
                ids = []
                for n, (pre, post, urgent) in enumerate(found):
                    wanted = f"{scope.prefix}{state.id}#{k}"
                    ids.append(
                        self.add_transition(
                            wanted if len(found) == 1 else f"{wanted}~{n + 1}",
                            self.transition_name(scope, state, transition),
                            NetTransitionOrigin(
                                "transition", scope.prefix, state.id, k, n + 1, urgent=urgent
                            ),
                            pre,
                            post,
                            transition.span,
                        )
                    )
                self.variants[(scope.prefix, state.id, k)] = tuple(ids)

    @staticmethod
    def transition_name(scope: _Scope, state: State, transition: Transition) -> str:
        where = f"{scope.prefix}" if scope.prefix else ""
        text = f"{where}{state.id} → {' '.join(transition.targets)} on {_trigger_label(transition)}"
        if transition.guard is not None:
            text += f" [{transition.guard.source}]"
        return text

    def variants_of(
        self, scope: _Scope, state: State, index: int
    ) -> Iterator[tuple[Counter[str], Counter[str], bool]]:
        """(tokens taken, tokens put, urgent) for each variant of one chart transition."""
        tree = scope.tree
        transition = state.transitions[index]
        source = state.id
        domain = tree.domain(source, transition)
        exit_root = source if domain == source else tree.child_toward(domain, source)
        targets = frozenset(transition.targets)
        first = min(targets, key=tree.order.__getitem__)
        entry_root = tree.child_toward(domain, first)
        entries = tree.enter(entry_root, targets)

        names = tree.triggers(source, index)
        eventless = not names
        done_states: list[str] = []
        done_invoke: str | None = None
        free = eventless or transition.timer is not None
        for name in names:
            if name.startswith("done.state.") and name[len("done.state.") :] in tree.states:
                done_states.append(name[len("done.state.") :])
            elif name.startswith("done.invoke."):
                done_invoke = name[len("done.invoke.") :]
            elif name not in ("done.state", "done.invoke"):
                free = True
        if not free and not done_states and done_invoke is None:
            return  # done.state of an unknown state: never happens
        urgent = transition.guard is None and (eventless or not free)

        exits = (
            tree.leafconfs(exit_root)
            if exit_root == source
            else tree.leafconfs_with(exit_root, source)
        )
        count = 0
        for leaves in exits:
            active = tree.closure(leaves)
            if not eventless and any(tree.eventless_exit(s) for s in active):
                continue  # the configuration is left at once: no event is processed in it
            if not tree.selectable(source, index, leaves):
                continue
            reads: list[Counter[str]] = []
            if free:
                reads.append(Counter())
            for done in done_states:
                if tree.within(done, exit_root) or done in active:
                    if tree.is_done(done, leaves):
                        reads.append(Counter())
                elif not tree.within(exit_root, done) and _compatible(tree, done, source):
                    reads.extend(self.tokens(scope, conf) for conf in tree.done_confs(done))
            fixed = None
            if done_invoke is not None and not free:
                fixed = done_invoke
                if not any(
                    i.invoke == done_invoke for s in active for i in scope.invokes.get(s, ())
                ):
                    continue  # the invoking state is not active here
                reads.append(Counter())
            if not reads:
                continue
            handled: Counter[str] = Counter()
            exited = [s for s in active if tree.within(s, exit_root) and s != domain]
            taken_options = self.running(scope, exited, fixed)
            if fixed is not None and not any(
                i.invoke == fixed for s in exited for i in scope.invokes.get(s, ())
            ):
                info = next(
                    i for s in active for i in scope.invokes.get(s, ()) if i.invoke == fixed
                )
                taken_options = [c + Counter({info.joined: 1}) for c in taken_options]
                if info.over is not None:
                    handled = Counter({info.over: 1})
            for read in _dedupe_counters(reads):
                for taken in taken_options:
                    for entry in entries:
                        entered = [s for s in tree.closure(entry) if tree.within(s, entry_root)]
                        for spawned in self.spawn(scope, entered):
                            count += 1
                            if count > self.max_variants:
                                raise TranslationError(
                                    f"transition of {source!r} becomes more than "
                                    f"{self.max_variants} net transitions",
                                    transition.span,
                                    hint="the product of the configurations it may leave "
                                    "(parallel regions, fan-out children) is too large; "
                                    "lower fanout_width or split the parallel state",
                                )
                            pre = self.tokens(scope, leaves) + taken + read
                            post = self.tokens(scope, entry) + spawned + read + handled
                            yield pre, post, urgent

    def join_transitions(self, info: InvokeInfo) -> None:
        scope = self.scopes[info.scope]
        state = scope.tree.states[info.state]
        invoke = next(
            inv
            for k, inv in enumerate(state.invokes)
            if (inv.id or f"{state.id}.invoke{k}") == info.invoke
        )
        join = invoke.join
        needed = info.width
        if join is not None and join.kind is JoinKind.ANY:
            needed = 1
        elif join is not None and join.kind is JoinKind.COUNT:
            literal = join.count.source.strip() if join.count is not None else ""
            needed = min(int(literal), info.width) if literal.isdigit() else 1
        timeout = join is not None and join.timeout is not None
        joins = timeouts = 0
        for tokens, completed in self.children_configurations(info):
            if completed >= needed:
                joins += 1
                kind: Literal["join", "timeout"] = "join"
                number = joins
            elif timeout:
                timeouts += 1
                kind = "timeout"
                number = timeouts
            else:
                continue
            what = "join" if kind == "join" else "join timeout"
            self.add_transition(
                f"{info.scope}{info.invoke}.{kind}~{number}",
                f"{info.invoke}: {what}",
                NetTransitionOrigin(
                    kind,
                    info.scope,
                    info.state,
                    variant=number,
                    invoke=info.invoke,
                    urgent=kind == "join",
                ),
                tokens,
                {info.joined: 1},
                (join.span if join is not None and join.span is not NO_SPAN else invoke.span),
            )


def _compatible(tree: _Tree, a: str, b: str) -> bool:
    """Can states ``a`` and ``b`` be active at the same time?"""
    if tree.within(a, b) or tree.within(b, a):
        return True
    ancestors_b = set(tree.index.ancestors(b))
    for ancestor in tree.index.ancestors(a):
        if ancestor in ancestors_b:
            return tree.kind(ancestor) is StateKind.PARALLEL
    return False


def _dedupe_counters(counters: Iterable[Counter[str]]) -> list[Counter[str]]:
    seen: dict[tuple[tuple[str, int], ...], Counter[str]] = {}
    for counter in counters:
        key = tuple(sorted((k, v) for k, v in counter.items() if v))
        seen.setdefault(key, counter)
    return list(seen.values())
