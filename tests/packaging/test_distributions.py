"""Both packages build to a wheel and an sdist that install into a clean venv and run."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from tools.plugin_definitions import PLUGINS, REPOSITORY, ROOT, Plugin

BIN = Path(sys.executable).parent


def _project(plugin: Plugin) -> dict:
    return tomllib.loads((plugin.directory / "pyproject.toml").read_text())["project"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m build` of both packages: the sdist, then the wheel built from that sdist."""
    out = tmp_path_factory.mktemp("dist")
    for plugin in PLUGINS:
        subprocess.run(
            [sys.executable, "-m", "build", "--installer", "uv", "--outdir", str(out)],
            cwd=plugin.directory,
            check=True,
            capture_output=True,
        )
    return out


def _artifacts(dist: Path, plugin: Plugin) -> tuple[Path, Path]:
    stem = f"{plugin.name.replace('-', '_')}-{_project(plugin)['version']}"
    return dist / f"{stem}-py3-none-any.whl", dist / f"{stem}.tar.gz"


def test_wheels_and_sdists_hold_the_package_its_types_marker_and_license(dist: Path) -> None:
    license_text = (ROOT / "LICENSE").read_bytes()
    for plugin in PLUGINS:
        wheel, sdist = _artifacts(dist, plugin)
        package = plugin.name.replace("-", "_")
        version = _project(plugin)["version"]
        with zipfile.ZipFile(wheel) as archive:
            names = set(archive.namelist())
            assert f"{package}/py.typed" in names
            assert archive.read(f"{package}-{version}.dist-info/licenses/LICENSE") == license_text
            metadata = archive.read(f"{package}-{version}.dist-info/METADATA").decode()
        assert "License-Expression: Apache-2.0" in metadata
        assert f"Project-URL: Repository, {REPOSITORY}" in metadata
        assert "Classifier: Programming Language :: Python :: 3.11" in metadata
        with tarfile.open(sdist) as archive:
            member = archive.getmember(f"{package}-{version}/LICENSE")
            assert member.isfile()  # a link to ../LICENSE would leave the sdist's wheel without it
            assert f"{package}-{version}/{package}/py.typed" in archive.getnames()


def test_wheels_install_into_a_clean_venv_and_report_about(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([str(BIN / "uv"), "venv", "--quiet", str(venv)], check=True)
    wheels = [str(_artifacts(dist, plugin)[0]) for plugin in PLUGINS]
    subprocess.run(
        [
            str(BIN / "uv"),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin/python"),
            *wheels,
        ],
        check=True,
    )
    for plugin in PLUGINS:
        result = subprocess.run(
            [str(venv / "bin" / plugin.name), "--about", "--format=json"],
            cwd=tmp_path,  # away from the checkout, so only the installed wheel can answer
            check=True,
            capture_output=True,
            text=True,
        )
        about = json.loads(result.stdout)
        assert about["name"] == plugin.name
        assert about["version"] == _project(plugin)["version"]
        assert about["settings"]["properties"]


def test_packages_point_at_the_repository_and_ship_the_license_and_changelog() -> None:
    license_text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in license_text
    for plugin in PLUGINS:
        project = _project(plugin)
        assert project["license"] == "Apache-2.0"
        assert project["urls"]["Repository"] == REPOSITORY
        assert (plugin.directory / "LICENSE").read_text() == license_text
        assert (plugin.directory / "CHANGELOG.md").read_text().startswith("# Changelog")
