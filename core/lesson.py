"""What a lesson is, as every other part (home page, sidebar, command line, benchmark, tests) sees it.

A lesson package (`core/lessons/<id>/`) exposes `LESSON = Lesson(...)`: its id (one word: the package, its
`assets/lessons/<id>/` folder, its session-state key prefix, its store namespace and its command), title, one-line
idea, page, a frozen settings dataclass (validated in `__post_init__`, hashable, JSON-serialisable: the cache key
and the link), the titles of the steps its page shows in order, and one `run(settings, on_progress) -> result`.
`report(result)` turns a result into the JSON the command line prints.

Settings fields are declared with `setting(default, help, flag=...)`, so the command line builds its flags
from the dataclass itself (`add_setting_flags`, `settings_from_flags`).
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable

from core.fit import ProgressCallback

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def setting(default: Any, help: str, flag: str | None = None, cli: bool = True) -> Any:  # noqa: A002 - argparse's word
    """A settings field with its command-line help (and flag name, default: the field name with dashes);
    `cli=False` keeps it off the command line (e.g. sizes of held-out sets the lesson fixes)."""
    return dataclasses.field(default=default, metadata={"help": help, "flag": flag, "cli": cli})


@dataclass(frozen=True)
class Entry:
    """One result a lesson's page keeps in the server's stores: its kind (core.store.KINDS), its key, and how to
    make it from a progress callback and the values of the entries before it in its list (stored or just made)."""

    kind: str
    key: Hashable
    make: Callable[[ProgressCallback | None, list], Any]


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    idea: str
    page: str  # path of the page relative to the app root
    icon: str
    settings: type  # a frozen dataclass whose fields are declared with `setting(...)`
    steps: tuple[str, ...]  # titles of the page's numbered sections, in order
    run: Callable[[Any, ProgressCallback | None], Any]
    report: Callable[[Any], dict]  # result → JSON-ready dict (what `netlens <id> --json` prints)
    summary: Callable[[dict], str] | None = None  # report → a few plain lines (without --json)
    bench: Callable[[int], dict] | None = None  # repeats → figures for `netlens bench`
    excerpts: Callable[[], dict[str, str]] | None = None  # name → code that ran (core.excerpt.source_lines)
    snippet: Callable[[Any], str] | None = None  # settings → runnable Python the page shows ("from Python")
    # seed → for every setting the page's controls can reach, the stored results its page looks up, in order
    # (`netlens prepare`, the page's "Prepare this lesson for a class")
    prepare: Callable[[int], list[list[Entry]]] | None = None

    def __post_init__(self) -> None:
        if not self.id.isidentifier() or not self.id.islower():
            raise ValueError(f"a lesson id is one lower-case word, got {self.id!r}")
        if not dataclasses.is_dataclass(self.settings) or not self.settings.__dataclass_params__.frozen:
            raise ValueError(f"{self.id}: settings must be a frozen dataclass")
        if not self.steps:
            raise ValueError(f"{self.id}: a lesson needs at least one step")

    def text(self, section: str) -> str:
        return lesson_text(self.id, section)


@dataclass(frozen=True)
class Planned:
    """A lesson of the syllabus that is still being written."""

    title: str
    idea: str
    page: str | None = None  # none yet


def lesson_text(lesson: str, section: str) -> str:
    """The Markdown of one section of a lesson: assets/lessons/<lesson>/<section>.md."""
    path = ASSETS / "lessons" / lesson / f"{section}.md"
    if not path.is_file():
        raise ValueError(f"no lesson text at {path.relative_to(ASSETS.parent)}")
    return path.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------- settings ⇄ flags
def settings_json(settings: Any) -> dict:
    """The settings as a JSON-ready dict (tuples become lists)."""
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(settings).items()}


def _field_types(settings_type: type) -> dict[str, Any]:
    return typing.get_type_hints(settings_type)


def _flag(field: dataclasses.Field) -> str:
    return "--" + (field.metadata.get("flag") or field.name).replace("_", "-")


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected yes or no, got {text!r}")


def _parse_tuple(item: Callable[[str], Any]) -> Callable[[str], tuple]:
    def parse(text: str) -> tuple:
        try:
            return tuple(item(part.strip()) for part in text.split(",") if part.strip())
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}") from error
    return parse


def _parser_for(annotation: Any) -> Callable[[str], Any]:
    if annotation is bool:
        return _parse_bool
    if annotation in (int, float, str):
        return annotation
    if typing.get_origin(annotation) is tuple:
        item = typing.get_args(annotation)[0]
        return _parse_tuple(item if item in (int, float, str) else str)
    raise TypeError(f"no command-line form for settings of type {annotation!r}")


def add_setting_flags(parser: argparse.ArgumentParser, settings_type: type) -> None:
    """One flag per command-line setting of `settings_type`, with its help and default."""
    types = _field_types(settings_type)
    for field in dataclasses.fields(settings_type):
        if not field.metadata.get("cli", True):
            continue
        default = field.default
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        parser.add_argument(_flag(field), dest=field.name, type=_parser_for(types[field.name]), default=None,
                            metavar=(field.metadata.get("flag") or field.name).upper(), help=f"{field.metadata.get('help', '')} (default {shown})")


def settings_from_flags(settings_type: type, args: argparse.Namespace) -> Any:
    """The settings the flags ask for (unset flags keep their defaults); ValueError from validation."""
    given = {field.name: getattr(args, field.name) for field in dataclasses.fields(settings_type)
             if getattr(args, field.name, None) is not None}
    return settings_type(**given)


def settings_from_dict(settings_type: type, values: dict) -> Any:
    """Settings from a JSON-like dict (lists become tuples); unknown keys raise ValueError."""
    names = {field.name for field in dataclasses.fields(settings_type)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r}; choose from {', '.join(sorted(names))}")
    return settings_type(**{key: tuple(value) if isinstance(value, list) else value for key, value in values.items()})
