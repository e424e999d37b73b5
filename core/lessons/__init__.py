"""The syllabus: every lesson in teaching order. The home page, the sidebar, the command line and the benchmark
are generated from it, so adding a lesson means adding its package here (and its page), nothing else."""

from __future__ import annotations

import importlib

from core.lesson import Lesson, Planned

# Teaching order. A string names a package core/lessons/<id>/ exposing LESSON; a Planned entry is still being written.
ORDER: tuple[str | Planned, ...] = (
    "bunnies",
    "photo",
    "house_prices",
    "templates",
    "how_many_pictures",
    "splits",
    "batch_size",
    "squeeze",
    "why_it_works",
    "seasoning",
)


def _load(entry: str | Planned) -> Lesson | Planned:
    if isinstance(entry, Planned):
        return entry
    lesson = importlib.import_module(f"core.lessons.{entry}").LESSON
    if lesson.id != entry:
        raise ValueError(f"core/lessons/{entry} declares the id {lesson.id!r}; the id must be its package's name")
    return lesson


SYLLABUS: tuple[Lesson | Planned, ...] = tuple(_load(entry) for entry in ORDER)
LESSONS: dict[str, Lesson] = {entry.id: entry for entry in SYLLABUS if isinstance(entry, Lesson)}


def lesson(lesson_id: str) -> Lesson:
    """The lesson with this id; ValueError naming the choices otherwise."""
    if lesson_id not in LESSONS:
        raise ValueError(f"unknown lesson {lesson_id!r}; choose one of {', '.join(LESSONS)}")
    return LESSONS[lesson_id]


def number(lesson_id: str) -> int:
    """The lesson's place in the syllabus, from 1."""
    return next(index for index, entry in enumerate(SYLLABUS, start=1)
                if isinstance(entry, Lesson) and entry.id == lesson_id)
