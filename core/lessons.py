"""The syllabus and the lesson texts (Markdown in assets/, editable by teachers without touching code)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"


@dataclass(frozen=True)
class Lesson:
    title: str
    idea: str
    page: str | None  # path of the page relative to the app root; None while the lesson is being written


SYLLABUS: tuple[Lesson, ...] = (
    Lesson("Bunnies and grass", "a network learns whatever separates the pictures — even the grass behind the bunny",
           "pages/1_Bunnies_and_grass.py"),
    Lesson("Your own photo", "upload a picture and see what a real network looks at", "pages/2_Your_own_photo.py"),
    Lesson("The house-price formula", "start anywhere, measure the error, nudge the knobs the way backpropagation says",
           "pages/3_The_house-price_formula.py"),
    Lesson("Programs as templates", "training searches all the programs a network can be for the best one",
           "pages/4_Programs_as_templates.py"),
    Lesson("How many pictures do I need?", "bunny vs elephant needs few pictures; bunny breed vs bunny breed needs many", None),
    Lesson("Splitting the data", "an exam with the practice questions rewards memorising",
           "pages/6_Splitting_the_data.py"),
    Lesson("Batch size", "how many examples the network looks at before each nudge", "pages/7_Batch_size.py"),
    Lesson("Squeezing it onto a phone", "big networks train well and can then be shrunk", None),
    Lesson("Why does it work?", "similar pictures end up close together inside the network", None),
)


def lesson_text(lesson: str, section: str) -> str:
    """The Markdown of one section of a lesson: assets/lessons/<lesson>/<section>.md."""
    path = ASSETS / "lessons" / lesson / f"{section}.md"
    if not path.is_file():
        raise ValueError(f"no lesson text at {path.relative_to(ASSETS.parent)}")
    return path.read_text(encoding="utf-8")
