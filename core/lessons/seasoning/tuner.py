"""A tuner that tastes for you: an Optuna study over a few settings of the seasoned bunny network.

Ranges instead of fixed values (width, learning rate, how long to train, seasoning strength), a budget of trials,
several networks per trial from different seeds (to average out luck), two goals at once — accuracy on ordinary
and on surprise pictures, measured on validation pictures the networks never learned from — so the result is a
Pareto front, not one winner. Optuna cannot prune a two-goal study (`Trial.report` raises NotImplementedError for
multi-objective studies), so its `MedianPruner` watches a companion one-goal study of the same trials, scored by the
average of the two accuracies after each network: a trial whose first network is worse than the median of the
earlier trials' first networks stops there. The chosen trial is then scored once on fresh test pictures.

Optuna's per-trial INFO lines and experimental warnings are silenced here, in this one module (`quiet`).
Studies live in memory (`InMemoryStorage`); a study is a pure function of its settings and seed.
"""

from __future__ import annotations

import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import optuna

from core.fit import Progress, ProgressCallback
from core.lesson import setting
from core.lessons.seasoning.experiment import (
    DataSettings,
    Recipe,
    SeasoningData,
    Taste,
    accuracies,
    make_data,
    taste,
    train_seasoned,
)
from core.seeds import stream
from core.training import TrainResult

WIDTHS: tuple[int, ...] = (4, 8, 16)
LEARNING_RATES: tuple[float, float] = (0.002, 0.05)  # log scale
EPOCHS: tuple[int, int] = (2, 6)
STRENGTHS: tuple[float, float] = (0.3, 300.0)  # log scale
GOALS: tuple[str, str] = ("right on ordinary pictures", "right on surprise pictures")

optuna.logging.set_verbosity(optuna.logging.WARNING)  # one INFO line per trial otherwise (PITFALLS.md)


@contextmanager
def quiet() -> Iterator[None]:
    """Optuna without its chatter: no INFO lines, no ExperimentalWarning (e.g. from its figures)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


@dataclass(frozen=True)
class TunerSettings:
    """One study. Hashable (the page's store key), printable, and all it depends on."""

    trials: int = setting(20, "budget: how many settings the tuner tries")
    executions: int = setting(2, "networks per trial, each from its own seed (luck averaged out)")
    prune: bool = setting(True, "stop a trial whose first network is worse than the median so far")
    grass_rate: float = setting(1.0, "how often training bunnies stand on grass", flag="grass")
    num_train: int = setting(400, "training pictures")
    num_validation: int = setting(160, "pictures in each validation set the tuner scores trials on")
    image_size: int = setting(32, "picture side, in pixels")
    seed: int = setting(0, "seed of the pictures, the tuner's choices and the networks")

    def __post_init__(self) -> None:
        if not 1 <= self.trials <= 200:
            raise ValueError(f"trials must be between 1 and 200, got {self.trials}")
        if not 1 <= self.executions <= 5:
            raise ValueError(f"executions must be between 1 and 5, got {self.executions}")
        if not 0.0 <= self.grass_rate <= 1.0:
            raise ValueError(f"grass_rate must be between 0 and 1, got {self.grass_rate}")
        if self.num_train < 2 or self.num_validation < 2:
            raise ValueError("num_train and num_validation must be at least 2")
        if self.image_size < 16:
            raise ValueError(f"image_size must be at least 16 pixels, got {self.image_size}")
        if self.seed < 0:
            raise ValueError(f"seed must be zero or more, got {self.seed}")

    def validation_settings(self) -> DataSettings:
        return DataSettings(self.grass_rate, self.num_train, self.num_validation, 48, self.image_size,
                            stream(self.seed, "tuner-pictures"))

    def test_settings(self) -> DataSettings:
        """Fresh pictures for the chosen trial's final score (same training pictures, new test pictures)."""
        return DataSettings(self.grass_rate, self.num_train, self.num_validation, 48, self.image_size,
                            stream(self.seed, "tuner-test"))


@dataclass(frozen=True)
class TrialRecord:
    """One trial as the page shows it."""

    number: int
    recipe: Recipe
    state: str  # "complete" or "pruned"
    ordinary: tuple[float, ...]  # validation accuracy of each network trained (fewer when pruned)
    surprise: tuple[float, ...]
    seconds: float

    @property
    def ordinary_accuracy(self) -> float:
        return sum(self.ordinary) / len(self.ordinary)

    @property
    def surprise_accuracy(self) -> float:
        return sum(self.surprise) / len(self.surprise)

    @property
    def score(self) -> float:
        """The average of the two goals: what the pruner compares."""
        return (self.ordinary_accuracy + self.surprise_accuracy) / 2


@dataclass
class StudyResult:
    settings: TunerSettings
    study: optuna.Study  # the two-goal study, in memory (its figures come from optuna.visualization)
    records: list[TrialRecord]
    pareto: list[int]  # trial numbers on the Pareto front (complete trials no other trial beats on both goals)
    chosen: int  # the Pareto trial with the best average of both goals
    networks: dict[int, TrainResult]  # trial number → its first network (execution 0), pruned trials too
    chosen_test: Taste  # that network on fresh test pictures (and its grass evidence)
    data: SeasoningData  # the training and validation pictures
    seconds: float

    @property
    def networks_trained(self) -> int:
        return sum(len(record.ordinary) for record in self.records)

    @property
    def pruned(self) -> int:
        return sum(record.state == "pruned" for record in self.records)

    @property
    def chosen_network(self) -> TrainResult:
        return self.networks[self.chosen]

    def record(self, number: int) -> TrialRecord:
        return next(record for record in self.records if record.number == number)


def suggest(trial: optuna.Trial) -> Recipe:
    """The search space: width, learning rate, how long to train, seasoning strength."""
    return Recipe(
        width=trial.suggest_categorical("width", WIDTHS),
        learning_rate=trial.suggest_float("learning_rate", *LEARNING_RATES, log=True),
        epochs=trial.suggest_int("epochs", *EPOCHS),
        strength=trial.suggest_float("strength", *STRENGTHS, log=True),
    )


def execution_seed(settings: TunerSettings, trial: int, execution: int) -> int:
    """The seed of one network of one trial: every trial's first network starts from the same weights."""
    return stream(settings.seed, f"tuner-network-{execution}")


def run_study(
    settings: TunerSettings,
    on_progress: ProgressCallback | None = None,
    on_trial: Callable[[list[TrialRecord], optuna.Study], None] | None = None,
) -> StudyResult:
    """Run the study trial by trial (ask and tell). `on_progress` hears each network as a stage of
    `trials × executions`; `on_trial(records so far, the study)` runs after each trial (either may raise to stop; the study is
    for drawing Optuna's figures live, not for changing)."""
    started = time.perf_counter()
    data = make_data(settings.validation_settings())
    stages = settings.trials * settings.executions
    records: list[TrialRecord] = []
    networks: dict[int, TrainResult] = {}
    with quiet():
        sampler = optuna.samplers.TPESampler(seed=stream(settings.seed, "tuner-sampler") % 2**31,
                                             n_startup_trials=min(8, settings.trials))
        study = optuna.create_study(directions=["maximize", "maximize"], sampler=sampler,
                                    storage=optuna.storages.InMemoryStorage(), study_name="seasoning")
        # The companion one-goal study the pruner watches (a two-goal study cannot report intermediate values).
        pruner = optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=0) if settings.prune else \
            optuna.pruners.NopPruner()
        companion = optuna.create_study(direction="maximize", pruner=pruner,
                                        sampler=optuna.samplers.RandomSampler(seed=0))
        for index in range(settings.trials):
            trial_started = time.perf_counter()
            trial, shadow = study.ask(), companion.ask()
            recipe = suggest(trial)
            ordinary: list[float] = []
            surprise: list[float] = []
            state = "complete"
            for execution in range(settings.executions):
                stage = index * settings.executions + execution

                def report(progress: Progress, stage: int = stage) -> None:
                    if on_progress is not None:
                        on_progress(Progress(stage + progress.step / max(1, progress.total_steps), stages,
                                             stage=f"Trial {index + 1} of {settings.trials}, network "
                                                   f"{execution + 1} of {settings.executions}",
                                             unit="networks", stage_index=0, stages=1))

                result = train_seasoned(data, recipe, execution_seed(settings, index, execution), report)
                model = result.model()
                scores = accuracies(model, data)
                ordinary.append(scores[0]), surprise.append(scores[1])
                if execution == 0:
                    networks[trial.number] = result
                shadow.report((sum(ordinary) + sum(surprise)) / (2 * len(ordinary)), execution)
                if execution < settings.executions - 1 and shadow.should_prune():
                    state = "pruned"
                    break
            values = (sum(ordinary) / len(ordinary), sum(surprise) / len(surprise))
            if state == "pruned":
                companion.tell(shadow, state=optuna.trial.TrialState.PRUNED)
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            else:
                companion.tell(shadow, sum(values) / 2)
                study.tell(trial, list(values))
            records.append(TrialRecord(trial.number, recipe, state, tuple(ordinary), tuple(surprise),
                                       time.perf_counter() - trial_started))
            if on_trial is not None:
                on_trial(list(records), study)
        pareto = sorted(trial.number for trial in study.best_trials)
    if not pareto:
        raise ValueError("every trial was stopped early; allow more trials or turn the pruner off")
    chosen = max(pareto, key=lambda number: next(r for r in records if r.number == number).score)
    test = make_data(settings.test_settings())
    chosen_test = taste(networks[chosen].model(), test, settings.seed)
    return StudyResult(settings, study, records, pareto, chosen, networks, chosen_test, data,
                       time.perf_counter() - started)


def pareto_records(records: list[TrialRecord]) -> list[TrialRecord]:
    """The complete trials no other complete trial beats on both goals (ties kept): for tests and the table."""
    complete = [record for record in records if record.state == "complete"]
    return [record for record in complete
            if not any(other.ordinary_accuracy >= record.ordinary_accuracy
                       and other.surprise_accuracy >= record.surprise_accuracy
                       and (other.ordinary_accuracy, other.surprise_accuracy)
                       != (record.ordinary_accuracy, record.surprise_accuracy)
                       for other in complete)]
