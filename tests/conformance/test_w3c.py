"""The W3C SCXML 1.0 conformance suite, converted to the cel datamodel, run on the engine.

Each automatic test of the manifest is one pytest case: load the converted
chart with the SCXML reader, start it, then deliver its timers in virtual time
until it completes; it passes when it completes in the final state ``pass``.
Tests that cannot pass are marked (strict xfail) with the reason; see
docs/conformance.md for the figures.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from autoflow.model.io.scxml import read_scxml_file
from autoflow.sim import engine

from .convert import GENERATED, TXML, convert_text

HERE = Path(__file__).parent
START = datetime(2026, 1, 1, tzinfo=UTC)
MAX_TIMERS = 1000

# Mandatory tests that do not pass, and why.
KNOWN_FAILURES = {
    "216": "<invoke srcexpr> must read a file at run time; the engine is pure (no I/O)",
    "302": "<script>: the cel datamodel has no scripting (autoflow rejects <script>)",
    "303": "<script>: the cel datamodel has no scripting (autoflow rejects <script>)",
    "304": "<script>: the cel datamodel has no scripting (autoflow rejects <script>)",
    "530": "<assign> of inline XML (a chart) to a variable: CEL has no XML values",
}


def _manifest() -> list[tuple[str, str, bool, str]]:
    root = ET.parse(HERE / "manifest.xml").getroot()
    tests = []
    for test in root.iter("test"):
        start = test.find("start")
        assert start is not None
        uri = start.get("uri", "")
        tests.append(
            (test.get("id", ""), test.get("conformance", ""), test.get("manual") == "true", uri)
        )
    return tests


def _not_applicable(source: str) -> str | None:
    """Why an optional test does not apply to a cel processor without HTTP, or None."""
    if 'datamodel="ecmascript"' in source:
        return "optional, ECMAScript datamodel only"
    if 'datamodel="xpath"' in source:
        return "optional, XPath datamodel only"
    if "BasicHTTP" in source or "basichttp" in source:
        return "optional, needs the Basic HTTP Event I/O Processor (network I/O)"
    return None


def _cases() -> list[object]:
    cases: list[object] = []
    for test_id, conformance, manual, uri in _manifest():
        name = Path(uri).stem
        marks: list[pytest.MarkDecorator] = []
        if manual:
            marks.append(pytest.mark.skip(reason="manual test (a person judges the log)"))
        elif conformance == "optional":
            reason = _not_applicable((TXML / f"{name}.txml").read_text())
            if reason:
                marks.append(pytest.mark.skip(reason=reason))
        if test_id in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(reason=KNOWN_FAILURES[test_id], strict=True))
        cases.append(pytest.param(name, id=f"{conformance}-{test_id}", marks=marks))
    return cases


def run_to_completion(path: Path) -> engine.Snapshot:
    chart = read_scxml_file(str(path))
    snapshot = engine.start(chart, START).snapshot
    for _ in range(MAX_TIMERS):
        due = engine.next_due(snapshot)
        if snapshot.done or due is None:
            break
        snapshot = engine.fire_due(chart, snapshot, due).snapshot
    return snapshot


@pytest.mark.parametrize("name", _cases())
def test_w3c(name: str) -> None:
    snapshot = run_to_completion(GENERATED / f"{name}.scxml")
    assert snapshot.done, f"did not complete; configuration {snapshot.configuration}"
    assert "pass" in snapshot.configuration, f"completed in {snapshot.configuration}"


def test_generated_charts_are_up_to_date() -> None:
    sources = sorted(TXML.glob("*.txml"))
    assert len(sources) > 200
    for source in sources:
        generated = GENERATED / f"{source.stem}.scxml"
        assert generated.read_text() == convert_text(source.read_text()), (
            f"{generated} is stale: run .venv/bin/python tests/conformance/convert.py"
        )


def test_mandatory_automatic_count() -> None:
    automatic = [t for t in _manifest() if t[1] == "mandatory" and not t[2]]
    assert len(automatic) == 159
