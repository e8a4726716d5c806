"""docs/configuration-reference.md is generated from the settings classes (app/config_reference.py):
it must be what the code renders now, it must name every key config.yaml has, and the variable it
gives for a key must be the one the app reads."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from app.config import Settings, load_settings
from app.config_reference import render

ROOT = Path(__file__).parent.parent
REFERENCE = ROOT / "docs" / "configuration-reference.md"


def test_the_reference_in_docs_is_what_the_settings_classes_render() -> None:
    expected = render()
    actual = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
    diff = "".join(list(difflib.unified_diff(actual.splitlines(True), expected.splitlines(True), "docs", "code"))[:40])
    assert actual == expected, f"docs/configuration-reference.md is out of date: run `make docs`\n{diff}"


def test_every_setting_has_a_description() -> None:
    missing = [path for path, field in _fields(Settings) if not field.description]
    assert missing == [], f"add Field(description=...) to: {', '.join(missing)}"


def test_every_key_of_config_yaml_is_in_the_reference() -> None:
    reference = render()
    keys = _yaml_keys(yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8")))
    assert len(keys) > 50
    missing = [key for key in keys if f"| `{key}` |" not in reference]
    assert missing == []


def test_the_variable_named_for_each_integer_key_sets_that_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """For every plain integer key: its variable, as the reference names it, set to another valid value."""
    rows = re.findall(r"^\| `([a-z_.]+)` \| integer(?:, ([^|]*))? \| `(\d+)` \| `(APP_[A-Z_]+)` \|", render(), re.M)
    assert len(rows) > 20
    expected = {}
    for key, bounds, default, variable in rows:
        upper = re.search(r"≤ (\d+)", bounds or "")
        value = int(default) + 1 if not upper or int(default) < int(upper.group(1)) else int(default) - 1
        monkeypatch.setenv(variable, str(value))
        expected[key] = value
    settings = load_settings(ROOT / "config.yaml")
    loaded = {key: _get(settings, key) for key in expected}
    assert loaded == expected


def _fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.extend(_fields(annotation, f"{prefix}{name}."))
        else:
            found.append((f"{prefix}{name}", field))
    return found


def _yaml_keys(data: dict[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if path == "pricing":
            keys.extend(f"pricing.<model>.{entry}" for prices in value.values() for entry in prices)
        elif isinstance(value, dict):
            keys.extend(_yaml_keys(value, path + "."))
        else:
            keys.append(path)
    return sorted(set(keys))


def _get(settings: Settings, key: str) -> Any:
    value: Any = settings
    for part in key.split("."):
        value = getattr(value, part)
    return value
