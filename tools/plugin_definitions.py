"""Meltano Hub plugin definitions of both plugins, generated from their `--about`.

`python -m tools.plugin_definitions` (`make definitions`) writes `<plugin>/meltano-plugin.yml`, the
file `meltano add --from-ref` reads, and rewrites this project's meltano.yml entries of the two
plugins from the same data (keeping the project's own `pip_url`, `select` and `config`).
tests/test_plugin_definitions.py fails when either has drifted from `--about`.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
MELTANO_YML = ROOT / "meltano.yml"

# Placeholder until the repository has a public home: replace `your-github-org` here and in both
# pyproject.toml files' [project.urls], then run `make definitions`.
GITHUB_ORG = "your-github-org"
REPOSITORY = f"https://github.com/{GITHUB_ORG}/planhat-dust-sync"

PROJECT_KEYS = ("select", "config", "metadata", "schema")
"""Keys of a meltano.yml entry that belong to this project, not to the plugin's definition."""

JSON_TYPE_KINDS = {
    "string": "string",
    "integer": "integer",
    "number": "decimal",
    "boolean": "boolean",
    "object": "object",
    "array": "array",
}
"""Meltano setting kind of each JSON-schema type (Meltano 4.4 `SettingKind`)."""

DATE_FORMATS = ("date-time", "date")


@dataclass(frozen=True)
class Plugin:
    """What `--about` cannot say about a plugin: where it lives and how the Hub shows it."""

    name: str
    plugin_type: str  # Meltano's plural form: extractors, loaders
    label: str
    description: str
    domain_url: str
    local_pip_url: str  # how this repository's meltano.yml installs it

    @property
    def directory(self) -> Path:
        return ROOT / self.name

    @property
    def definition_path(self) -> Path:
        return self.directory / "meltano-plugin.yml"

    @property
    def pip_url(self) -> str:
        return f"git+{REPOSITORY}.git#subdirectory={self.name}"


PLUGINS = (
    Plugin(
        name="tap-planhat",
        plugin_type="extractors",
        label="Planhat",
        description="Customer success platform",
        domain_url="https://www.planhat.com",
        local_pip_url="-e ./tap-planhat",
    ),
    Plugin(
        name="target-dust",
        plugin_type="loaders",
        label="Dust",
        description="One document per Planhat company in a Dust data source",
        domain_url="https://dust.tt",
        local_pip_url="-e ./target-dust[postgres]",
    ),
)


def about(plugin: Plugin) -> dict[str, Any]:
    """The plugin's `--about --format=json`, from the executable next to this Python."""
    executable = Path(sys.executable).with_name(plugin.name)
    out = subprocess.run(
        [str(executable), "--about", "--format=json"], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)


def meltano_capabilities(plugin_type: str) -> set[str]:
    """Capabilities Meltano 4.4's project schema accepts for this plugin type.

    The SDK reports some Meltano does not know (e.g. `validate-records`); the Hub leaves them out.
    """
    schema = json.loads(files("meltano.schemas").joinpath("meltano.schema.json").read_text())
    for part in schema["$defs"]["plugins"][plugin_type]["allOf"]:
        capabilities = part.get("properties", {}).get("capabilities")
        if capabilities:
            return set(capabilities["items"]["enum"])
    raise LookupError(f"Meltano's schema lists no capabilities for {plugin_type}")


def _json_types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type", [])
    types = {declared} if isinstance(declared, str) else set(declared)
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        if isinstance(branch, dict):
            types |= _json_types(branch)
    return types - {"null"}


def setting_kind(name: str, schema: dict[str, Any]) -> str:
    """The Meltano kind of one setting, so Meltano parses and validates its values right."""
    types = _json_types(schema)
    if len(types) != 1:
        raise ValueError(f"setting {name}: types {sorted(types)} map to no single Meltano kind")
    (json_type,) = types
    if json_type == "string" and schema.get("format") in DATE_FORMATS:
        return "date_iso8601"
    if "enum" in schema:
        return "options"
    return JSON_TYPE_KINDS[json_type]


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def setting(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """One Hub setting: label, description, kind, default, options, sensitivity."""
    kind = setting_kind(name, schema)
    entry: dict[str, Any] = {"name": name, "label": schema.get("title") or _label(name)}
    if schema.get("description"):
        entry["description"] = schema["description"]
    entry["kind"] = kind
    if schema.get("default") is not None:
        entry["value"] = schema["default"]
    if kind == "options":
        entry["options"] = [{"label": _label(value), "value": value} for value in schema["enum"]]
    if schema.get("secret") or schema.get("writeOnly"):
        entry["sensitive"] = True  # Meltano keeps the value out of meltano.yml and redacts it
    return entry


def definition(plugin: Plugin, about: dict[str, Any]) -> dict[str, Any]:
    """The plugin's Meltano Hub definition (docs.meltano.com/reference/plugin-definition-syntax)."""
    settings = about["settings"]
    required = settings.get("required", [])
    known = meltano_capabilities(plugin.plugin_type)
    return {
        "name": plugin.name,
        "variant": GITHUB_ORG,
        "label": plugin.label,
        "description": plugin.description,
        "namespace": plugin.name.replace("-", "_"),
        "pip_url": plugin.pip_url,
        "executable": plugin.name,
        "repo": REPOSITORY,
        "docs": f"{REPOSITORY}/tree/main/{plugin.name}#readme",
        "domain_url": plugin.domain_url,
        "maintenance_status": "development",
        "keywords": ["meltano_sdk", "api"],
        "capabilities": sorted(set(about["capabilities"]) & known),
        # A target whose dry run needs no Dust settings requires none: no group to declare.
        **({"settings_group_validation": [sorted(required)]} if required else {}),
        "settings": [setting(name, schema) for name, schema in settings["properties"].items()],
    }


HUB_ONLY_KEYS = ("domain_url", "maintenance_status", "keywords")
"""Hub listing metadata, which `meltano add --from-ref` does not copy into meltano.yml either."""


def project_entry(plugin: Plugin, hub: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """This project's meltano.yml entry: the definition, installed from the checkout."""
    entry = {key: value for key, value in hub.items() if key not in HUB_ONLY_KEYS}
    entry["pip_url"] = plugin.local_pip_url
    entry.update({key: current[key] for key in PROJECT_KEYS if key in current})
    return entry


def _yaml() -> YAML:
    yaml = YAML()  # round-trip, as Meltano writes meltano.yml, so both write the same text
    yaml.width = sys.maxsize
    return yaml


def dump(data: Any) -> str:
    """YAML text of `data`, formatted as Meltano formats meltano.yml."""
    stream = io.StringIO()
    _yaml().dump(data, stream)
    return stream.getvalue()


def render_definition(plugin: Plugin, plugin_about: dict[str, Any]) -> str:
    """The text of `<plugin>/meltano-plugin.yml`, with a header saying how to use it."""
    header = (
        f"# Meltano Hub definition of {plugin.name}, generated by `make definitions` from"
        f" `{plugin.name} --about`.\n"
        f"# meltano add --from-ref <this file or its raw URL> {plugin.name}\n"
    )
    return header + dump(definition(plugin, plugin_about))


def render_meltano_yml(text: str, abouts: dict[str, dict[str, Any]]) -> str:
    """`text` (a meltano.yml) with both plugins' entries regenerated, comments kept."""
    project = _yaml().load(text)
    for plugin in PLUGINS:
        entries = project["plugins"][plugin.plugin_type]
        index = next(i for i, e in enumerate(entries) if e["name"] == plugin.name)
        hub = definition(plugin, abouts[plugin.name])
        entries[index] = project_entry(plugin, hub, dict(entries[index]))
    return dump(project)


def main() -> None:
    """Rewrite both definition files and meltano.yml's entries from the plugins' `--about`."""
    abouts = {plugin.name: about(plugin) for plugin in PLUGINS}
    for plugin in PLUGINS:
        plugin.definition_path.write_text(render_definition(plugin, abouts[plugin.name]))
        print(f"Wrote {plugin.definition_path.relative_to(ROOT)}")
    MELTANO_YML.write_text(render_meltano_yml(MELTANO_YML.read_text(), abouts))
    print(f"Rewrote the tap-planhat and target-dust entries of {MELTANO_YML.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
