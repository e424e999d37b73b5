"""Lesson: Seasoning to taste — add a loss that tones the grass down; how much? Taste, or let a tuner taste.

`experiment` trains the bunny network with the "Right for the Right Reasons" penalty on the grass pixels and
draws the "how much?" curve; `tuner` runs an Optuna study over width, learning rate, how long to train and the
seasoning strength, with two goals (ordinary and surprise accuracy); `figures` draws both. `LESSON` is what the
syllabus, the command line (`netlens seasoning`), the benchmark and the page use.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from core.excerpt import source_lines
from core.fit import Progress, ProgressCallback
from core.lesson import Lesson, setting, settings_json
from core.lessons.seasoning.experiment import (
    STRENGTHS,
    Curve,
    Recipe,
    SeasoningSettings,
    curve,
    grass_penalty,
    make_data,
    train_seasoned,
)
from core.lessons.seasoning.tuner import StudyResult, TunerSettings, run_study

STEPS: tuple[str, ...] = (
    "A pinch of seasoning",
    "How much? Taste at every strength",
    "Let a tuner taste for you",
    "The chosen network's maps",
    "Under the hood",
)


@dataclass(frozen=True)
class LessonSettings:
    """What `netlens seasoning` runs: the curve (its settings), then a study of `trials` trials (0: none)."""

    strengths: tuple[float, ...] = setting(STRENGTHS, "seasoning strengths of the curve, comma-separated")
    seeds: int = setting(2, "networks per strength on the curve, each from its own seed")
    trials: int = setting(20, "the tuner's budget of trials (0: no study)")
    executions: int = setting(2, "networks per trial of the tuner, each from its own seed")
    prune: bool = setting(True, "let the tuner stop hopeless trials early")
    seed: int = setting(0, "seed of the pictures, the networks and the tuner")

    def __post_init__(self) -> None:
        if self.trials < 0:
            raise ValueError(f"trials must be zero or more, got {self.trials}")
        self.curve_settings()  # the curve's and the tuner's own checks
        if self.trials:
            self.tuner_settings()

    def curve_settings(self) -> SeasoningSettings:
        return SeasoningSettings(strengths=self.strengths, seeds=self.seeds, seed=self.seed)

    def tuner_settings(self) -> TunerSettings:
        return TunerSettings(trials=self.trials, executions=self.executions, prune=self.prune, seed=self.seed)


@dataclass(frozen=True)
class LessonResult:
    settings: LessonSettings
    curve: Curve
    study: StudyResult | None


def run(settings: LessonSettings, on_progress: ProgressCallback | None = None) -> LessonResult:
    """The curve, then the study: the whole lesson headless (what `netlens seasoning` runs)."""
    stages = 2 if settings.trials else 1

    def part(index: int) -> ProgressCallback | None:
        if on_progress is None:
            return None
        return lambda progress: on_progress(replace(progress, stage_index=index, stages=stages))

    drawn = curve(settings.curve_settings(), part(0))
    study = run_study(settings.tuner_settings(), part(1)) if settings.trials else None
    return LessonResult(settings, drawn, study)


def curve_report(drawn: Curve) -> dict:
    names = ("ordinary_accuracy", "surprise_accuracy", "grass_share")
    return {
        "points": [
            {"strength": point.strength,
             **{name: round(point.mean(name), 4) for name in names},
             "per_seed": [{name: round(getattr(item, name), 4) for name in names} for item in point.tastes]}
            for point in drawn.points
        ],
        "best_strength": drawn.best().strength,
        "grass_area": round(drawn.points[0].tastes[0].grass_area, 4),
        "seconds": round(drawn.seconds, 2),
    }


def study_report(study: StudyResult) -> dict:
    chosen = study.record(study.chosen)
    return {
        "settings": settings_json(study.settings),
        "trials": [
            {"number": record.number, "state": record.state, "width": record.recipe.width,
             "learning_rate": round(record.recipe.learning_rate, 5), "epochs": record.recipe.epochs,
             "strength": round(record.recipe.strength, 4), "ordinary_accuracy": round(record.ordinary_accuracy, 4),
             "surprise_accuracy": round(record.surprise_accuracy, 4), "networks": len(record.ordinary),
             "seconds": round(record.seconds, 2)}
            for record in study.records
        ],
        "pareto_front": study.pareto,
        "chosen": {"trial": study.chosen, "validation": {"ordinary_accuracy": round(chosen.ordinary_accuracy, 4),
                                                         "surprise_accuracy": round(chosen.surprise_accuracy, 4)},
                   "test": {"ordinary_accuracy": round(study.chosen_test.ordinary_accuracy, 4),
                            "surprise_accuracy": round(study.chosen_test.surprise_accuracy, 4),
                            "grass_share": round(study.chosen_test.grass_share, 4)}},
        "networks_trained": study.networks_trained,
        "networks_budget": study.settings.trials * study.settings.executions,
        "pruned_trials": study.pruned,
        "seconds": round(study.seconds, 2),
    }


def report(result: LessonResult) -> dict:
    """The curve and the study as JSON (what `netlens seasoning --json` prints)."""
    return {
        "settings": settings_json(result.settings),
        "curve": curve_report(result.curve),
        "study": study_report(result.study) if result.study is not None else None,
    }


def summary(result: dict) -> str:
    """The curve as a small table, then the study's chosen trial."""
    lines = [f"{'strength':>9}  {'ordinary':>8}  {'surprise':>8}  grass evidence"]
    lines += [f"{point['strength']:>9g}  {point['ordinary_accuracy']:>8.0%}  {point['surprise_accuracy']:>8.0%}  "
              f"{point['grass_share']:.0%}" for point in result["curve"]["points"]]
    lines.append(f"best average of both goals on the curve: strength {result['curve']['best_strength']:g}")
    study = result["study"]
    if study is not None:
        chosen = next(trial for trial in study["trials"] if trial["number"] == study["chosen"]["trial"])
        lines.append(f"tuner: {len(study['trials'])} trials ({study['pruned_trials']} stopped early, "
                     f"{study['networks_trained']} of {study['networks_budget']} networks trained) in "
                     f"{study['seconds']:.0f} s; Pareto front: trials {', '.join(map(str, study['pareto_front']))}")
        test = study["chosen"]["test"]
        lines.append(f"chosen trial {chosen['number']}: width {chosen['width']}, learning rate "
                     f"{chosen['learning_rate']:.3g}, {chosen['epochs']} passes, strength {chosen['strength']:.3g} → "
                     f"fresh pictures: ordinary {test['ordinary_accuracy']:.0%}, surprise {test['surprise_accuracy']:.0%}")
    return "\n".join(lines)


def bench(repeats: int) -> dict:
    """One plain and one seasoned training of the page's recipe (after a warm-up training: the first in a process
    prepares the CPU kernels), and the default study (20 trials × 2 networks, pruner on), in wall-clock and CPU
    seconds (the CPU figure says what the study costs when the machine is shared)."""
    from core.lessons.seasoning.experiment import DataSettings

    data = make_data(DataSettings())
    train_seasoned(data, Recipe(epochs=1, strength=1.0), seed=0)  # warm-up
    timings = {}
    for name, strength in (("plain", 0.0), ("seasoned", 10.0)):
        started = time.perf_counter()
        train_seasoned(data, Recipe(strength=strength), seed=0)
        timings[name] = time.perf_counter() - started
    cpu = time.process_time()
    study = run_study(TunerSettings())
    return {
        "seasoning_plain_training_seconds": round(timings["plain"], 3),
        "seasoning_seasoned_training_seconds": round(timings["seasoned"], 3),
        "seasoning_study_trials": study.settings.trials,
        "seasoning_study_networks_trained": study.networks_trained,
        "seasoning_study_pruned_trials": study.pruned,
        "seasoning_study_seconds": round(study.seconds, 2),
        "seasoning_study_cpu_seconds": round(time.process_time() - cpu, 2),
    }


def excerpts() -> dict[str, str]:
    """The code the page shows: the seasoning (the penalty) and the pruner's question after each network."""
    return {
        "penalty": source_lines(grass_penalty, "inputs = inputs.detach()", "return logits"),
        "loss": source_lines(train_seasoned, "def loss_of", "return nn.functional.cross_entropy(logits, targets[batch]) +"),
        "pruning": source_lines(run_study, "shadow.report(", "break"),
    }


def snippet(settings: LessonSettings) -> str:
    """The page's curve and study, from Python."""
    return (
        "from core.lessons.seasoning.experiment import SeasoningSettings, curve\n"
        "from core.lessons.seasoning.tuner import TunerSettings, run_study\n"
        f"drawn = curve({settings.curve_settings()!r})\n"
        "for point in drawn.points:\n"
        "    print(point.strength, point.mean('ordinary_accuracy'), point.mean('surprise_accuracy'), "
        "point.mean('grass_share'))\n"
        f"study = run_study({settings.tuner_settings()!r})\n"
        "print(study.pareto, study.chosen, study.chosen_test)"
    )


LESSON = Lesson(
    id="seasoning",
    title="Seasoning to taste",
    idea="add a loss to tone the grass down — how much? until it tastes right; a tuner can taste for you",
    page="pages/10_Seasoning_to_taste.py",
    icon="🧂",
    settings=LessonSettings,
    steps=STEPS,
    run=run,
    report=report,
    summary=summary,
    bench=bench,
    excerpts=excerpts,
    snippet=snippet,
)

__all__ = ["LESSON", "LessonSettings", "SeasoningSettings", "TunerSettings", "Progress"]
