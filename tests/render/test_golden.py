"""Golden files: the Mermaid and DOT of every example and fixture, byte for byte.

Regenerate after an intended change with ``AUTOFLOW_UPDATE_GOLDEN=1 .venv/bin/pytest
tests/render`` and review the diff like code.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from charts import CHARTS
from conftest import check_golden, data_models, example_models, load_model

from autoflow.render import build_graph, render


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_fixture_chart_matches_golden(name: str) -> None:
    graph = build_graph(CHARTS[name])
    check_golden(f"fixture-{name}.mmd", str(render(graph, "mermaid")))
    check_golden(f"fixture-{name}.dot", str(render(graph, "dot")))


@pytest.mark.parametrize("path", data_models(), ids=lambda p: p.name)
def test_data_model_matches_golden(path: Path) -> None:
    graph = build_graph(load_model(path))
    check_golden(f"data-{path.stem}.mmd", str(render(graph, "mermaid")))
    check_golden(f"data-{path.stem}.dot", str(render(graph, "dot")))


@pytest.mark.parametrize("path", example_models(), ids=lambda p: p.name)
def test_example_matches_golden(path: Path) -> None:
    graph = build_graph(load_model(path))
    check_golden(f"{path.stem}.mmd", str(render(graph, "mermaid")))
    check_golden(f"{path.stem}.dot", str(render(graph, "dot")))
