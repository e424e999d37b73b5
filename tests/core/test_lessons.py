"""The lesson contract: every lesson in the syllabus is one room — one id for its package, assets, page keys,
store namespace and command — and the command line is generated from its settings."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import core.lessons
from core.cli import main
from core.fit import Progress
from core.lesson import Lesson, Planned, settings_from_dict, settings_json, setting
from core.lessons import LESSONS, SYLLABUS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("lesson", list(LESSONS.values()), ids=lambda lesson: lesson.id)
def test_every_lesson_is_one_room(lesson: Lesson):
    """Test whether the lesson's id names its package, its assets folder and its page's keys and stores, and
    whether its default settings are hashable and survive a JSON round trip."""
    assert (ROOT / "core" / "lessons" / lesson.id / "__init__.py").is_file()
    assert (ROOT / "assets" / "lessons" / lesson.id / "story.md").is_file()
    page = (ROOT / lesson.page).read_text(encoding="utf-8")
    assert f'setup_page("{lesson.id}")' in page
    keys = re.findall(r'\bkey=f?"([^"{]+)', page)
    assert keys and all(key.startswith(f"{lesson.id}_") for key in keys), keys
    stores = re.findall(r'\bstore\("([^"]+)"', page)
    assert all(name == lesson.id for name in stores), stores
    defaults = lesson.settings()
    hash(defaults)
    assert settings_from_dict(lesson.settings, json.loads(json.dumps(settings_json(defaults)))) == defaults
    assert lesson.steps and all(isinstance(step, str) and step for step in lesson.steps)


def test_the_syllabus_lists_every_page_once_in_order():
    """Test whether every lesson page of pages/ is in the syllabus, and the page files' numbers follow it."""
    pages = sorted(path.name for path in (ROOT / "pages").glob("[0-9]*_*.py"))
    listed = [Path(entry.page).name for entry in SYLLABUS if entry.page]
    assert sorted(listed) == pages
    for number, entry in enumerate(SYLLABUS, start=1):
        if entry.page:
            assert Path(entry.page).name.startswith(f"{number}_"), entry.page


# ------------------------------------------------------------------------------------ the generated command line
@dataclass(frozen=True)
class ToySettings:
    count: int = setting(3, "how many")
    rate: float = setting(0.5, "how often", flag="often")
    sizes: tuple[int, ...] = setting((1, 8), "which sizes")
    shuffle: bool = setting(False, "shuffle or not")
    hidden: int = setting(7, "not on the command line", cli=False)

    def __post_init__(self) -> None:
        if not 0 <= self.rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, got {self.rate}")


def _toy_run(settings: ToySettings, on_progress=None) -> dict:  # type: ignore[no-untyped-def]
    if on_progress is not None:
        on_progress(Progress(1, 1))
    return {"total": settings.count * sum(settings.sizes), "rate": settings.rate, "shuffle": settings.shuffle,
            "hidden": settings.hidden}


TOY = Lesson(id="toy", title="Toy", idea="a lesson for testing", page="pages/none.py", icon="🧸", settings=ToySettings,
             steps=("one",), run=_toy_run, report=lambda result: result, summary=lambda report: f"total {report['total']}")


@pytest.fixture
def toy(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(core.lessons.LESSONS, "toy", TOY)


def test_a_lesson_command_is_generated_from_its_settings(toy, capsys):
    """Test whether `netlens toy` takes one flag per setting (named flags, tuples, booleans) and prints the
    lesson's report as JSON, or its summary without --json."""
    assert main(["toy", "--count", "2", "--often", "0.25", "--sizes", "4,16", "--shuffle", "yes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"total": 40, "rate": 0.25, "shuffle": True, "hidden": 7}
    assert main(["toy"]) == 0
    assert capsys.readouterr().out.strip() == "total 27"


@pytest.mark.parametrize("flags, words", [
    (["--often", "2"], "rate must be between 0 and 1"),  # validation in the settings
    (["--count", "many"], "invalid int value"),  # argparse's type check
    (["--hidden", "3"], "unrecognized arguments"),  # kept off the command line
    (["--shuffle", "perhaps"], "expected yes or no"),
])
def test_bad_flags_get_one_line_and_exit_code_2(toy, capsys, flags, words):
    """Test whether every kind of bad flag gives exit code 2 and a single line naming the problem."""
    with pytest.raises(SystemExit) as stopped:
        code = main(["toy", *flags])
        raise SystemExit(code)
    assert stopped.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("netlens:") and words in error and "\n" not in error


def test_netlens_lessons_lists_the_syllabus_with_commands(capsys):
    """Test whether `netlens lessons --json` lists every syllabus entry in order, with a command for each
    finished lesson and none for a planned one."""
    assert main(["lessons", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["title"] for row in rows] == [entry.title for entry in SYLLABUS]
    for row, entry in zip(rows, SYLLABUS):
        assert (row["command"] == f"netlens {entry.id}") if isinstance(entry, Lesson) else row["command"] is None


def test_settings_from_dict_refuses_unknown_names():
    """Test whether a link or JSON naming a setting the lesson does not have is refused with its name."""
    with pytest.raises(ValueError, match="unknown setting 'colour'"):
        settings_from_dict(ToySettings, {"colour": "red"})
    assert dataclasses.fields(ToySettings)[0].metadata["help"] == "how many"
    assert isinstance(Planned("x", "y"), Planned)


@pytest.mark.parametrize("lesson", list(LESSONS.values()), ids=lambda lesson: lesson.id)
def test_every_excerpt_and_snippet_a_page_shows_is_real_code(lesson: Lesson):
    """Test whether every "under the hood" excerpt is found in its function (source_lines raises otherwise; an
    excerpt is a fragment, so it need not compile alone) and
    every "from Python" snippet is valid Python that imports from modules that exist (each lesson's own tests run
    its snippet)."""
    for name, text in (lesson.excerpts() if lesson.excerpts else {}).items():
        assert text.strip() and "source not available" not in text, name
    if lesson.snippet is not None:
        code = lesson.snippet(lesson.settings())
        compile(code, f"{lesson.id} snippet", "exec")
        for module in re.findall(r"^from (core[\w.]*) import", code, re.M):
            __import__(module)
