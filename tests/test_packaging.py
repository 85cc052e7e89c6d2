"""Packaging (issue 11, point 10): one `deskql` import package, nothing generic at top level."""

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = {"tests", "bench", ".venv", ".git", ".ci", "var", "build", "dist"}


def _declared_packages() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(config["tool"]["setuptools"]["packages"])


def _code_folders() -> set[str]:
    """Every folder of the package that holds a file: code, or page assets (declared too, so
    that setuptools ships them without warning that it will ignore them one day)."""
    found = {"deskql"}
    for path in ROOT.rglob("*"):
        if not path.is_file():
            continue
        rel = path.relative_to(ROOT)
        if rel.parts[0] in OUTSIDE or rel.parts[0].startswith(".") or len(rel.parts) == 1:
            continue
        if any(part.endswith(".egg-info") or part == "__pycache__" for part in rel.parts):
            continue
        found.add("deskql." + ".".join(rel.parts[:-1]))
    return found


def test_every_code_folder_is_a_declared_package() -> None:
    assert _code_folders() == _declared_packages()


def test_the_deskql_command_points_into_the_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["project"]["scripts"] == {"deskql": "deskql.cli:main"}


@pytest.mark.timeout(600)
def test_the_wheel_holds_only_deskql_with_its_pages_assets(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("deskql-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"deskql"}
    assert "deskql/server.py" in names and "deskql/schema/types/__init__.py" in names
    assert "deskql/migrations/0001_initial.py" in names or any(
        n.startswith("deskql/migrations/0001") for n in names
    )
    assert any(n.startswith("deskql/web/static/graphiql/") for n in names)
    assert any(n.startswith("deskql/web/templates/") for n in names)
    assert not any(n.startswith("deskql/tests/") or n.startswith("deskql/bench/") for n in names)
