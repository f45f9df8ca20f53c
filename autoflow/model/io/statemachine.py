"""python-statemachine classes (``module:ClassName`` or ``path/file.py:ClassName``) as charts.

Teams that already describe workflows as python-statemachine ``StateChart`` or
``StateMachine`` classes can check, simulate and render them with autoflow.  The
reader imports the class and maps its structure to the IR: states (initial,
final, compound, parallel, shallow and deep history), transitions with their
events, targets and internal/external kind, and guards.

Guards are translated to CEL where their meaning is plain data: a condition
given as a string names attributes and combines them with ``and``/``or``/``not``
(or ``!``, ``^``, ``v``) and comparisons; ``unless`` negates.  A class attribute
with a plain value (``ready = False``) becomes a datamodel variable with that
initial value.  Conditions written as Python code (a method, property, lambda
or validator) cannot be translated and are reported with the class and the
transition.  Python callbacks (``on_enter_<state>``, ``on=``, ``before=``, ...)
are code too and are not imported: see docs/scxml.md.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import inspect
import os
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from autoflow.errors import ModelError, SchemaError, SourceError
from autoflow.model.ir import (
    Chart,
    Data,
    Expr,
    HistoryKind,
    State,
    StateKind,
    Transition,
    TransitionKind,
)
from autoflow.model.span import Span

__all__ = ["read_statemachine_class"]

_GUARD_HINT = (
    "autoflow translates conditions that read data: give cond/unless as a string naming "
    'boolean attributes (cond="approved", cond="ready and not blocked") and keep the '
    "attribute a plain value (approved = False) that your code updates"
)


def read_statemachine_class(target: str) -> Chart:
    """Import ``module:ClassName`` (or ``file.py:ClassName``) and read it as a chart."""
    module_part, _, class_name = target.rpartition(":")
    if not module_part or not class_name.isidentifier():
        raise SourceError(
            f"{target!r} does not name a class",
            Span(target),
            hint="write module.path:ClassName or path/to/file.py:ClassName",
        )
    module = _import(module_part, target)
    cls = getattr(module, class_name, None)
    if cls is None:
        raise SchemaError(
            f"module {module_part!r} has no class {class_name!r}",
            Span(getattr(module, "__file__", None) or target),
            hint=_class_names_hint(module),
        )
    from statemachine import StateChart

    if not (inspect.isclass(cls) and issubclass(cls, StateChart)):
        raise SchemaError(
            f"{target} is not a python-statemachine class (StateChart or StateMachine)",
            _class_span(cls, target),
            hint=_class_names_hint(module),
        )
    if not list(cls.states):
        raise SchemaError(
            f"{class_name} declares no states",
            _class_span(cls, target),
            hint="an abstract base class cannot be loaded; name a subclass that has states",
        )
    return _ClassReader(cls, target).chart()


# --------------------------------------------------------------------------- import


@contextmanager
def _cwd_on_path() -> Iterator[None]:
    """Import like ``python -m``: the current directory comes first on sys.path."""
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        yield
    finally:
        if added and cwd in sys.path:
            sys.path.remove(cwd)


def _import(module_part: str, target: str) -> Any:
    is_file = module_part.endswith(".py") or "/" in module_part or os.sep in module_part
    if is_file:
        path = Path(module_part)
        if not path.is_file():
            raise SourceError(
                f"cannot import {module_part!r}: no such file",
                Span(module_part),
                hint="give an existing path/to/file.py:ClassName, or a module:ClassName",
            )
        digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        stem = re.sub(r"\W", "_", path.stem)
        name = f"_autoflow_statemachine_{stem}_{digest}"
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:  # pragma: no cover - .py files always load
            raise SourceError(f"cannot import {module_part!r}", Span(module_part))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            with _cwd_on_path():
                spec.loader.exec_module(module)
        except BaseException as exc:
            sys.modules.pop(name, None)
            raise _import_error(exc, module_part, str(path)) from exc
        return module
    try:
        with _cwd_on_path():
            return importlib.import_module(module_part)
    except ModuleNotFoundError as exc:
        if exc.name and module_part.startswith(exc.name):
            raise SourceError(
                f"cannot import module {module_part!r}: no module named {exc.name!r}",
                Span(target),
                hint="run autoflow from the directory that contains the package (it is "
                "added to the import path), install the package, or give a file path: "
                "path/to/file.py:ClassName",
            ) from exc
        raise _import_error(exc, module_part, None) from exc
    except BaseException as exc:
        raise _import_error(exc, module_part, None) from exc


def _import_error(exc: BaseException, module_part: str, path: str | None) -> ModelError:
    """A readable error for an exception raised while importing the module."""
    if isinstance(exc, KeyboardInterrupt):
        raise exc
    if isinstance(exc, SyntaxError) and exc.filename:
        return SourceError(
            f"cannot import module {module_part!r}: {exc.msg}",
            Span(exc.filename, exc.lineno or 0, exc.offset or 0),
        )
    span = Span(path or module_part)
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename and Path(frame.filename).name != "<frozen importlib._bootstrap>":
            if path is not None and Path(frame.filename).resolve() != Path(path).resolve():
                continue
            if frame.filename.startswith("<") or "site-packages" in frame.filename:
                continue
            span = Span(frame.filename, frame.lineno or 0, 1)
            break
    from statemachine.exceptions import InvalidDefinition

    if isinstance(exc, InvalidDefinition):
        return SchemaError(
            f"python-statemachine rejects a class in {module_part!r}: {exc}",
            span,
        )
    return SourceError(
        f"cannot import module {module_part!r}: {type(exc).__name__}: {exc}",
        span,
    )


def _class_names_hint(module: Any) -> str | None:
    from statemachine import StateChart

    names = sorted(
        name
        for name, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, StateChart) and list(value.states)
    )
    return f"statechart classes in the module: {', '.join(names)}" if names else None


def _class_span(cls: Any, fallback: str) -> Span:
    try:
        path = inspect.getsourcefile(cls)
        _, line = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return Span(fallback)
    return Span(path or fallback, line, 1)


# --------------------------------------------------------------------------- reading


class _ClassReader:
    def __init__(self, cls: Any, target: str) -> None:
        self.cls = cls
        self.target = target
        self.span = _class_span(cls, target)
        self.lines: list[str] = []
        if self.span.line > 0:
            try:
                self.lines, _ = inspect.getsourcelines(cls)
            except (OSError, TypeError):  # pragma: no cover - span found means source found
                self.lines = []
        self.data: dict[str, Data] = {}

    def chart(self) -> Chart:
        states = tuple(self.state(state) for state in self.cls.states)
        initial_state = getattr(self.cls, "initial_state", None)
        first = initial_state.id if initial_state is not None else states[0].id
        doc = self.cls.__dict__.get("__doc__")
        return Chart(
            name=self.cls.__name__,
            states=states,
            initial=Transition(targets=(first,), span=self.span),
            datamodel=tuple(self.data.values()),
            description=inspect.cleandoc(doc) if doc else None,
            span=self.span,
        )

    def locate(self, name: str) -> Span:
        """The line of ``name = ...`` or ``class name`` inside the class body."""
        pattern = re.compile(rf"^(\s*)(?:class\s+{re.escape(name)}\b|{re.escape(name)}\s*=)")
        for offset, line in enumerate(self.lines):
            match = pattern.match(line)
            if match:
                return Span(self.span.path, self.span.line + offset, len(match.group(1)) + 1)
        return self.span

    def state(self, state: Any, default: tuple[str, ...] = ()) -> State:
        """``default``: where a history child goes before it has recorded anything."""
        from statemachine.state import HistoryState, HistoryType

        span = self.locate(state.id)
        if isinstance(state, HistoryState):
            deep = HistoryType(state.type).is_deep
            transitions = tuple(self.transitions(state))
            if not transitions and default:
                # python-statemachine enters the parent's initial state(s): say so explicitly.
                transitions = (Transition(targets=default, span=span),)
            return State(
                id=state.id,
                kind=StateKind.HISTORY,
                transitions=transitions,
                history=HistoryKind.DEEP if deep else HistoryKind.SHALLOW,
                span=span,
            )
        if state.parallel:
            default = tuple(child.id for child in state.states)
        else:
            default = tuple(
                target.id
                for transition in state.transitions
                if transition.initial
                for target in transition.targets
            ) or tuple(child.id for child in state.states[:1])
        children = tuple(self.state(child, default) for child in [*state.states, *state.history])
        transitions = tuple(self.transitions(state))
        if state.final:
            return State(id=state.id, kind=StateKind.FINAL, span=span)
        if state.parallel:
            return State(
                id=state.id,
                kind=StateKind.PARALLEL,
                children=children,
                transitions=transitions,
                span=span,
            )
        if state.states:
            return State(
                id=state.id,
                kind=StateKind.COMPOUND,
                children=children,
                initial=Transition(targets=default, span=span),
                transitions=transitions,
                span=span,
            )
        return State(id=state.id, kind=StateKind.ATOMIC, transitions=transitions, span=span)

    def transitions(self, state: Any) -> Iterator[Transition]:
        for transition in state.transitions:
            if transition.initial:
                continue
            events = tuple(event.id for event in transition.events if event._has_real_id)
            span = self.locate(events[0]) if events else self.locate(state.id)
            targets = tuple(target.id for target in transition.targets)
            kind = TransitionKind.EXTERNAL
            if transition.internal:
                if state.states:
                    kind = TransitionKind.INTERNAL
                elif targets == (state.id,):
                    # python-statemachine's internal self-transition on an atomic state runs
                    # its actions without leaving the state: SCXML's targetless transition.
                    targets = ()
            yield Transition(
                events=events,
                guard=self.guard(transition, events, span),
                targets=targets,
                kind=kind,
                span=span,
            )

    # ------------------------------------------------------------------ guards

    def describe(self, transition: Any, events: tuple[str, ...]) -> str:
        targets = ", ".join(target.id for target in transition.targets) or "(no target)"
        on = f" on {' '.join(events)}" if events else " (eventless)"
        return f"{self.cls.__name__}: transition {transition.source.id} -> {targets}{on}"

    def guard(self, transition: Any, events: tuple[str, ...], span: Span) -> Expr | None:
        from statemachine.callbacks import SpecReference

        for spec in transition.validators:
            if not spec.is_convention:
                raise SchemaError(
                    f"{self.describe(transition, events)}: validator {_name(spec.func)} is "
                    "Python code autoflow cannot translate",
                    span,
                    hint=_GUARD_HINT,
                )
        parts: list[str] = []
        for spec in transition.cond:
            if spec.is_convention:
                continue
            if spec.reference is not SpecReference.NAME or not isinstance(spec.func, str):
                raise SchemaError(
                    f"{self.describe(transition, events)}: condition {_name(spec.func)} is "
                    "Python code autoflow cannot translate to CEL",
                    span,
                    hint=_GUARD_HINT,
                )
            cel = self.condition(spec.func, transition, events, span)
            negated = f"!{cel}" if cel.isidentifier() else f"!({cel})"
            parts.append(cel if spec.expected_value else negated)
        if not parts:
            return None
        source = parts[0] if len(parts) == 1 else " && ".join(f"({part})" for part in parts)
        expr = Expr(source, span)
        expr.program  # noqa: B018 - compile now so a bad translation reports here
        return expr

    def condition(self, text: str, transition: Any, events: tuple[str, ...], span: Span) -> str:
        from statemachine.spec_parser import replace_operators

        try:
            tree = ast.parse(replace_operators(text).strip(), mode="eval")
        except SyntaxError as exc:
            raise SchemaError(
                f"{self.describe(transition, events)}: condition {text!r} is not a boolean "
                f"expression ({exc.msg})",
                span,
                hint=_GUARD_HINT,
            ) from exc
        return self.translate(tree.body, text, transition, events, span)

    def translate(
        self, node: ast.expr, text: str, transition: Any, events: tuple[str, ...], span: Span
    ) -> str:
        def again(child: ast.expr) -> str:
            inner = self.translate(child, text, transition, events, span)
            return f"({inner})" if isinstance(child, ast.BoolOp | ast.Compare) else inner

        if isinstance(node, ast.BoolOp):
            joiner = " && " if isinstance(node.op, ast.And) else " || "
            return joiner.join(again(value) for value in node.values)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return "!" + again(node.operand)
        if isinstance(node, ast.Compare):
            symbols = {
                ast.Eq: "==",
                ast.NotEq: "!=",
                ast.Lt: "<",
                ast.LtE: "<=",
                ast.Gt: ">",
                ast.GtE: ">=",
            }
            pieces: list[str] = []
            left = node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                symbol = symbols.get(type(op))
                if symbol is None:
                    break
                pieces.append(f"{again(left)} {symbol} {again(right)}")
                left = right
            else:
                return pieces[0] if len(pieces) == 1 else " && ".join(f"({p})" for p in pieces)
        if isinstance(node, ast.Constant) and (
            node.value is None or isinstance(node.value, bool | int | float | str)
        ):
            from autoflow.model.cel import cel_literal

            return cel_literal(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id, transition, events, span)
        raise SchemaError(
            f"{self.describe(transition, events)}: condition {text!r} uses "
            f"{ast.unparse(node)!r}, which autoflow cannot translate to CEL",
            span,
            hint=_GUARD_HINT,
        )

    def name(self, name: str, transition: Any, events: tuple[str, ...], span: Span) -> str:
        """A name in a condition: data (a plain class attribute) or a free variable."""
        from statemachine.state import State as MachineState

        missing = object()
        value = inspect.getattr_static(self.cls, name, missing)
        if value is missing:
            return name  # an attribute of the instance or model: a free variable
        if value is None or isinstance(value, bool | int | float | str):
            if name not in self.data:
                from autoflow.model.cel import cel_literal

                self.data[name] = Data(
                    id=name,
                    expr=Expr(cel_literal(value), self.locate(name)),
                    type=_cel_type(value),
                    span=self.locate(name),
                )
            return name
        what = "a state" if isinstance(value, MachineState) else f"the {_kind(value)} {name}"
        raise SchemaError(
            f"{self.describe(transition, events)}: condition {name!r} is {what}; Python code "
            "cannot be translated to CEL",
            span,
            hint=_GUARD_HINT,
        )


def _cel_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    return None


def _kind(value: Any) -> str:
    if isinstance(value, property):
        return "property"
    if isinstance(value, staticmethod | classmethod) or inspect.isfunction(value):
        return "method"
    return type(value).__name__ + " attribute"


def _name(func: Any) -> str:
    if isinstance(func, str):
        return repr(func)
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    return repr(name) if name else repr(func)
