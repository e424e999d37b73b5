"""The syllabus: every lesson in teaching order. The home page, the sidebar, the command line and the benchmark
are generated from it, so adding a lesson means adding its package here (and its page), nothing else."""

from __future__ import annotations

import importlib
import importlib.util

from core.lesson import Lesson, Planned, lesson_text  # noqa: F401 - lesson_text: MIGRATION, old pages import it here

# Teaching order. A string names a package core/lessons/<id>/ exposing LESSON; a Planned entry is still being written.
ORDER: tuple[str | Planned, ...] = (
    "bunnies",
    "photo",
    "house_prices",
    "templates",
    Planned("How many pictures do I need?", "bunny vs elephant needs few pictures; bunny breed vs bunny breed needs many"),
    "splits",
    "batch_size",
    Planned("Squeezing it onto a phone", "big networks train well and can then be shrunk"),
    Planned("Why does it work?", "similar pictures end up close together inside the network"),
)


# MIGRATION (issue 8): lessons not yet moved into their package keep their old page. Delete when all have moved.
_LEGACY = {
    "bunnies": ("Bunnies and grass", "a network learns whatever separates the pictures — even the grass behind the bunny",
                "pages/1_Bunnies_and_grass.py"),
    "photo": ("Your own photo", "upload a picture and see what a real network looks at", "pages/2_Your_own_photo.py"),
    "house_prices": ("The house-price formula",
                     "start anywhere, measure the error, nudge the knobs the way backpropagation says",
                     "pages/3_The_house-price_formula.py"),
    "templates": ("Programs as templates", "training searches all the programs a network can be for the best one",
                  "pages/4_Programs_as_templates.py"),
    "splits": ("Splitting the data", "an exam with the practice questions rewards memorising",
               "pages/6_Splitting_the_data.py"),
    "batch_size": ("Batch size", "how many examples the network looks at before each nudge", "pages/7_Batch_size.py"),
}


def _load(entry: str | Planned) -> Lesson | Planned:
    if isinstance(entry, Planned):
        return entry
    if importlib.util.find_spec(f"core.lessons.{entry}") is None:
        return Planned(*_LEGACY[entry])
    module = importlib.import_module(f"core.lessons.{entry}")
    if not hasattr(module, "LESSON"):  # MIGRATION: package started, not finished
        return Planned(*_LEGACY[entry])
    lesson = module.LESSON
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
