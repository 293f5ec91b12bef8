"""The README and meltano.yml document every setting the plugins actually read."""

from __future__ import annotations

import yaml

from tests.readme_settings import DOCUMENTS, PLUGINS, ROOT, render, setting_names


def test_readme_settings_tables_match_about() -> None:
    for path, plugins in DOCUMENTS.items():
        current = path.read_text()
        assert render(current, plugins) == current, f"run `make readme`: {path} has drifted"


def test_meltano_yml_declares_every_setting() -> None:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    plugins = project["plugins"]["extractors"] + project["plugins"]["loaders"]
    declared = {p["name"]: {s["name"] for s in p.get("settings", [])} for p in plugins}
    for plugin in PLUGINS:
        missing = setting_names(plugin) - declared[plugin]
        assert not missing, f"meltano.yml does not declare {sorted(missing)} for {plugin}"


def test_meltano_yml_marks_secrets_sensitive() -> None:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    settings = {
        (p["name"], s["name"]): s
        for kind in ("extractors", "loaders")
        for p in project["plugins"][kind]
        for s in p.get("settings", [])
    }
    for key in (("tap-planhat", "api_token"), ("target-dust", "api_key")):
        assert settings[key].get("sensitive") is True, key
