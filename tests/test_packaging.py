"""The wheel ships the rule sets of the top-level rules/ folder, as the package rotator.rulesets.

The wheel is built once, offline, with the installed setuptools from a copy of the checkout
(build artefacts stay out of the working tree), and its file list is checked.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.name for p in (ROOT / "rules").glob("*.yaml"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("checkout")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for folder in ("rotator", "rules"):
        shutil.copytree(
            ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    dist = source / "dist"
    build = "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])"
    subprocess.run(
        [sys.executable, "-c", build, str(dist)],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = dist.glob("rotator-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_files(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_wheel_ships_the_rule_sets_once(wheel_files: list[str]):
    assert SHIPPED, "no rule sets in rules/"
    shipped = sorted(n.removeprefix("rotator/rulesets/") for n in wheel_files
                     if n.startswith("rotator/rulesets/"))  # fmt: skip
    assert shipped == sorted(["__init__.py", *SHIPPED])
    # Only that copy: no top-level rules/ package and no second YAML of the same name.
    assert not [n for n in wheel_files if n.startswith("rules/")]
    yaml_names = [Path(n).name for n in wheel_files if n.endswith(".yaml")]
    assert all(yaml_names.count(name) == 1 for name in SHIPPED)


def test_wheel_ships_code_templates_and_migrations(wheel_files: list[str]):
    # setup.py lists the packages: every package of the checkout is in the wheel.
    packages = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "rotator").rglob("__init__.py")}
    in_wheel = {str(Path(n).parent) for n in wheel_files if n.endswith("/__init__.py")}
    assert packages <= in_wheel
    assert "rotator/reports/templates/daily.html.j2" in wheel_files
    assert any(n.startswith("rotator/adapters/storage/migrations/versions/") for n in wheel_files)


def test_installed_wheel_finds_the_rule_sets_through_importlib(wheel: Path, tmp_path: Path):
    # A wheel install is its files unpacked into site-packages; `-S` keeps this checkout's
    # editable install (a site .pth file) out, so only the unpacked wheel can answer.
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); from importlib import resources; "
        "print(*sorted(p.name for p in resources.files('rotator.rulesets').iterdir() "
        "if p.name.endswith('.yaml')))"
    )
    found = subprocess.run(
        [sys.executable, "-S", "-c", script, str(tmp_path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.stdout.split() == SHIPPED
