"""Lesson 1, the flagship: Bunnies and grass — does the network recognise bunnies, or the lawn behind them?"""

from __future__ import annotations

from core.lesson import Lesson
from core.lessons.bunnies.experiment import BunniesSettings, bench, report, run, snippet, summary
from core.lessons.bunnies.entries import prepare

STEPS = (
    "How well does it do?",
    "Where does it look?",
    "Where does the evidence come from — and is that true?",
    "Show it more pictures",
)


def excerpts() -> dict[str, str]:
    """The page shows no excerpt of the lesson's source, only the runnable `snippet`."""
    return {}


LESSON = Lesson(
    id="bunnies",
    title="Bunnies and grass",
    idea="a network learns whatever separates the pictures — even the grass behind the bunny",
    page="pages/1_Bunnies_and_grass.py",
    icon="🐰",
    settings=BunniesSettings,
    steps=STEPS,
    run=run,
    report=report,
    summary=summary,
    bench=bench,
    excerpts=excerpts,
    snippet=snippet,
    prepare=prepare,
)
