"""A non-editable install (`pip install .`) works from another folder: every package of core, the assets, the
command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What a source checkout holds that a build must not see (or need): environments, caches, earlier builds, tests.
NOT_SOURCE = shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache",
                                   "tests")


class Installed:
    """A fresh virtual environment with NetLens installed from a copy of the checkout (not editable)."""

    def __init__(self, venv: Path, away: Path) -> None:
        self.venv, self.away = venv, away
        self.python = venv / "bin" / "python"
        self.netlens = venv / "bin" / "netlens"
        self.env = {name: value for name, value in os.environ.items() if not name.startswith("PYTHON")}

    def run(self, *command: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a command from a folder that is neither the checkout nor the environment."""
        return subprocess.run([str(part) for part in command], cwd=self.away, env=self.env, capture_output=True,
                              text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("install")
    source, venv, away = base / "source", base / "venv", base / "elsewhere"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)  # the build writes build/ and *.egg-info: not into the checkout
    away.mkdir()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    # torch, captum, streamlit… come from the project's environment: its site-packages goes on the new one's
    # path as a plain folder, so its own .pth files (the editable install of this checkout) are not run.
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    (purelib / "netlens_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check", "install",
                    "--quiet", "--no-deps", "--no-build-isolation", "--no-index", str(source)],
                   check=True, capture_output=True, timeout=180)
    shutil.rmtree(source)  # nothing may be read from the copy once installed
    return Installed(venv, away)


def test_the_command_runs_from_another_folder(installed: Installed):
    """Test whether `netlens --help` and `netlens bench --help` answer from the installed copy."""
    for command in (["--help"], ["bench", "--help"]):
        result = installed.run(installed.netlens, *command)
        assert result.returncode == 0, result.stderr
        assert "usage: netlens" in result.stdout


def test_the_installed_copy_lists_the_same_lessons_as_the_checkout(installed: Installed):
    """Test whether `netlens lessons --json` from the installed copy equals the checkout's (same syllabus, same
    commands: no lesson package was left out of the wheel)."""
    result = installed.run(installed.netlens, "lessons", "--json")
    assert result.returncode == 0, result.stderr
    checkout = subprocess.run([sys.executable, "-m", "core.cli", "lessons", "--json"], cwd=ROOT, capture_output=True,
                              text=True, timeout=120, check=True)
    assert json.loads(result.stdout) == json.loads(checkout.stdout)


def test_every_core_module_and_every_asset_is_installed(installed: Installed):
    """Test whether every module of core (lesson packages included) imports from the installed copy, not the
    checkout, and whether core reads the installed lesson texts and labels, identical to the checkout's."""
    script = textwrap.dedent("""
        import importlib, json, sys
        from pathlib import Path
        import core, core.lesson, core.photo_model
        from core.lessons import LESSONS
        top = Path(core.__file__).parent
        names = sorted(".".join(("core", *path.relative_to(top).with_suffix("").parts)).removesuffix(".__init__")
                       for path in top.rglob("*.py"))
        files = [importlib.import_module(name).__file__ for name in names]
        texts = {lesson_id: {path.stem: core.lesson.lesson_text(lesson_id, path.stem)
                             for path in (core.lesson.ASSETS / "lessons" / lesson_id).glob("*.md")}
                 for lesson_id in LESSONS}
        print(json.dumps({"core": core.__file__, "names": names, "files": files, "lessons": sorted(LESSONS),
                          "texts": texts, "assets": str(core.lesson.ASSETS),
                          "photo_assets": str(core.photo_model.ASSETS), "labels": len(core.photo_model.IMAGENET_LABELS),
                          "photos": sorted(path.name for path in (core.lesson.ASSETS / "photos").iterdir())}))
    """)
    result = installed.run(installed.python, "-c", script)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    venv = str(installed.venv)
    assert found["core"].startswith(venv) and all(file.startswith(venv) for file in found["files"])
    checkout = sorted(".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                      for path in (ROOT / "core").rglob("*.py"))
    assert found["names"] == checkout
    assert found["lessons"], "no lesson package was found in the installed copy"
    assert found["assets"].startswith(venv) and found["photo_assets"] == found["assets"]
    for lesson_id, texts in found["texts"].items():
        folder = ROOT / "assets" / "lessons" / lesson_id
        assert texts == {path.stem: path.read_text(encoding="utf-8") for path in folder.glob("*.md")}, lesson_id
    assert found["labels"] == 1000
    assert found["photos"] == sorted(path.name for path in (ROOT / "assets" / "photos").iterdir())


def test_the_installed_copy_explains_a_photo(installed: Installed):
    """Test whether the installed command classifies the coffee photo as an espresso (the ImageNet labels and the
    network's weights are found outside the checkout)."""
    result = installed.run(installed.netlens, "explain", ROOT / "assets" / "photos" / "coffee.jpg", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["predictions"][0]["label"] == "espresso" and report["target"]["label"] == "espresso"


@pytest.mark.slow
def test_the_full_benchmark_runs_from_an_installed_copy(installed: Installed):
    """Test whether `netlens bench` (every lesson's figures: several trainings and the photo network) completes
    from another folder with the installed copy, with figures for every lesson that has a benchmark."""
    result = installed.run(installed.netlens, "bench", "--repeats", "1", "--json", timeout=1800)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert "machine" in figures and len(figures) > 1
