"""Lesson: Batch size — how many pictures the network looks at before each nudge.

`experiment` trains one network per batch size on the same budget of pictures seen; `figures` draws their
learning curves side by side and what each cost. `LESSON` is what the syllabus, the command line
(`netlens batch_size`), the benchmark and the page use.
"""

from __future__ import annotations

from core.excerpt import source_lines
from core.fit import Batches, ProgressCallback, fit
from core.lesson import Lesson, settings_json
from core.lessons.batch_size.experiment import (
    ALL,
    BatchSizeSettings,
    Comparison,
    compare,
    make_data,
    run_comparison,
    takeaways,
)

STEPS: tuple[str, ...] = (
    "How many pictures per nudge?",
    "The learning curves, side by side",
    "What each batch size cost",
    "Under the hood",
)


def plain(markdown: str) -> str:
    """A takeaway without its Markdown emphasis, for the command line."""
    return markdown.replace("**", "")


def run(settings: BatchSizeSettings, on_progress: ProgressCallback | None = None) -> Comparison:
    """The whole lesson: draw the pictures, train one network per batch size, smallest first."""
    return run_comparison(settings, on_progress)


def report(comparison: Comparison) -> dict:
    """The comparison as JSON: one entry per batch size (its curve included), the best, the takeaways."""
    settings = comparison.settings
    return {
        "settings": settings_json(settings),
        "pictures_seen": settings.examples_seen,
        "runs": [
            {
                "pictures_per_nudge": run.batch_size,
                "all_pictures": run.everything,
                "label": run.label,
                "nudges_per_pass": run.nudges_per_pass,
                "nudges": run.nudges,
                "pictures_seen": run.examples_seen,
                "seconds": round(run.seconds, 4),
                "final_accuracy": run.final_accuracy,
                "final_loss": run.final_loss,
                "wobble": run.wobble,
                "setbacks": run.setbacks,
                "curve": {"seen": list(run.seen), "accuracy": list(run.accuracy), "loss": list(run.loss)},
            }
            for run in comparison.runs
        ],
        "best": comparison.best().label,
        "takeaways": [plain(line) for line in takeaways(comparison)],
        "seconds": round(comparison.seconds, 3),
    }


def summary(result: dict) -> str:
    """A small table (one line per batch size) and the takeaways."""
    settings = result["settings"]
    lines = [f"{len(result['runs'])} networks, each sees {result['pictures_seen']:,} pictures "
             f"({settings['passes']} pass{'es' if settings['passes'] != 1 else ''} through {settings['num_train']}), "
             f"seed {settings['seed']}",
             f"{'per nudge':>10}  {'nudges':>7}  {'seconds':>8}  right at the end"]
    lines += [f"{run['label']:>10}  {run['nudges']:>7,}  {run['seconds']:>8.2f}  {run['final_accuracy']:.0%}"
              for run in result["runs"]]
    lines += [f"- {line}" for line in result["takeaways"]]
    return "\n".join(lines)


def bench(repeats: int) -> dict:
    """Seconds of the page's default comparison (one run: it trains four networks), pictures already drawn."""
    settings = BatchSizeSettings()
    data = make_data(settings)
    return {"batch_size_comparison_seconds": round(compare(settings, data).seconds, 3)}


def excerpts() -> dict[str, str]:
    """The code the page shows: how the pictures are dealt out (core.fit.Batches), how one nudge is made
    (core.fit.fit)."""
    return {
        "batches": source_lines(Batches.__iter__, "while True", "yield"),
        "nudge": source_lines(fit, "batch = next(iterator)", "optimizer.step()"),
    }


def snippet(settings: BatchSizeSettings) -> str:
    """The page's comparison, from Python."""
    return (
        "from core.lessons.batch_size.experiment import BatchSizeSettings, compare, make_data\n"
        f"settings = {settings!r}\n"
        "comparison = compare(settings, make_data(settings))\n"
        "for run in comparison.runs:\n"
        "    print(run.label, run.nudges_per_pass, run.seconds, run.final_accuracy)"
    )


LESSON = Lesson(
    id="batch_size",
    title="Batch size",
    idea="how many examples the network looks at before each nudge",
    page="pages/7_Batch_size.py",
    icon="🧺",
    settings=BatchSizeSettings,
    steps=STEPS,
    run=run,
    report=report,
    summary=summary,
    bench=bench,
    excerpts=excerpts,
    snippet=snippet,
)

__all__ = ["ALL", "LESSON", "BatchSizeSettings", "Comparison"]
