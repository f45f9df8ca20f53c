"""The statechart → Petri net translation: structure, names, spans, bounds, soundness.

How the net behaves compared with the engine is in test_translate_agreement.py;
here: what the net looks like and what the Petri-net analysis says about it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autoflow.check.petri import explore, soundness
from autoflow.model.io import load
from autoflow.model.io.yaml_reader import read_yaml_text
from autoflow.model.ir import Chart
from autoflow.model.net import is_workflow_net
from autoflow.model.translate import TranslationError, chart_to_net, translate

MODELS = sorted((Path(__file__).resolve().parents[2] / "models").glob("*.yaml"))


def chart(text: str, name: str = "chart") -> Chart:
    return read_yaml_text(text, f"<{name}.yaml>")


PARALLEL = """
workflow: release
states:
  prepare:
    on: {split: both}
  both:
    parallel: true
    on:
      done.state.both: merged
      abort: aborted
    states:
      build:
        states:
          compiling: {on: {compiled: built}}
          built: {type: final}
      review:
        states:
          waiting: {on: {approve: approved, reject: rejected}}
          rejected: {on: {revise: waiting}}
          approved: {type: final}
  merged: {type: final}
  aborted: {type: final}
"""


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_every_example_is_a_sound_workflow_net(path: Path) -> None:
    translation = translate(load(str(path)))
    net = translation.net
    assert is_workflow_net(net)
    result = soundness(net)
    assert result.sound, result.reason
    # every state of the workflow has a place that some reachable marking marks
    space = explore(net)
    marked = {place for n in range(space.states) for place in space.marking(n)}
    assert set(translation.state_places.values()) <= marked


def test_parallel_regions_are_concurrent_tokens() -> None:
    tr = translate(chart(PARALLEL))
    net = tr.net
    split = tr.net_transitions_of("prepare", 0)
    assert split == ("prepare#0",)
    assert dict(net.post("prepare#0")) == {"compiling": 1, "waiting": 1}
    # leaving the parallel state: one variant per configuration of the two regions
    abort = tr.net_transitions_of("both", 1)
    assert len(abort) == 2 * 3
    takes = {frozenset(net.pre(t)) for t in abort}
    assert frozenset({"built", "rejected"}) in takes
    # done.state.both synchronises the regions' final states, and is urgent
    (merge,) = tr.net_transitions_of("both", 0)
    assert dict(net.pre(merge)) == {"built": 1, "approved": 1}
    assert dict(net.post(merge)) == {"merged": 1}
    assert merge in tr.urgent
    space = explore(net)
    assert space.find({"compiling": 1, "rejected": 1}) is not None
    assert space.max_tokens_marking == 2
    assert soundness(net).sound


def test_names_and_spans_point_at_the_yaml() -> None:
    tr = translate(chart(PARALLEL, "release"))
    net = tr.net
    place = net.places[net.place_index["waiting"]]
    assert (place.span.path, place.span.line) == ("<release.yaml>", 18)
    (approve,) = tr.net_transitions_of("waiting", 0)
    transition = net.transitions[net.transition_index[approve]]
    assert transition.span.line == 18
    assert transition.name == "waiting → approved on approve"
    origin = tr.transitions[approve]
    assert (origin.kind, origin.state, origin.index, origin.chart_transition) == (
        "transition",
        "waiting",
        0,
        "waiting#0",
    )
    assert tr.places["waiting"].kind == "state"
    assert (tr.source, tr.sink) == ("i", "o")
    assert net.places[net.place_index["i"]].initial == 1


def test_guards_are_abstracted_timers_are_transitions() -> None:
    tr = translate(
        chart(
            """
workflow: guarded
data: {n: 0}
states:
  waiting:
    on:
      ping:
        - if: n > 100
          target: done
        - target: waiting
    after: {2d: expired}
  done: {type: final}
  expired: {type: final}
"""
        )
    )
    net = tr.net
    assert tr.net_transitions_of("waiting", 0) == ("waiting#0",)  # the guarded one
    assert tr.net_transitions_of("waiting", 2) == ("waiting#2",)
    assert net.transitions[net.transition_index["waiting#2"]].name == (
        "waiting → expired on after 2d"
    )
    assert "n > 100" in net.transitions[net.transition_index["waiting#0"]].label
    assert soundness(net).sound


def test_foreach_is_tokens_and_fanout_width_counts_them() -> None:
    retro = load(str(next(p for p in MODELS if p.stem == "retro-bot")))
    for width in (1, 2, 3):
        tr = translate(retro, fanout_width=width)
        (info,) = tr.invokes
        assert info.counted
        assert info.width == width
        (spawn,) = tr.net_transitions_of("list_members", 0)
        assert dict(tr.net.post(spawn)) == {"ask_each_member": 1, "ask_each_member.opening": width}
        space = explore(tr.net)
        assert space.max_tokens_place == width
        joins = [t for t, o in tr.transitions.items() if o.kind == "join"]
        # join: all — every child in one of the two final states
        assert all(sum(tr.net.pre(t).values()) == width for t in joins)
        assert len(joins) == width + 1
        assert soundness(tr.net).sound


def test_parallel_children_get_their_own_places() -> None:
    tr = translate(
        chart(
            """
workflow: fan
states:
  ask:
    foreach: items
    workflow:
      states:
        both:
          parallel: true
          on: {done.state.both: finished}
          states:
            a: {states: {a1: {on: {x: a2}}, a2: {type: final}}}
            b: {states: {b1: {on: {y: b2}}, b2: {type: final}}}
        finished: {type: final}
    on: {done.invoke.ask: end}
  end: {type: final}
"""
        )
    )
    (info,) = tr.invokes
    assert not info.counted
    assert len(info.scopes) == 2
    assert {"ask.1.a1", "ask.2.a1"} <= set(tr.net.place_index)
    assert soundness(tr.net).sound


def test_control_unreachable_state_is_an_unmarked_place() -> None:
    tr = translate(
        chart(
            """
workflow: orphaned
states:
  waiting: {on: {approve: approved}}
  orphan: {on: {approve: approved}}
  approved: {type: final}
"""
        )
    )
    space = explore(tr.net)
    marked = {place for n in range(space.states) for place in space.marking(n)}
    assert tr.place_of("waiting") in marked
    assert tr.place_of("orphan") not in marked
    assert not is_workflow_net(tr.net)  # the orphan is a second source place


def test_control_stuck_state_is_a_dead_marking() -> None:
    stuck = chart(
        """
workflow: stuck
states:
  waiting:
    on:
      approve: approved
      reject: limbo
  limbo: {}
  approved: {type: final}
"""
    )
    tr = translate(stuck)
    space = explore(tr.net)
    dead = [d for d in space.dead_markings if tr.sink not in d.marking]
    assert [(d.marking, d.firing_sequence) for d in dead] == [
        ({"limbo": 1}, ("start", "waiting#1"))
    ]
    assert not is_workflow_net(tr.net)  # limbo is a second sink place


def test_dead_variants_of_live_transitions_are_not_chart_defects() -> None:
    tr = translate(
        chart(
            """
workflow: sync
states:
  both:
    parallel: true
    on:
      cancel: end
      done.state.both: end
    states:
      a: {states: {a1: {on: {x: a2}}, a2: {type: final}}}
      b: {states: {b1: {on: {done.state.a: b2}}, b2: {type: final}}}
  end: {type: final}
"""
        )
    )
    result = soundness(tr.net)
    assert result.option_to_complete
    assert result.proper_completion
    # b moves only after a completed: leaving `both` from (a1, b2) never happens
    (dead,) = result.dead_transitions
    assert tr.net.pre(dead) == {"a1": 1, "b2": 1}
    assert tr.dead_chart_transitions(result.dead_transitions) == ()
    assert tr.dead_chart_transitions(tr.net_transitions_of("both", 0)) == ("both#0",)


def test_history_restores_every_recordable_child() -> None:
    tr = translate(
        chart(
            """
workflow: pausable
states:
  running:
    on: {pause: paused}
    states:
      step1: {on: {next: step2}}
      step2: {on: {next: finished}}
      resume: {type: history}
  paused:
    on: {resume: resume}
  finished: {type: final}
"""
        )
    )
    restores = tr.net_transitions_of("paused", 0)
    assert {next(iter(tr.net.post(t))) for t in restores} == {"step1", "step2"}


def test_too_many_variants_is_an_error_with_a_location() -> None:
    regions = "\n".join(
        f"      r{n}:\n        states:\n          r{n}a: {{on: {{e{n}: r{n}b}}}}\n"
        f"          r{n}b: {{on: {{f{n}: r{n}a}}}}"
        for n in range(8)
    )
    text = (
        "workflow: wide\nstates:\n  p:\n    parallel: true\n    on: {stop: end}\n"
        f"    states:\n{regions}\n  end: {{type: final}}\n"
    )
    wide = chart(text, "wide")
    assert len(translate(wide).net_transitions_of("p", 0)) == 2**8
    with pytest.raises(TranslationError) as caught:
        translate(wide, max_variants=100)
    assert caught.value.span is not None
    assert caught.value.span.line == 5
    assert "lower fanout_width" in (caught.value.hint or "")


def test_chart_to_net_is_the_translation_net() -> None:
    parallel = chart(PARALLEL)
    assert chart_to_net(parallel) == translate(parallel).net
    with pytest.raises(ValueError, match="fanout_width"):
        translate(parallel, fanout_width=0)
