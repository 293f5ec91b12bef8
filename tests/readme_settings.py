"""Keep the README's settings tables and meltano.yml in step with the plugins' `--about`.

`python -m tests.readme_settings` rewrites the tables between the READMEs' markers;
tests/test_docs.py fails when they, or meltano.yml's declared settings, have drifted.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ("tap-planhat", "target-dust")
DOCUMENTS = {
    ROOT / "README.md": PLUGINS,
    ROOT / "tap-planhat" / "README.md": ("tap-planhat",),
    ROOT / "target-dust" / "README.md": ("target-dust",),
}


def _about(plugin: str, fmt: str) -> str:
    executable = Path(sys.executable).with_name(plugin)
    return subprocess.run(
        [str(executable), "--about", f"--format={fmt}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def settings_table(plugin: str) -> str:
    """The `| Setting | Required | Default | Description |` table of `--about --format=markdown`."""
    lines = _about(plugin, "markdown").splitlines()
    return "\n".join(line for line in lines if line.startswith("|")) + "\n"


def setting_names(plugin: str) -> set[str]:
    """Top-level setting names the plugin reads (nested ones belong to their parent)."""
    return set(json.loads(_about(plugin, "json"))["settings"]["properties"])


def _marker(plugin: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- settings:{plugin} -->\n)(.*?)(<!-- /settings:{plugin} -->)", re.DOTALL
    )


def render(text: str, plugins: tuple[str, ...]) -> str:
    """`text` with the settings table of each of `plugins` regenerated between its markers."""
    for plugin in plugins:
        table = settings_table(plugin)
        text, found = _marker(plugin).subn(lambda m, t=table: m[1] + t + m[3], text)
        if not found:
            raise SystemExit(f"missing <!-- settings:{plugin} --> markers")
    return text


if __name__ == "__main__":
    for path, plugins in DOCUMENTS.items():
        path.write_text(render(path.read_text(), plugins))
        print(f"Rewrote the settings tables in {path.relative_to(ROOT)}")
