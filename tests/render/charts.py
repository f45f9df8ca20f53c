"""Statecharts built directly as IR, covering every construct the renderer draws.

They do not depend on any reader, so the renderer is tested even while the
YAML and SCXML readers change; the examples in models/ are tested as well.
"""

from __future__ import annotations

from autoflow.model.ir import (
    Assign,
    Call,
    Chart,
    Expr,
    HistoryKind,
    Invoke,
    Join,
    Param,
    Raise,
    Send,
    State,
    StateKind,
    Timer,
    TimerKind,
    Transition,
)


def _t(*targets: str, **kwargs: object) -> Transition:
    return Transition(targets=targets, **kwargs)  # type: ignore[arg-type]


def atomic(state_id: str, *transitions: Transition, **kwargs: object) -> State:
    return State(state_id, StateKind.ATOMIC, transitions=transitions, **kwargs)  # type: ignore[arg-type]


def compound(
    state_id: str, *children: State, transitions: tuple[Transition, ...] = (), **kwargs: object
) -> State:
    return State(
        state_id,
        StateKind.COMPOUND,
        children=children,
        initial=_t(children[0].id),
        transitions=transitions,
        **kwargs,  # type: ignore[arg-type]
    )


def parallel(state_id: str, *regions: State, transitions: tuple[Transition, ...] = ()) -> State:
    return State(state_id, StateKind.PARALLEL, children=regions, transitions=transitions)


def final(state_id: str) -> State:
    return State(state_id, StateKind.FINAL)


def after(duration: str) -> Timer:
    return Timer(TimerKind.AFTER, Expr(duration))


def chart(name: str, *states: State) -> Chart:
    return Chart(name, states, initial=_t(states[0].id))


# A rollout: nested compound states inside parallel regions (the Mermaid crash),
# history, timers, guards, effects, ids with dashes and dots, targetless and
# eventless transitions, final states in regions and at the top.
ROLLOUT = chart(
    "rollout",
    atomic(
        "build",
        _t("release", events=("pipeline.success",), actions=(Call("gitlab.releases.create"),)),
        _t("failed", events=("pipeline.failed",)),
    ),
    atomic(
        "release",
        _t("soak", timer=after('duration("3600s")')),
        on_entry=((Call("notify", (Param("to", Expr("'sre'")),)),),),
    ),
    parallel(
        "soak",
        compound(
            "pre-prod.soak",
            atomic("warming", _t("observing", events=("metrics.ready",))),
            compound(
                "observing",
                atomic(
                    "steady",
                    _t(
                        "spiking",
                        events=("anomaly",),
                        guard=Expr("error_rate > 0.05 && traffic >= 100"),
                    ),
                ),
                atomic("spiking", _t("steady", events=("recovered",))),
                transitions=(_t("observing", events=("reset",)),),
            ),
            final("soak-done"),
            transitions=(_t("soak-done", timer=after('duration("86400s")')),),
        ),
        compound(
            "approvals",
            atomic(
                "waiting",
                _t("approved", events=("approve",), guard=Expr('user.role == "release-manager"')),
                _t(
                    events=("comment",),
                    actions=(Assign("comments", Expr("comments + 1")), Call("gitlab.notes.create")),
                ),
            ),
            final("approved"),
        ),
        transitions=(
            _t("production", events=("done.state.soak",)),
            _t("paused", events=("pause",), actions=(Raise("paused.notify"),)),
        ),
    ),
    compound(
        "paused",
        atomic("held", _t("soak", events=("resume",))),
        State(
            "paused-history", StateKind.HISTORY, history=HistoryKind.DEEP, transitions=(_t("held"),)
        ),
    ),
    compound(
        "production",
        atomic(
            "canary",
            _t(
                "widen",
                timer=after('duration("3600s")'),
                actions=(
                    Call("gitlab.deployments.update", id="widen"),
                    Send(event="progress", delay=Expr('duration("60s")')),
                    Call("notify"),
                    Call("http.request"),
                ),
            ),
        ),
        atomic(
            "widen",
            _t("canary", guard=Expr("percent < 100")),
            _t("done", guard=Expr("percent >= 100")),
        ),
        final("done"),
        invokes=(Invoke(id="watch", foreach=Expr("clusters"), item="cluster", join=Join()),),
    ),
    final("failed"),
)

# Awkward names: Mermaid keywords, digits, colons, quotes, entity-like text.
AWKWARD = chart(
    "awkward",
    atomic("end", _t("state", events=("go:now",), guard=Expr('x == "a;b" || y < 2 && z > 3'))),
    atomic("state", _t("1st-step", events=("#hash",), guard=Expr('a % 2 == 0 && m["k"] == `{}`'))),
    atomic(
        "1st-step",
        _t("note.v2", events=("done.effect.x",), actions=(Call("gitlab.issues.create"),)),
    ),
    atomic(
        "note.v2",
        _t(
            "end",
            timer=Timer(
                TimerKind.AT, Expr('timestamp("2026-03-02T09:00:00Z") + duration("3600s")')
            ),
        ),
    ),
)

CHARTS = {"rollout": ROLLOUT, "awkward": AWKWARD}
