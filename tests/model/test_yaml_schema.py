"""The JSON Schema of the YAML format: valid draft-07, every property described,
shipped in the package, in step with the reader and accepted by every example."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from autoflow.model.effects import EFFECTS

MODELS = Path(__file__).parents[2] / "models"
DATA = Path(__file__).parent / "data" / "yaml"


def load_schema() -> dict[str, Any]:
    text = resources.files("autoflow").joinpath("schemas/workflow.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def properties(node: Any, where: str = "#") -> Iterator[tuple[str, str, Any]]:
    """Every (location, property name, property schema) in the schema."""
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield where, name, sub
        for key, value in node.items():
            yield from properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from properties(value, f"{where}/{index}")


def test_schema_is_valid_draft_07() -> None:
    schema = load_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)


def test_every_property_has_a_description() -> None:
    missing = [
        f"{where}: {name}"
        for where, name, sub in properties(load_schema())
        if not (isinstance(sub, dict) and sub.get("description"))
    ]
    assert missing == []


def test_effect_names_match_the_registry() -> None:
    schema = load_schema()
    call_actions = [
        option
        for option in schema["definitions"]["action"]["anyOf"]
        if option["required"] == ["call"]
    ]
    (call,) = call_actions
    assert call["properties"]["call"]["enum"] == sorted(EFFECTS)


def example_files() -> list[Path]:
    return sorted(MODELS.rglob("*.yaml")) + sorted(DATA.rglob("*.yaml"))


@pytest.mark.parametrize("path", example_files(), ids=lambda path: path.name)
def test_examples_validate_against_the_schema(path: Path) -> None:
    validator = jsonschema.Draft7Validator(load_schema())
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(load_yaml(path))
    ]
    assert errors == []


def test_examples_exist() -> None:
    assert len(list(MODELS.glob("*.yaml"))) >= 7
    assert len(list((MODELS / "blocks").glob("*.yaml"))) >= 3


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({"workflow": "w", "stats": {"a": None}}, "Additional properties"),
        ({"workflow": "w", "states": {"a": {"entyr": []}}}, "is not valid"),
        ({"workflow": "w", "states": {"a": {"after": {"2 days": "a"}}}}, "is not valid"),
        ({"workflow": "w", "states": {"a": {"entry": [{"call": "gitlab.nope"}]}}}, "is not valid"),
        ({"states": {"a": None}}, "is not valid"),
        ({"workflow": "w", "states": {}}, "should be non-empty"),
    ],
)
def test_schema_rejects_bad_documents(document: dict[str, Any], complaint: str) -> None:
    validator = jsonschema.Draft7Validator(load_schema())
    messages = " | ".join(error.message for error in validator.iter_errors(document))
    assert complaint in messages


def test_schema_ships_in_the_wheel_configuration() -> None:
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert 'packages = ["autoflow"]' in pyproject
    assert (Path(__file__).parents[2] / "autoflow" / "schemas" / "workflow.schema.json").is_file()
