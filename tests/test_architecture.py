"""The dependency rule of docs/architecture.md, enforced by reading every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "autoflow"


def _autoflow_imports(path: Path) -> set[str]:
    """Top-level autoflow packages a module imports (``autoflow.model.ir`` -> ``model``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "autoflow" and len(parts) > 1:
                found.add(parts[1])
    return found


def _modules(subpackage: str) -> list[Path]:
    return sorted((PACKAGE / subpackage).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("model"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_model_imports_no_other_autoflow_package(path: Path) -> None:
    assert _autoflow_imports(path) <= {"model", "errors"}


def test_engine_imports_only_model() -> None:
    engine = PACKAGE / "sim" / "engine.py"
    if not engine.exists():
        pytest.skip("the engine has not landed yet")
    assert _autoflow_imports(engine) <= {"model", "errors"}


@pytest.mark.parametrize(
    "subpackage", ["model", "sim", "check", "render"], ids=lambda name: f"{name}-not-upward"
)
def test_lower_layers_do_not_import_the_cli_or_runtime(subpackage: str) -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): imports & {"cli", "commands", "console", "runtime"}
        for path in _modules(subpackage)
        if (imports := _autoflow_imports(path)) & {"cli", "commands", "console", "runtime"}
    }
    assert offenders == {}


def test_the_rule_detects_a_violation(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from autoflow.sim.engine import step\nimport autoflow.cli\n")
    assert _autoflow_imports(module) == {"sim", "cli"}
