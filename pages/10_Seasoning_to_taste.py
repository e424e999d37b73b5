"""Lesson: Seasoning to taste — an extra loss tones the grass down; how much? Taste, or let a tuner taste."""

from __future__ import annotations

import pages.shared.layout  # noqa: F401, I001 - first of all: it imports the whole syllabus in one go (two first
# visits importing two lessons' packages at once deadlocked on Python's import locks, issue 9)
import numpy as np
import streamlit as st

from core.lessons.seasoning import LESSON, LessonSettings
from core.lessons.seasoning.experiment import (
    STRENGTHS,
    Curve,
    Pinch,
    SeasoningData,
    SeasoningSettings,
    curve,
    make_data,
    pinch,
    surprise_maps,
    takeaways,
)
from core.lessons.seasoning.figures import how_much_curve, optuna_figures, trials_figure
from core.lessons.seasoning.tuner import StudyResult, TrialRecord, TunerSettings, run_study
from core.overlay import enlarge, map_scale, overlay
from core.scenes import COARSE_CLASSES
from core.lessons.bunnies.experiment import BunniesSettings
from pages.shared.layout import Handoff, computed, failed, handoff_link, map_legend, setup_page, store, story, url_flag

DEFAULT = LessonSettings()
PINCH_CHOICES = tuple(value for value in STRENGTHS if value > 0)
TRIAL_CHOICES = (5, 10, 20, 30, 40)
SEED_CHOICES = (1, 2, 3)
EXECUTION_CHOICES = (1, 2, 3)
MAP_PICTURES = 4  # surprise pictures whose maps are shown
STEPS = LESSON.steps

page = setup_page("seasoning")


def restored(flag: str, name: str, wanted: object, pressed: bool) -> object:
    """What is on screen for one step: the settings of its last press, or of a shared link (`flag=1`) on the
    first run; the address bar says whether the screen still matches the controls."""
    if pressed or (name not in st.session_state and st.query_params.get(flag) == "1"):
        st.session_state[name] = wanted
    shown = st.session_state.get(name)
    url_flag(flag, shown is not None and shown == wanted)
    return shown


def pictures(chosen: SeasoningSettings) -> SeasoningData:
    data_settings = chosen.data_settings(chosen.seed)
    return computed(store(LESSON.id, "pictures"), data_settings,
                    f"Drawing {data_settings.num_train + 2 * data_settings.num_test:,} pictures…",
                    lambda on_progress: make_data(data_settings))


def cooked(chosen: SeasoningSettings, strength: float) -> Pinch:
    data = pictures(chosen)
    return computed(store(LESSON.id, "training"), ("pinch", chosen, strength), "Cooking…",
                    lambda on_progress: pinch(chosen, data, strength, on_progress),
                    "Someone else is cooking these very networks right now — waiting for their result.")


def tasted(chosen: SeasoningSettings) -> Curve:
    return computed(store(LESSON.id, "training"), ("curve", chosen), "Tasting every strength…",
                    lambda on_progress: curve(chosen, on_progress),
                    "Someone else is drawing this very curve right now — waiting for their result.")


def trial_rows(records: list[TrialRecord], pareto: list[int] = (), chosen: int | None = None) -> list[dict]:  # type: ignore[assignment]
    return [
        {
            "trial": record.number,
            "width": record.recipe.width,
            "learning rate": round(record.recipe.learning_rate, 4),
            "passes": record.recipe.epochs,
            "strength": round(record.recipe.strength, 2),
            "ordinary": f"{record.ordinary_accuracy:.0%}",
            "surprise": f"{record.surprise_accuracy:.0%}",
            "networks": len(record.ordinary),
            "result": ("chosen" if record.number == chosen else "best trade-off" if record.number in pareto
                       else "stopped early" if record.state == "pruned" else "tried"),
        }
        for record in records
    ]


def tuned(chosen: TunerSettings) -> StudyResult:
    """The study for `chosen`, from the store or run now in the training queue, its trials arriving live."""
    def study(on_progress):  # type: ignore[no-untyped-def]
        left, right = st.columns(2)
        chart, front, table = left.empty(), right.empty(), st.empty()

        def on_trial(records: list[TrialRecord], live) -> None:  # type: ignore[no-untyped-def]
            chart.plotly_chart(trials_figure(records), key=f"seasoning_live_trials_{len(records)}")
            front.plotly_chart(optuna_figures(live, only=("pareto",))["pareto"],
                               key=f"seasoning_live_pareto_{len(records)}")
            table.dataframe(trial_rows(records), hide_index=True, width="stretch")

        result = run_study(chosen, on_progress, on_trial)
        chart.empty(), front.empty(), table.empty()
        return result

    return computed(store(LESSON.id, "training"), chosen, "The tuner is tasting…", study,
                    "Someone else is running this very study right now — waiting for their result.")


def show_maps(data: SeasoningData, answers: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
    """Rows of Integrated Gradients maps on the first surprise pictures, one row per network, one shared scale."""
    scale = map_scale(np.stack([maps for _, _, maps in answers]))
    columns = st.columns([1.2] + [1] * MAP_PICTURES)
    columns[0].markdown("**the picture**")
    for index, column in enumerate(columns[1:]):
        where = "on grass" if data.surprise.on_grass[index] else "off the grass"
        truth = COARSE_CLASSES[int(data.surprise.labels[index])]
        column.image(enlarge(data.surprise.images[index], 4), caption=f"{truth} {where}", width="stretch")
    for name, predicted, maps in answers:
        columns = st.columns([1.2] + [1] * MAP_PICTURES)
        columns[0].markdown(f"**{name}**")
        for index, column in enumerate(columns[1:]):
            said = COARSE_CLASSES[int(predicted[index])]
            right = "right" if predicted[index] == data.surprise.labels[index] else "wrong"
            column.image(overlay(data.surprise.images[index], maps[index], scale=scale, zoom=4), width="stretch",
                         caption=f"says {said} ({right})")
    map_legend(["ig"])
    st.caption("Integrated Gradients maps, all on one shared colour scale so their strength can be compared. A fainter "
               "map means weaker pushes overall: its pushes add up to how far the answer moved from the plain "
               "picture's, so a less sure network gets a fainter map.")


def metrics_row(label: str, taste, reference=None) -> None:  # type: ignore[no-untyped-def]
    columns = st.columns([1.2, 1, 1, 1])
    columns[0].markdown(f"**{label}**")
    for column, name, title in ((columns[1], "ordinary_accuracy", "Right on ordinary pictures"),
                                (columns[2], "surprise_accuracy", "Right on surprise pictures"),
                                (columns[3], "grass_share", "Evidence on the grass")):
        value = getattr(taste, name)
        delta = None if reference is None else f"{100 * (value - getattr(reference, name)):+.0f} points"
        column.metric(title, f"{value:.0%}", delta=delta, delta_color="inverse" if name == "grass_share" else "normal")


# ---------------------------------------------------------------------------------------------------- page
st.title(LESSON.title)
story(LESSON.id, page.presenter)
base = SeasoningSettings(seeds=DEFAULT.seeds, seed=page.seed)

# 1. ---------------------------------------------------------------------------------------- a pinch
st.header(f"1. {STEPS[0]}")
st.markdown(LESSON.text("pinch"))
left, right = st.columns([3, 1.4], vertical_alignment="bottom")
strength = left.select_slider("How strongly to tone down the grass", options=PINCH_CHOICES, value=1.0,
                              format_func=lambda value: f"{value:g}", key="seasoning_strength", bind="query-params")
cook = right.button("Cook with and without", type="primary", width="stretch", key="seasoning_cook")
shown_pinch = restored("seasoning_cooked", "seasoning_pinch", (base, float(strength)), cook)
if shown_pinch is None:
    st.info("Press **Cook with and without**: the same network is trained twice, plain and seasoned — a few "
            "seconds.")
else:
    if shown_pinch != (base, float(strength)):
        st.info(f"You moved the slider. Press **Cook with and without** to taste it; below: strength "
                f"{shown_pinch[1]:g}.")
    try:
        dish = cooked(*shown_pinch)  # type: ignore[misc]
        data = pictures(shown_pinch[0])  # type: ignore[index]
        metrics_row("no seasoning", dish.plain_taste)
        metrics_row(f"strength {dish.strength:g}", dish.seasoned_taste, dish.plain_taste)
        st.caption(f"Grass covers {dish.plain_taste.grass_area:.0%} of the pictures the evidence is measured on: a "
                   "map that ignored what is in the picture would give it that share. Trained on bunnies always on "
                   "grass, elephants never.")
        indices = list(range(MAP_PICTURES))
        show_maps(data, [("no seasoning", *surprise_maps(dish.plain, data, indices, base.seed)),
                         (f"strength {dish.strength:g}", *surprise_maps(dish.seasoned, data, indices, base.seed))])
    except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
        failed("cook the networks", error)

# 2. ---------------------------------------------------------------------------------------- how much?
st.header(f"2. {STEPS[1]}")
st.markdown(LESSON.text("how_much"))
left, right = st.columns([3, 1.4], vertical_alignment="bottom")
seeds = left.select_slider("Networks per strength (each from its own seed)", options=SEED_CHOICES,
                           value=DEFAULT.seeds, key="seasoning_seeds", bind="query-params")
for_curve = SeasoningSettings(seeds=int(seeds), seed=page.seed)
taste_clicked = right.button(f"Taste {len(for_curve.strengths)} strengths × {for_curve.seeds}", width="stretch",
                             key="seasoning_taste")
shown_curve = restored("seasoning_tasted", "seasoning_curve", for_curve, taste_clicked)
if shown_curve is not None:
    try:
        drawn = tasted(shown_curve)  # type: ignore[arg-type]
        st.plotly_chart(how_much_curve(drawn.points), key="seasoning_curve_chart")
        st.markdown("\n".join(f"- {line}" for line in takeaways(drawn)))
        st.markdown(LESSON.text("takeaway"))
        first, last = shown_curve.seed, shown_curve.seed + shown_curve.seeds - 1  # type: ignore[attr-defined]
        st.caption(f"{len(drawn.points) * shown_curve.seeds} networks in {drawn.seconds:.0f} s, "  # type: ignore[attr-defined]
                   + (f"seed {first}." if first == last else f"seeds {first} to {last}."))
    except Exception as error:  # noqa: BLE001
        failed("draw the curve", error)

# 3. ---------------------------------------------------------------------------------------- the tuner
st.header(f"3. {STEPS[2]}")
st.markdown(LESSON.text("tuner"))
controls = st.columns([2, 2, 2, 1.6], vertical_alignment="bottom")
trials = controls[0].select_slider("Budget: trials", options=TRIAL_CHOICES, value=DEFAULT.trials,
                                   key="seasoning_trials", bind="query-params")
executions = controls[1].select_slider("Networks per trial (seeds)", options=EXECUTION_CHOICES,
                                       value=DEFAULT.executions, key="seasoning_executions", bind="query-params")
prune = controls[2].toggle("Stop hopeless trials early", value=True, key="seasoning_prune", bind="query-params")
tune = controls[3].button("Start the tuner", type="primary", width="stretch", key="seasoning_tune")
wanted_study = TunerSettings(trials=int(trials), executions=int(executions), prune=bool(prune), seed=page.seed)
shown_study: TunerSettings | None = restored("seasoning_tuned", "seasoning_study", wanted_study, tune)  # type: ignore[assignment]
if shown_study is None:
    st.info(f"Press **Start the tuner**: {int(trials)} trials of {int(executions)} network"
            f"{'s' if int(executions) != 1 else ''} each, on this server's one training queue — about a minute.")
    st.stop()
if shown_study != wanted_study:
    st.info("You changed the tuner's settings. Press **Start the tuner** to run them; below: the last study.")
try:
    study = tuned(shown_study)
except Exception as error:  # noqa: BLE001
    failed("run the tuner", error)
    st.stop()

chosen_record = study.record(study.chosen)
st.plotly_chart(trials_figure(study.records, study.pareto, study.chosen), key="seasoning_trials_chart")
st.markdown(
    f"**{len(study.records)} trials, {study.pruned} stopped early** — {study.networks_trained} of "
    f"{shown_study.trials * shown_study.executions} networks trained, in {study.seconds:.0f} s. "
    f"{len(study.pareto)} trials are **best trade-offs** (no other trial beats them on both goals). The tuner "
    f"picks trial {study.chosen}, the trade-off with the best average: width {chosen_record.recipe.width}, "
    f"learning rate {chosen_record.recipe.learning_rate:.3f}, {chosen_record.recipe.epochs} passes, strength "
    f"{chosen_record.recipe.strength:.2g}. On fresh pictures it never saw: "
    f"**{study.chosen_test.ordinary_accuracy:.0%}** ordinary, **{study.chosen_test.surprise_accuracy:.0%}** surprise."
)
st.dataframe(trial_rows(study.records, study.pareto, study.chosen), hide_index=True, width="stretch",
             height=min(36 * (len(study.records) + 1) + 3, 400))
with st.expander("Optuna's own figures of this study"):
    figures = optuna_figures(study.study)
    tabs = st.tabs(["Pareto front", "History", "What mattered"][: len(figures)])
    for tab, (name, figure) in zip(tabs, figures.items()):
        tab.plotly_chart(figure, key=f"seasoning_optuna_{name}")
    st.caption("Drawn by optuna.visualization. History and importances are of the average of both goals; "
               "importances need at least two finished trials.")

# 4. ---------------------------------------------------------------------------------------- the chosen maps
st.header(f"4. {STEPS[3]}")
st.markdown(LESSON.text("chosen"))
labels = {number: f"trial {number}" + (" (the tuner's choice)" if number == study.chosen else "")
          for number in study.pareto}
picked = st.selectbox("Best trade-off to look at", list(labels), index=list(labels).index(study.chosen),
                      format_func=labels.get, key="seasoning_pick")
record = study.record(int(picked))
try:
    answers = surprise_maps(study.networks[record.number], study.data, list(range(MAP_PICTURES)), shown_study.seed)
    st.caption(f"Trial {record.number}: {record.ordinary_accuracy:.0%} right on ordinary and "
               f"{record.surprise_accuracy:.0%} on surprise validation pictures (its first network's maps).")
    show_maps(study.data, [(f"trial {record.number}", *answers)])
except Exception as error:  # noqa: BLE001
    failed("draw the maps", error)
handoff_link("bunnies", Handoff(
    source=LESSON.id,
    label=f"trial {record.number} of the tuner (width {record.recipe.width}, {record.recipe.epochs} passes, strength "
          f"{record.recipe.strength:.2g})",
    settings=BunniesSettings(grass_rate=shown_study.grass_rate, num_train=shown_study.num_train,
                             epochs=record.recipe.epochs, width=record.recipe.width, image_size=shown_study.image_size,
                             seed=shown_study.seed),
    result=study.networks[record.number],
), label=f"Open trial {record.number}'s network in lesson 1's maps")
st.caption("Lesson 1 shows this network every map method, the evidence by part and the background swap, on its "
           "own pictures drawn the same way (every bunny on grass).")

with st.expander("Under the hood"):
    st.markdown(LESSON.text("under_the_hood"))
    code = LESSON.excerpts()
    st.markdown("The seasoning: how much a small change of the grass would move the answer (from "
                "`core/lessons/seasoning/experiment.py`, `grass_penalty`):")
    st.code(code["penalty"], language="python")
    st.markdown("The loss each nudge follows (`train_seasoned`):")
    st.code(code["loss"], language="python")
    st.markdown("The pruner's question after each network of a trial (`core/lessons/seasoning/tuner.py`, "
                "`run_study`):")
    st.code(code["pruning"], language="python")
    st.markdown("This page's curve and study, from Python:")
    st.code(LESSON.snippet(LessonSettings(trials=shown_study.trials, executions=shown_study.executions,
                                          prune=shown_study.prune, seed=shown_study.seed)), language="python")
