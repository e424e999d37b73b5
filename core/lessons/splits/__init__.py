"""Lesson: Splitting the data — an exam made of the practice questions rewards memorising.

`experiment` draws three piles (practice, mock exam, final exam), trains a network big enough to learn its
practice pile by heart and chooses when to stop on the mock exam; `figures` draws the piles and the three curves.
`LESSON` is what the syllabus, the command line (`netlens splits`), the benchmark and the page use.
"""

from __future__ import annotations

from core.bench import median_seconds
from core.excerpt import source_lines
from core.fit import Batches, ProgressCallback, fit
from core.lesson import Lesson, settings_json
from core.lessons.splits.experiment import (
    SplitRun,
    SplitSettings,
    count_knobs,
    early_stop,
    make_piles,
    run_split,
    takeaways,
    train,
)

STEPS: tuple[str, ...] = (
    "Three piles of pictures",
    "Practice, mock exam, final exam",
    "The exam score to report",
    "Under the hood",
)


def plain(markdown: str) -> str:
    """A takeaway without its Markdown emphasis, for the command line."""
    return markdown.replace("**", "").replace("*", "")


def run(settings: SplitSettings, on_progress: ProgressCallback | None = None) -> SplitRun:
    """The whole lesson: draw the three piles and train on the practice pile, scoring all three as it goes."""
    return run_split(settings, on_progress)


def report(result: SplitRun) -> dict:
    """The training as JSON: the scores after all the practice, the gap and its verdict, the moment chosen on
    the mock exam and the exam score there, the curves and the takeaways."""
    settings = result.settings
    return {
        "settings": settings_json(settings),
        "knobs": count_knobs(settings),
        "passes": settings.passes,
        "final_practice": result.final_practice,
        "final_test": result.final_test,
        "gap": result.gap,
        "verdict": result.verdict,
        "wrong_answers": result.wrong_answers,
        "stopped_at": result.stopped_at,
        "mock_score": result.mock_score,
        "exam_score": result.exam_score,
        "curves": {"nudges": list(result.nudges), "practice": list(result.practice),
                   "validation": list(result.validation), "test": list(result.test)},
        "takeaways": [plain(line) for line in takeaways(result)],
        "seconds": round(result.seconds, 4),
    }


def summary(result: dict) -> str:
    """The three scores, the gap and the exam score to report, then the takeaways."""
    settings = result["settings"]
    shuffled = ", shuffled answers" if settings["shuffle_answers"] else ""
    lines = [f"{settings['num_practice']:,} practice pictures{shuffled}, {settings['nudges']} nudges, "
             f"seed {settings['seed']}",
             f"right on the practice pile: {result['final_practice']:.0%}",
             f"right on the final exam:    {result['final_test']:.0%} (gap {round(100 * result['gap'])} points: "
             f"{result['verdict']})",
             f"exam score to report:       {result['exam_score']:.0%} (stopped after {result['stopped_at']} nudges, "
             f"where the mock exam was best: {result['mock_score']:.0%})"]
    lines += [f"- {line}" for line in result["takeaways"]]
    return "\n".join(lines)


def bench(repeats: int) -> dict:
    """Median seconds of one training with the default 32 and with 1,024 practice pictures, piles already drawn."""
    few, many = SplitSettings(), SplitSettings(num_practice=1024)
    few_piles, many_piles = make_piles(few), make_piles(many)
    return {
        "splits_training_seconds": round(median_seconds(lambda: train(few, few_piles), repeats), 3),
        "splits_training_1024_seconds": round(median_seconds(lambda: train(many, many_piles), repeats), 3),
    }


def excerpts() -> dict[str, str]:
    """The code the page shows: full batches dealt out (core.fit.Batches), one nudge (core.fit.fit), the three
    piles scored as it goes (the lesson's `train`) and the rule that chose when to stop."""
    return {
        "batches": source_lines(Batches.__iter__, "while True", "yield"),
        "nudge": source_lines(fit, "batch = next(iterator)", "optimizer.step()"),
        "scoring": source_lines(train, "def score(nudges", "score(nudges)  # all three piles"),
        "stop": source_lines(early_stop, "def early_stop", "return int("),
    }


def snippet(settings: SplitSettings) -> str:
    """This very training, from Python."""
    return (
        "from core.lessons.splits.experiment import SplitSettings, make_piles, train\n"
        f"settings = {settings!r}\n"
        "run = train(settings, make_piles(settings))\n"
        "print(run.final_practice, run.final_test, run.stopped_at, run.exam_score)"
    )


LESSON = Lesson(
    id="splits",
    title="Splitting the data",
    idea="an exam with the practice questions rewards memorising",
    page="pages/6_Splitting_the_data.py",
    icon="📚",
    settings=SplitSettings,
    steps=STEPS,
    run=run,
    report=report,
    summary=summary,
    bench=bench,
    excerpts=excerpts,
    snippet=snippet,
)

__all__ = ["LESSON", "SplitRun", "SplitSettings"]
