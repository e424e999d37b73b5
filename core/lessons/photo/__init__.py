"""Lesson 2: Your own photo — what does a real network look at, and does that map deserve trust?"""

from __future__ import annotations

from core.lesson import Lesson
from core.lessons.photo.headless import PhotoResult, bench, excerpts, report, run, run_picture, snippet, summary
from core.lessons.photo.settings import PhotoSettings

STEPS = (
    "What the network thinks it is",
    "Where does it look?",
    "Does this map deserve trust?",
)

LESSON = Lesson(
    id="photo",
    title="Your own photo",
    idea="upload a picture and see what a real network looks at",
    page="pages/2_Your_own_photo.py",
    icon="📷",
    settings=PhotoSettings,
    steps=STEPS,
    run=run,
    report=report,
    summary=summary,
    bench=bench,
    excerpts=excerpts,
    snippet=snippet,
)

__all__ = ["LESSON", "PhotoResult", "PhotoSettings", "run", "run_picture"]
