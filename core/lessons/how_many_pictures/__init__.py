"""Lesson: How many pictures do I need? — it depends: bunny vs elephant needs few, bunny breed vs bunny breed many.

`experiment` trains one small network per task, number of pictures and seed (two at a time, in threads) and
reads off how many pictures each task needed; `maps` shows where a breed network trained on few and on many
pictures looks; `figures` draws the learning curves. `LESSON` is what the syllabus, the command line
(`netlens how_many_pictures`), the benchmark and the page use.
"""

from __future__ import annotations

from core.excerpt import source_lines
from core.fit import ProgressCallback
from core.lesson import Lesson, settings_json
from core.lessons.how_many_pictures.experiment import (
    CURVE_NAMES,
    Curves,
    HowManySettings,
    _jobs,
    headline,
    learning_curves,
    make_tests,
    train_network,
    transfer_line,
)

STEPS: tuple[str, ...] = (
    "Two tasks: an easy one and a hard one",
    "The learning curves, point by point",
    "Where the breed networks look",
    "Under the hood",
)


def plain(markdown: str) -> str:
    """A sentence without its Markdown emphasis, for the command line."""
    return markdown.replace("**", "")


def run(settings: HowManySettings, on_progress: ProgressCallback | None = None) -> Curves:
    """The whole lesson: every training, then the maps."""
    return learning_curves(settings, on_progress)


def _rounded(values) -> list[float]:  # type: ignore[no-untyped-def]
    return [round(float(value), 4) for value in values]


def report(curves: Curves) -> dict:
    """The curves as JSON: per curve the mean, lowest and highest accuracy at each size and each seed's points,
    the pictures each needed to reach the target, the headline, and the evidence on the ear tips."""
    settings = curves.settings
    result: dict = {"settings": settings_json(settings), "trainings": len(curves.points), "curves": {}}
    for curve in settings.curves:
        band = curves.band(curve)
        result["curves"][curve] = {
            "name": CURVE_NAMES[curve],
            "pictures_per_class": list(band.sizes),
            "mean_accuracy": _rounded(band.mean),
            "lowest_accuracy": _rounded(band.low),
            "highest_accuracy": _rounded(band.high),
            "per_seed": [[round(point.accuracy, 4) for point in curves.points
                          if point.curve == curve and point.replicate == replicate]
                         for replicate in range(settings.seeds)],
            "nudges": [settings.nudges(size) for size in band.sizes],
            "pictures_to_reach_target": _maybe(curves.needed(curve)),
            "pictures_to_reach_target_per_seed": [_maybe(value) for value in curves.needed_per_seed(curve)],
        }
    ratio = curves.ratio()
    result["breeds_need_times_more"] = None if ratio is None else round(ratio, 2)
    result["headline"] = plain(headline(curves))
    line = transfer_line(curves)
    result["transfer"] = None if line is None else plain(line)
    if curves.maps is not None:
        maps = curves.maps
        result["maps"] = {
            "method": maps.method,
            "pictures": len(maps.images),
            "ear_tip_area_share": round(maps.small.tip_area, 5),
            "networks": [{"pictures_per_class": item.per_class, "accuracy": round(item.accuracy, 4),
                          "ear_tip_evidence_share": round(item.tip_share, 5), "times_its_area": round(item.focus, 2)}
                         for item in (maps.small, maps.large)],
        }
    result["seconds"] = round(curves.seconds, 3)
    result["first_point_seconds"] = round(curves.first_point_seconds, 3)
    return result


def _maybe(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def summary(result: dict) -> str:
    """One line per curve (accuracy at each size), the headline, the transfer line and the maps' numbers."""
    settings = result["settings"]
    lines = [f"{result['trainings']} trainings ({settings['seeds']} seeds per point), target "
             f"{settings['target']:.0%}, seed {settings['seed']}",
             f"{'pictures of each':>44}  " + "  ".join(f"{size:>5,}" for size in settings["sizes"])]
    for curve in result["curves"].values():
        lines.append(f"{curve['name']:>44}  " + "  ".join(f"{100 * value:>4.0f}%" for value in curve["mean_accuracy"]))
    lines.append(result["headline"])
    if result["transfer"]:
        lines.append(result["transfer"])
    if "maps" in result:
        maps = result["maps"]
        for network in maps["networks"]:
            lines.append(f"breed network on {network['pictures_per_class']:,} of each: "
                         f"{network['ear_tip_evidence_share']:.1%} of its evidence on the ear tips "
                         f"({network['times_its_area']:.1f}× their {maps['ear_tip_area_share']:.1%} of the picture)")
    lines.append(f"took {result['seconds']:.1f} s; first point after {result['first_point_seconds']:.1f} s")
    return "\n".join(lines)


def bench(repeats: int) -> dict:
    """Seconds of drawing the test pictures (the page does it when it opens, once per server), then of the page's
    default curves after a Train press (one run: it is itself 54 trainings) and of its first point."""
    import time

    settings = HowManySettings()
    started = time.perf_counter()
    tests = make_tests(settings)
    drawing = time.perf_counter() - started
    curves = learning_curves(settings, tests=tests)
    return {
        "how_many_pictures_test_pictures_seconds": round(drawing, 3),
        "how_many_pictures_curves_seconds": round(curves.seconds, 3),
        "how_many_pictures_first_point_seconds": round(curves.first_point_seconds, 3),
        "how_many_pictures_trainings": len(curves.points),
    }


def excerpts() -> dict[str, str]:
    """The code the page shows: how many nudges a training makes, how the transfer network starts, and how the
    trainings run two at a time."""
    return {
        "nudges": source_lines(HowManySettings.nudges, "pictures = 2", "return max"),
        "start": source_lines(train_network, "model = build_model", "strict=False"),
        "threads": source_lines(learning_curves, "with single_thread()", "right = accuracy"),
        "order": source_lines(_jobs, "largest = settings", "return order"),
    }


def snippet(settings: HowManySettings) -> str:
    """The page's curves, from Python."""
    return (
        "from core.lessons.how_many_pictures.experiment import HowManySettings, headline, learning_curves\n"
        f"settings = {settings!r}\n"
        "curves = learning_curves(settings)\n"
        "for curve in settings.curves:\n"
        "    band = curves.band(curve)\n"
        "    print(curve, band.sizes, [round(value, 2) for value in band.mean])\n"
        "print(headline(curves))"
    )


LESSON = Lesson(
    id="how_many_pictures",
    title="How many pictures do I need?",
    idea="bunny vs elephant needs few pictures; bunny breed vs bunny breed needs many",
    page="pages/5_How_many_pictures.py",
    icon="📈",
    settings=HowManySettings,
    steps=STEPS,
    run=run,
    report=report,
    summary=summary,
    bench=bench,
    excerpts=excerpts,
    snippet=snippet,
)

__all__ = ["LESSON", "Curves", "HowManySettings"]
