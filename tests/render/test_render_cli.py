"""``autoflow render`` through the CLI: formats, files, overlays, diff, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DATA
from typer.testing import CliRunner

from autoflow.cli import app

runner = CliRunner()
REVIEW = str(DATA / "review.scxml")
NET = str(DATA / "two-workers.pnml")
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is not installed"
)


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["render", *args])
    return result.exit_code, result.stdout, result.stderr


def test_mermaid_on_stdout_by_default() -> None:
    code, out, _ = run(REVIEW)
    assert code == 0
    assert out.startswith("stateDiagram-v2\n")
    assert 'state "in-review" as in_review {' in out
    assert "draft --> in_review : mr.ready" in out


def test_fence_wraps_mermaid_for_markdown() -> None:
    code, out, _ = run(REVIEW, "--fence")
    assert code == 0
    assert out.startswith("```mermaid\nstateDiagram-v2\n")
    assert out.endswith("\n```\n")


@pytest.mark.parametrize(
    ("suffix", "start"), [(".dot", "digraph"), (".gv", "digraph"), (".mmd", "stateDiagram-v2")]
)
def test_format_follows_the_output_extension(tmp_path: Path, suffix: str, start: str) -> None:
    target = tmp_path / f"review{suffix}"
    code, out, err = run(REVIEW, "-o", str(target))
    assert code == 0, err
    assert out == ""
    assert target.read_text().startswith(start)


def test_dot_has_clusters_and_dashed_parallel_regions() -> None:
    code, out, _ = run(REVIEW, "--format", "dot")
    assert code == 0
    assert 'label="in-review  ‖ parallel"' in out
    assert out.count('style="rounded,dashed"') == 2  # the two regions: code, pipeline
    assert "lhead=" in out  # arrows end at the parallel state's border


def test_unknown_format_and_extension_are_usage_errors(tmp_path: Path) -> None:
    assert run(REVIEW, "--format", "jpeg")[0] == 2
    code, _, err = run(REVIEW, "-o", str(tmp_path / "x.jpeg"))
    assert code == 2
    assert "cannot tell the format" in err
    code, _, err = run(REVIEW, "--format", "dot", "--fence")
    assert code == 2
    assert "--fence" in err


def test_bad_model_is_an_error_without_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken.scxml"
    broken.write_text("<scxml xmlns='http://www.w3.org/2005/07/scxml'><state id='a'>")
    code, _, err = run(str(broken))
    assert code == 2
    assert "broken.scxml" in err
    assert "Traceback" not in err


@needs_dot
def test_svg_and_png_through_graphviz(tmp_path: Path) -> None:
    svg, png = tmp_path / "review.svg", tmp_path / "review.png"
    assert run(REVIEW, "-o", str(svg))[0] == 0
    assert run(REVIEW, "-o", str(png))[0] == 0
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml")
    assert "<svg" in text
    assert ">discussing<" in text
    assert ">pipeline.retry<" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png.read_bytes()) > 5000


def test_png_to_stdout_is_refused() -> None:
    code, _, err = run(REVIEW, "--format", "png")
    assert code == 2
    assert "-o" in err


def test_without_graphviz_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    code, _, err = run(REVIEW, "-o", str(tmp_path / "x.svg"))
    assert code == 2
    assert "apt-get install graphviz" in err
    assert "brew install graphviz" in err
    assert not (tmp_path / "x.svg").exists()


def test_petri_net_places_transitions_weights_marking() -> None:
    code, out, _ = run(NET)
    assert code == 0
    assert out.startswith("flowchart LR\n")
    assert 'queue(("queue ●●●"))' in out
    assert 'take["take"]' in out
    assert 'queue -->|"2"| take' in out
    code, dot, _ = run(NET, "--format", "dot")
    assert code == 0
    assert "shape=circle" in dot
    assert "shape=box" in dot
    assert 'label="2"' in dot


# ------------------------------------------------------------------ overlays


def test_highlight_marks_states_and_their_ancestors() -> None:
    code, out, _ = run(REVIEW, "--highlight", "open,running")
    assert code == 0
    assert "class in_review,code,discussing,open,pipeline,running active" in out
    code, dot, _ = run(REVIEW, "--format", "dot", "--highlight", "open")
    assert dot.count('fillcolor="#ffe082"') == 1


def test_highlight_unknown_state_is_an_error_with_the_states_listed() -> None:
    code, _, err = run(REVIEW, "--highlight", "nope")
    assert code == 2
    assert "unknown state(s) nope" in err
    assert "draft" in err


def test_snapshot_configuration(tmp_path: Path) -> None:
    snapshot = tmp_path / "snap.json"
    snapshot.write_text(
        json.dumps(
            {"format": 1, "configuration": ["in-review", "code", "reading", "pipeline", "red"]}
        )
    )
    code, out, _ = run(REVIEW, "--snapshot", str(snapshot))
    assert code == 0
    assert "class in_review,code,reading,pipeline,red active" in out
    snapshot.write_text(json.dumps({"states": []}))
    code, _, err = run(REVIEW, "--snapshot", str(snapshot))
    assert code == 2
    assert '"configuration"' in err


def test_highlight_and_snapshot_together_is_a_usage_error(tmp_path: Path) -> None:
    assert run(REVIEW, "--highlight", "draft", "--snapshot", str(tmp_path / "s.json"))[0] == 2


TRACE = """\
{"at": "2026-03-02T09:00:00Z", "event": "mr.ready"}
{"at": "+1h", "event": "pipeline.failed"}
{"at": "+1h", "event": "pipeline.retry"}
{"at": "+1h", "event": "review.comment"}
{"at": "+1h", "event": "pipeline.success"}
"""


def test_trace_file_numbers_the_path(tmp_path: Path) -> None:
    trace = tmp_path / "review.jsonl"
    trace.write_text(TRACE)
    code, out, _ = run(REVIEW, "--trace", str(trace))
    assert code == 0
    numbered = sorted(line.strip() for line in out.splitlines() if " : (" in line)
    assert numbered == [
        "draft --> in_review : (1) mr.ready",
        "reading --> open : (4) review.comment",
        "red --> running : (3) pipeline.retry",
        "running --> green : (5) pipeline.success",
        "running --> red : (2) pipeline.failed / raise notify.author",
    ]


def test_counterexample_list_and_repeated_transitions(tmp_path: Path) -> None:
    trace = tmp_path / "counterexample.json"
    steps = ["mr.ready", "pipeline.failed", "pipeline.retry", "pipeline.failed"]
    trace.write_text(json.dumps([{"event": e} for e in steps]))
    code, dot, _ = run(REVIEW, "--format", "dot", "--trace", str(trace))
    assert code == 0
    assert 'label="(2,4) pipeline.failed / raise notify.author"' in dot
    assert 'label="(3) pipeline.retry"' in dot


def test_simulate_output_gives_trace_and_coverage(tmp_path: Path) -> None:
    trace = tmp_path / "review.jsonl"
    trace.write_text(TRACE)
    simulated = runner.invoke(app, ["simulate", REVIEW, str(trace), "--format", "json"])
    assert simulated.exit_code == 0, simulated.output
    report = tmp_path / "sim.json"
    report.write_text(simulated.stdout)
    code, dot, _ = run(REVIEW, "--format", "dot", "--coverage", str(report), "--trace", str(report))
    assert code == 0
    edges = [line for line in dot.splitlines() if "->" in line and "label=" in line]
    uncovered = [line for line in edges if 'style="dashed"' in line and 'color="#c62828"' in line]
    labels = sorted(line.split('label="')[1].split('"')[0] for line in uncovered)
    assert labels == [
        "done.state.in-review",
        "mr.closed",
        "review.approve [approvals + 1 >= 2]",
        "thread.resolved",
    ]
    assert 'label="(1) mr.ready"' in dot


def test_coverage_file_without_coverage_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    code, _, err = run(REVIEW, "--coverage", str(bad))
    assert code == 2
    assert "coverage" in err


def test_diff_colours_added_removed_changed(tmp_path: Path) -> None:
    old = tmp_path / "old.scxml"
    text = Path(REVIEW).read_text()
    old.write_text(
        text.replace(
            '<transition event="pipeline.retry" target="running"/>',
            '<transition event="pipeline.retry" target="running"/>\n'
            '<transition event="pipeline.cancel" target="running"/>',
        )
        .replace('cond="approvals + 1 >= 2"', 'cond="approvals + 1 >= 1"')
        .replace('<final id="closed"/>', '<final id="closed"/>\n<final id="abandoned"/>')
        .replace(
            '<transition event="mr.closed" target="closed"/>',
            '<transition event="mr.closed" target="closed"/>'
            '<transition event="mr.abandoned" target="abandoned"/>',
        )
        .replace('<transition event="review.comment" target="discussing"/>', "")
    )
    code, dot, err = run(REVIEW, "--format", "dot", "--diff", str(old))
    assert code == 0, err
    lines = dot.splitlines()

    def edge(label: str) -> str:
        return next(line for line in lines if f'label="{label}"' in line)

    assert 'color="#2e7d32"' in edge("review.comment")  # added
    assert 'color="#c62828"' in edge("pipeline.cancel")  # removed
    assert 'color="#ef6c00"' in edge("review.approve [approvals + 1 >= 2]")  # changed guard
    abandoned = next(line for line in lines if 'label="abandoned"' in line)
    assert 'fillcolor="#ffcdd2"' in abandoned  # a removed state is still drawn, in red
    code, mermaid, _ = run(REVIEW, "--diff", str(old))
    assert "reading --> open : + review.comment" in mermaid
    assert "class abandoned removed" in mermaid
