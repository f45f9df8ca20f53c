"""Shared helpers of the render tests: the diagrams under test and the Mermaid harness."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
GOLDEN = HERE / "golden"
DATA = HERE / "data"
MERMAID_DIR = HERE / "mermaid"

#: Set to 1 to rewrite the golden files from the current output (then review the diff).
UPDATE_GOLDEN = os.environ.get("AUTOFLOW_UPDATE_GOLDEN") == "1"

sys.path.insert(0, str(HERE))


def example_models() -> list[Path]:
    return sorted((ROOT / "models").glob("*.yaml"))


def data_models() -> list[Path]:
    return sorted(p for p in DATA.iterdir() if p.suffix in (".scxml", ".pnml", ".yaml"))


def load_model(path: Path) -> Any:
    """Load a model file; skip (with the reason) only when its reader has not landed."""
    from autoflow.model.io import load

    try:
        return load(str(path))
    except ModuleNotFoundError as exc:  # pragma: no cover - only while a reader is missing
        pytest.skip(f"the reader for {path.suffix} is not available yet ({exc.name})")


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` with tests/render/golden/NAME (rewrite it with AUTOFLOW_UPDATE_GOLDEN=1)."""
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), (
        f"no golden file {path.relative_to(ROOT)}: run "
        "AUTOFLOW_UPDATE_GOLDEN=1 .venv/bin/pytest tests/render and review the new file"
    )
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs from its golden file; if the change is intended, regenerate with "
        "AUTOFLOW_UPDATE_GOLDEN=1 .venv/bin/pytest tests/render and review the diff"
    )


class MermaidHarness:
    """Renders Mermaid sources with the real mermaid package in headless Chromium."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp

    def render(self, diagrams: dict[str, str]) -> dict[str, dict[str, Any]]:
        source = self.tmp / "in.json"
        target = self.tmp / "out.json"
        source.write_text(
            json.dumps([{"name": name, "source": text} for name, text in diagrams.items()])
        )
        done = subprocess.run(
            ["node", str(MERMAID_DIR / "render.mjs"), str(source), str(target)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, (
            "the Mermaid harness failed (Chromium missing? apt-get install chromium):\n"
            + done.stderr
        )
        results = json.loads(target.read_text())
        return {item["name"]: item for item in results}


@pytest.fixture(scope="session")
def mermaid(tmp_path_factory: pytest.TempPathFactory) -> MermaidHarness:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the Mermaid output is not checked by mermaid itself")
    if not (MERMAID_DIR / "node_modules" / "mermaid").exists():
        npm = shutil.which("npm")
        assert npm is not None, "node without npm: install npm to fetch the mermaid package"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=MERMAID_DIR,
            check=True,
            timeout=600,
        )
    return MermaidHarness(tmp_path_factory.mktemp("mermaid"))
