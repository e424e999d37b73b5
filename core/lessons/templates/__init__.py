"""Lesson 4, programs as templates: a network is a program with blanks, and training searches all the programs
it can be for the best one."""

from __future__ import annotations

from core.excerpt import source_lines
from core.fit import fit
from core.lesson import Lesson
from core.lessons.templates import experiment
from core.lessons.templates.experiment import Race, TemplatesSettings, report, run, summary

__all__ = ["LESSON", "Race", "TemplatesSettings", "bench", "excerpts", "snippet"]

STEPS = (
    "A program with blanks",
    "The race: three ways of searching",
    "The program each search found",
    "Why gradient descent wins",
    "Under the hood",
)


def excerpts() -> dict[str, str]:
    """The code the page shows: gradient descent's tries, and the nudge every lesson's training makes."""
    return {
        "tries": source_lines(experiment._gradient_descent, "weights = start.clone()", "return weights.detach()"),
        "nudge": source_lines(fit, "output = loss_of(batch)", "optimizer.step()"),
    }


def snippet(settings: TemplatesSettings) -> str:
    """The whole race on the page, from Python."""
    return (
        "from core.lessons.templates import TemplatesSettings, run\n"
        "from core.lessons.templates.experiment import program_text\n"
        f"result = run(TemplatesSettings(budget={settings.budget}, seed={settings.seed}))\n"
        "for search in result.searches:\n"
        "    print(search.name, search.final_error, search.test_accuracy)\n"
        "print(program_text(result.search('gradient').program))"
    )


def bench(repeats: int) -> dict:
    """Seconds of the default race (3 × 300 programs tried), pictures already drawn (the page keeps them): median."""
    from core.bench import median_seconds

    settings = TemplatesSettings()
    data = experiment.make_data(settings)
    return {"templates_race_seconds": round(median_seconds(lambda: experiment.race(settings, data), repeats), 3)}


LESSON = Lesson(
    id="templates",
    title="Programs as templates",
    idea="training searches all the programs a network can be for the best one",
    page="pages/4_Programs_as_templates.py",
    icon="🧩",
    settings=TemplatesSettings,
    steps=STEPS,
    run=run,
    report=report,
    summary=summary,
    bench=bench,
    excerpts=excerpts,
    snippet=snippet,
)
