"""Project boundaries: core/ never imports Streamlit; the CLI answers bad input with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main

ROOT = Path(__file__).resolve().parents[2]


def core_modules() -> list[str]:
    """Every module of core/, subpackages included (core/lessons/<id>/…), as dotted names."""
    return sorted(".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                  for path in (ROOT / "core").rglob("*.py"))


def test_core_never_imports_streamlit():
    """Test whether importing every core module, lesson packages included, in a fresh interpreter leaves
    streamlit unloaded."""
    modules = core_modules()
    assert "core.lessons" in modules and any(name.startswith("core.lessons.") for name in modules)
    code = ("import importlib, json, sys\n"
            f"files = [importlib.import_module(name).__file__ for name in {modules!r}]\n"
            "print(json.dumps({'files': files, 'streamlit': sorted(name for name in sys.modules\n"
            "                                                      if name.partition('.')[0] == 'streamlit')}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert all(Path(file).is_relative_to(ROOT / "core") for file in found["files"])  # this checkout's modules
    assert found["streamlit"] == []


def test_cli_rejects_a_bad_grass_rate_with_one_line(capsys):
    """Test whether an impossible setting gives exit code 2 and a one-line message, no traceback."""
    assert main(["shortcut", "--grass", "1.5"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("netlens:") and "grass_rate" in error and "\n" not in error


def test_cli_rejects_an_unknown_method_before_training(capsys):
    """Test whether an unknown method name is refused up front."""
    assert main(["shortcut", "--methods", "magic"]) == 2
    assert "unknown method" in capsys.readouterr().err


def test_cli_shortcut_json_has_the_promised_fields(capsys):
    """Test whether `netlens shortcut --json` prints the accuracies, evidence per part and method, the
    counterfactual reliance and the training time."""
    assert main(["shortcut", "--grass", "1.0", "--pictures", "300", "--methods", "gradcam,saliency", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert 0 <= result["ordinary_accuracy"] <= 1 and 0 <= result["surprise_accuracy"] <= 1
    assert set(result["evidence"]) == {"gradcam", "saliency"}
    assert set(result["evidence"]["gradcam"]["part_shares"]) == {"eye", "ears", "fur / body", "grass", "other background"}
    assert 0 <= result["counterfactual"]["reliance"] <= 1
    assert result["training_seconds"] > 0
    assert result["config"]["grass_rate"] == 1.0 and result["config"]["num_train"] == 300


@pytest.mark.parametrize("command", [["shortcut", "--help"], ["bench", "--help"], ["app", "--help"]])
def test_every_command_has_help(command, capsys):
    """Test whether each subcommand documents itself."""
    with pytest.raises(SystemExit) as stopped:
        main(command)
    assert stopped.value.code == 0 and "usage: netlens" in capsys.readouterr().out
