"""Lesson 3, the house-price formula: start anywhere, measure the error, nudge the knobs the way
backpropagation says."""

from __future__ import annotations

from core.excerpt import source_lines
from core.lesson import Lesson
from core.lessons.house_prices import experiment
from core.lessons.house_prices.experiment import HousePricesResult, HousePricesSettings, report, run, summary

__all__ = ["LESSON", "HousePricesResult", "HousePricesSettings", "excerpts", "snippet"]

STEPS = (
    "Tune the knobs by hand",
    "Nudge the way the slope says",
    "Measure size in square feet",
    "Reveal the best formula",
    "Under the hood",
)


def excerpts() -> dict[str, str]:
    """The code the page shows: how the slope of the error is asked of autograd."""
    return {"gradient": source_lines(experiment.gradient, "features =", "torch.autograd.grad")}


def snippet(settings: HousePricesSettings) -> str:
    """The page's screen from Python: the same nudges, then the next one."""
    return (
        "import numpy as np\n"
        "from core.lessons.house_prices.experiment import descend, make_houses, nudge, typical_error\n"
        f"houses = make_houses(seed={settings.seed})\n"
        f"path, errors = descend(np.array({list(settings.start)}), houses, learning_rate={settings.learning_rate:g}, "
        f"steps={settings.nudges}, raw_footage={settings.raw_footage})\n"
        "print(path[-1], np.sqrt(errors[-1]))  # the knobs and the typical error (thousand $) now\n"
        f"step = nudge(path[-1], houses, learning_rate={settings.learning_rate:g}, "
        f"raw_footage={settings.raw_footage})\n"
        "print(step.gradient, step.after)  # the next nudge"
    )


LESSON = Lesson(
    id="house_prices",
    title="The house-price formula",
    idea="start anywhere, measure the error, nudge the knobs the way backpropagation says",
    page="pages/3_The_house-price_formula.py",
    icon="🏠",
    settings=HousePricesSettings,
    steps=STEPS,
    run=run,
    report=report,
    summary=summary,
    bench=None,  # nudges are instant: nothing in the benchmark table
    excerpts=excerpts,
    snippet=snippet,
)
