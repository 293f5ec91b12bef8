"""The Meltano plugin definitions say what the plugins' `--about` says, in kinds Meltano parses."""

from __future__ import annotations

import pytest
import yaml

from tools.plugin_definitions import (
    MELTANO_YML,
    PLUGINS,
    REPOSITORY,
    about,
    definition,
    meltano_capabilities,
    render_definition,
    render_meltano_yml,
    setting,
    setting_kind,
)


@pytest.fixture(scope="module")
def abouts() -> dict[str, dict]:
    return {plugin.name: about(plugin) for plugin in PLUGINS}


def test_definition_files_match_about(abouts: dict[str, dict]) -> None:
    for plugin in PLUGINS:
        current = plugin.definition_path.read_text()
        expected = render_definition(plugin, abouts[plugin.name])
        assert current == expected, f"run `make definitions`: {plugin.definition_path} has drifted"


def test_meltano_yml_entries_match_definitions(abouts: dict[str, dict]) -> None:
    current = MELTANO_YML.read_text()
    assert render_meltano_yml(current, abouts) == current, "run `make definitions`"


def test_meltano_yml_installs_from_the_checkout_and_keeps_its_selection() -> None:
    project = yaml.safe_load(MELTANO_YML.read_text())
    tap = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-planhat")
    target = next(p for p in project["plugins"]["loaders"] if p["name"] == "target-dust")
    assert tap["pip_url"] == "-e ./tap-planhat"
    assert target["pip_url"] == "-e ./target-dust[postgres]"
    assert "companies.*" in tap["select"]


@pytest.mark.parametrize(
    ("schema", "kind"),
    [
        ({"type": ["integer", "null"]}, "integer"),
        ({"type": ["number", "null"]}, "decimal"),
        ({"type": ["boolean", "null"]}, "boolean"),
        ({"type": ["object", "null"]}, "object"),
        ({"type": "array"}, "array"),
        ({"type": ["string"]}, "string"),
        ({"type": ["string", "null"], "format": "date-time"}, "date_iso8601"),
        ({"type": ["string", "null"], "enum": ["a", "b"]}, "options"),
        ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, "integer"),
    ],
)
def test_json_schema_types_map_to_meltano_kinds(schema: dict, kind: str) -> None:
    assert setting_kind("x", schema) == kind


def test_a_setting_of_several_types_stops_the_generator() -> None:
    with pytest.raises(ValueError, match="setting seed"):
        setting_kind("seed", {"oneOf": [{"type": "number"}, {"type": "string"}]})


def test_secret_settings_are_sensitive_strings() -> None:
    entry = setting("api_key", {"type": ["string"], "secret": True, "writeOnly": True})
    assert entry["kind"] == "string"
    assert entry["sensitive"] is True


def test_definitions_carry_defaults_required_groups_and_known_capabilities(
    abouts: dict[str, dict],
) -> None:
    for plugin in PLUGINS:
        info = abouts[plugin.name]
        hub = definition(plugin, info)
        values = {s["name"]: s.get("value") for s in hub["settings"]}
        defaults = {
            name: schema["default"]
            for name, schema in info["settings"]["properties"].items()
            if schema.get("default") is not None
        }
        assert defaults
        assert {name: values[name] for name in defaults} == defaults
        required = info["settings"].get("required")
        assert hub.get("settings_group_validation") == ([sorted(required)] if required else None)
        assert set(hub["capabilities"]) <= meltano_capabilities(plugin.plugin_type)
        assert "about" in hub["capabilities"]
        assert "structured-logging" in hub["capabilities"]  # else Meltano shows no log levels
        assert hub["pip_url"] == f"git+{REPOSITORY}.git#subdirectory={plugin.name}"
