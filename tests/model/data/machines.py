"""python-statemachine classes that tests load into autoflow's IR."""

from __future__ import annotations

from statemachine import State, StateChart, StateMachine
from statemachine.state import HistoryState


class TrafficLight(StateMachine):
    """A traffic light that cycles on a timer."""

    green = State(initial=True)
    yellow = State()
    red = State()
    off = State(final=True)

    cycle = green.to(yellow) | yellow.to(red, cond="ready") | red.to(green, unless="blocked")
    shutdown = red.to(off, cond="ready and not blocked") | green.to(off, cond="count >= 3")
    retry = yellow.to.itself(internal=True)

    ready = True
    blocked = False
    count = 0


class Journey(StateChart):
    class shire(State.Compound):
        bag_end = State(initial=True)
        green_dragon = State()
        visit = bag_end.to(green_dragon)
        back = HistoryState(type="deep")

    class war(State.Parallel):
        class frodo(State.Compound):
            walking = State(initial=True)
            mordor = State(final=True)
            arrive = walking.to(mordor)

        class sam(State.Compound):
            cooking = State(initial=True)
            fed = State(final=True)
            eat = cooking.to(fed)

    road = State(final=True)
    leave = shire.to(war)
    done_state_war = war.to(road)
    regroup = shire.to.itself(internal=True)


class LambdaGuard(StateMachine):
    start = State(initial=True)
    stop = State(final=True)
    go = start.to(stop, cond=lambda: True)


class MethodGuard(StateMachine):
    start = State(initial=True)
    stop = State(final=True)
    go = start.to(stop, cond="is_ready")

    def is_ready(self) -> bool:
        return True


class NotAMachine:
    pass
