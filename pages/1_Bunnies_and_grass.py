"""Lesson: Bunnies and grass — does the network recognise bunnies, or the lawn behind them?"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from core.explain import METHODS
from core.figures import background_swap as swap_figure
from core.figures import evidence_by_part, learning_curve
from core.lessons import lesson_text
from core.overlay import enlarge, map_scale, overlay
from core.scenes import COARSE_CLASSES
from core.shortcut import (
    HEADLINE_METHOD,
    MAP_MARGIN,
    RELIANCE_THRESHOLD,
    EvidenceReport,
    Evaluation,
    ShortcutConfig,
    ShortcutData,
    evaluate,
    evidence_report,
    make_data,
    picture_maps,
    train_model,
)
from core.training import TrainResult
from pages.shared.legacy import failed, keep, map_legend, prepare_widget, remember, setup_page, stores, story

PICTURE_CHOICES = {
    "a picture it got right": "right",
    "a picture it got wrong": "wrong",
    "a surprise picture": "surprise",
}
PICTURE_OPTIONS, EXTRA_OPTIONS = (500, 1000, 2000, 4000), (250, 500, 1000)

settings = setup_page("Bunnies and grass", "🐰")
shared = stores()


def describe(config: ShortcutConfig) -> str:
    extra = f" + {config.extra_pictures:,} pattern-breaking pictures" if config.extra_pictures else ""
    return f"bunnies on grass {config.grass_rate:.0%} of the time, {config.num_train:,} pictures{extra}, seed {config.seed}"


def trained(config: ShortcutConfig) -> tuple[ShortcutData, TrainResult, Evaluation]:
    """Pictures, trained network and scores for `config`: from the shared stores, or made now with a
    progress bar and a live learning curve (never inside a cached function: see PITFALLS.md)."""
    data = shared.pictures.get(config.data_key())
    result = shared.training.get(config)
    if data is None or result is None:
        area = st.empty()
        with area.container():
            total = config.num_train + config.extra_pictures
            bar = st.progress(0.0, text=f"Drawing {total:,} pictures…")
            data = shared.pictures.get_or_compute(
                config.data_key(),
                lambda: make_data(config, lambda done: bar.progress(done, text=f"Drawing {total:,} pictures…")),
            )
            if shared.training.is_busy(config):
                st.info("Someone else is training this very network right now — waiting for their result.")
            elif shared.training.queue is not None and shared.training.queue.running:
                st.info("Another session is training a network right now; yours starts as soon as it is done.")
            bar.progress(0.0, text="Learning…")
            chart = st.empty()
            history = []

            def on_progress(report):  # type: ignore[no-untyped-def]
                history.append(report)
                bar.progress(report.fraction, text=f"Learning… {report.step} of {report.total_steps} nudges")
                if len(history) % 3 == 1 or report.step == report.total_steps:  # a figure costs ~30 ms to send
                    chart.plotly_chart(learning_curve(history, config.epochs), key=f"live_curve_{report.step}")

            result = shared.training.get_or_compute(config, lambda: train_model(config, data, on_progress))
        area.empty()
    scores = shared.results.get_or_compute(("scores", config), lambda: evaluate(result.model(), data))
    return data, result, scores  # type: ignore[return-value]


def evidence(config: ShortcutConfig, data: ShortcutData, result: TrainResult) -> EvidenceReport:
    """The evidence report for `config`, with a progress bar while the six methods run."""
    found = shared.results.get(("evidence", config))
    if found is not None:
        return found  # type: ignore[return-value]
    bar = st.progress(0.0, text="Measuring where the evidence comes from…")
    methods = list(METHODS)

    def on_method(index: int, key: str) -> None:
        bar.progress(index / len(methods), text=f"Measuring where the evidence comes from… ({METHODS[key].name})")

    report = shared.results.get_or_compute(
        ("evidence", config), lambda: evidence_report(result.model(), data, config.seed, methods, on_method)
    )
    bar.empty()
    return report  # type: ignore[return-value]


def maps_for(config: ShortcutConfig, data: ShortcutData, result: TrainResult, which: str, index: int):  # type: ignore[no-untyped-def]
    scenes = data.surprise if which == "surprise" else data.test
    return shared.maps.get_or_compute(
        (config, which, index), lambda: picture_maps(result.model(), data, scenes.images[index], config.seed)
    )


def show_maps(image: np.ndarray, predicted: int, confidence: float, maps: dict[str, np.ndarray], truth: int) -> None:
    verdict = "right" if predicted == truth else "wrong"
    st.markdown(
        f"It is a **{COARSE_CLASSES[truth]}**. The network said **{COARSE_CLASSES[predicted]}** "
        f"({confidence:.0%} sure) — {verdict}. The maps explain that answer."
    )
    columns = st.columns(len(maps) + 1)
    columns[0].image(enlarge(image, 3), caption="the picture", width="stretch")
    for column, (key, attribution) in zip(columns[1:], maps.items()):
        column.image(overlay(image, attribution, zoom=3, signed=METHODS[key].signed), caption=METHODS[key].name,
                     width="stretch")
    map_legend(list(maps))


def show_evidence(report: EvidenceReport, data: ShortcutData) -> None:
    shares = {key: item.part_shares for key, item in report.methods.items()}
    names = {key: METHODS[key].name for key in report.methods}
    left, right = st.columns([3, 2])
    left.plotly_chart(evidence_by_part(shares, names, report.area_shares), key="evidence_chart")
    right.plotly_chart(
        swap_figure(report.swap.original_confidence, report.swap.swapped_confidence, data.check.on_grass,
                    data.check.labels, data.check.classes),
        key="swap_chart",
    )
    headline = report.methods[HEADLINE_METHOD]
    first, second = st.columns(2)
    first.metric(
        f"Evidence on the grass ({METHODS[HEADLINE_METHOD].name})",
        f"{headline.grass_share:.0%}",
        help="Share of the map's positive evidence that falls on grass, in the check pictures that have grass.",
    )
    first.caption(f"Grass covers {headline.grass_area:.0%} of those pictures; a map that gives it clearly more "
                  "than that says the network leans on grass.")
    second.metric(
        "Swap the ground: confidence moves by",
        f"{100 * report.swap.reliance:.0f} points",
        help="Average change of the network's confidence in the right answer when the same animal is put on another ground.",
    )
    second.caption(f"{report.swap.flipped:.0%} of its answers flip when only the ground changes.")
    relies = "relies on the grass" if report.relies_on_grass else "does not rely on the grass"
    agreeing = [METHODS[key].name for key in report.methods if report.agrees(key)]
    disagreeing = [METHODS[key].name for key in report.methods if not report.agrees(key)]
    if report.agrees(HEADLINE_METHOD):
        st.success(f"**The map and the experiment agree: this network {relies}.**")
    else:
        st.warning(
            f"**The map and the experiment disagree.** The swap shows the network {relies}, but "
            f"{METHODS[HEADLINE_METHOD].name}'s map says otherwise. Trust the swap: it measures directly."
        )
    if disagreeing:
        st.markdown(f"Methods telling the same story as the swap: {', '.join(agreeing) or 'none'}. "
                    f"Telling a different story: **{', '.join(disagreeing)}** — a reminder that a map is a guess "
                    "about the network, not a measurement of it.")
    else:
        st.markdown("All six methods tell the same story as the swap.")


def show_before_after(before: tuple, after: tuple, extra: int) -> None:  # type: ignore[type-arg]
    """Side by side: surprise accuracy, grass evidence and the same surprise picture's map, on one scale."""
    pictures = []
    for config, data, result, _scores, _report in (before, after):
        pictures.append(maps_for(config, data, result, "surprise", 0))
    scale = map_scale(np.stack([maps[HEADLINE_METHOD] for _, _, maps in pictures]))
    columns = st.columns(2)
    titles = ("Before", f"After: + {extra:,} pictures")
    for index, (column, title, panel, picture) in enumerate(zip(columns, titles, (before, after), pictures)):
        config, data, result, scores, report = panel
        with column:
            st.subheader(title)
            metrics = st.columns(2)
            delta = None if index == 0 else f"{100 * (scores.surprise_accuracy - before[3].surprise_accuracy):+.0f} points"
            metrics[0].metric("Right on surprise pictures", f"{scores.surprise_accuracy:.0%}", delta=delta)
            metrics[1].metric("Evidence on the grass", f"{report.methods[HEADLINE_METHOD].grass_share:.0%}",
                              help=f"{METHODS[HEADLINE_METHOD].name}; grass covers "
                                   f"{report.methods[HEADLINE_METHOD].grass_area:.0%} of those pictures.")
            predicted, confidence, maps = picture
            st.image(overlay(data.surprise.images[0], maps[HEADLINE_METHOD], scale=scale, zoom=4), width=256,
                     caption=f"The same surprise picture: it says {COARSE_CLASSES[predicted]} ({confidence:.0%} sure)")
            st.caption(f"Swap the ground: confidence moves by {100 * report.swap.reliance:.0f} points.")
    st.caption(f"Both maps are {METHODS[HEADLINE_METHOD].name} on one shared colour scale, so their strength "
               "can be compared.")


# ---------------------------------------------------------------------------------------------------- page
st.title("Bunnies and grass")
story("bunnies", settings.presenter)

prepare_widget("bunnies_grass", 100, 50, 100)
prepare_widget("bunnies_pictures", 2000, 500, 4000)
prepare_widget("bunnies_extra", 500, 250, 1000)
prepare_widget("bunnies_trained", 0, 0, 1)
prepare_widget("bunnies_more", 0, 0, 1)
for key, options, default in (("bunnies_pictures", PICTURE_OPTIONS, 2000), ("bunnies_extra", EXTRA_OPTIONS, 500)):
    if st.session_state[key] not in options:
        st.session_state[key] = st.session_state[f"_{key}"] = default

controls = st.columns([3, 2, 1.4], vertical_alignment="bottom")
grass = controls[0].slider("How often are bunnies photographed on grass?", 50, 100, step=5, format="%d%%",
                           key="bunnies_grass", on_change=keep, args=("bunnies_grass",))
pictures = controls[1].select_slider("Pictures to learn from", options=PICTURE_OPTIONS, key="bunnies_pictures",
                                     on_change=keep, args=("bunnies_pictures",))
train_clicked = controls[2].button("Train the network", type="primary", width="stretch")
controls[0].caption(f"Bunnies stand on grass in {grass}% of their photos, elephants in {100 - grass}% of theirs.")

config = ShortcutConfig(grass_rate=grass / 100, num_train=int(pictures), seed=settings.seed)
# The results on screen belong to the settings of the last Train press (or of the shared link), so moving a
# slider afterwards never starts a training by itself.
if train_clicked or ("bunnies_shown" not in st.session_state and st.session_state["bunnies_trained"]):
    st.session_state["bunnies_shown"] = config
    if train_clicked:
        st.session_state["bunnies_more"] = st.session_state["_bunnies_more"] = 0
shown: ShortcutConfig | None = st.session_state.get("bunnies_shown")
remember({"bunnies_grass": grass, "bunnies_pictures": int(pictures),
          "bunnies_trained": int(shown == config), "bunnies_more": int(shown == config and st.session_state["bunnies_more"])})

if shown is None:
    st.info("Choose the settings and press **Train the network** — it takes a few seconds.")
    st.stop()
if shown != config:
    st.info(f"You changed the settings. Press **Train the network** to train with them; below are the results "
            f"for {describe(shown)}.")

try:
    data, result, scores = trained(shown)
except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
    failed("train the network", error)
    st.stop()

st.header("1. How well does it do?")
scores_column, chart_column = st.columns([1, 1])
with scores_column:
    first, second = st.columns(2)
    first.metric("Right on ordinary pictures", f"{scores.ordinary_accuracy:.0%}",
                 help=f"{len(data.test)} new pictures drawn the same way as the training pictures.")
    second.metric("Right on surprise pictures", f"{scores.surprise_accuracy:.0%}",
                  help=f"{len(data.surprise)} bunnies off the grass and elephants on it.")
    first.caption("new pictures, like the ones it learned from")
    second.caption("bunnies on sand or snow, elephants on a lawn")
    st.caption(f"Trained in {result.seconds:.1f} s on {describe(shown)}.")
chart_column.plotly_chart(learning_curve(result.history, shown.epochs), key="final_curve")

st.header("2. Where does it look?")
st.markdown(lesson_text("bunnies", "maps"))
test_predictions = scores.test_probabilities.argmax(1)
surprise_predictions = scores.surprise_probabilities.argmax(1)
groups = {
    "right": [("test", int(i)) for i in np.flatnonzero(test_predictions == data.test.labels)],
    "wrong": [("test", int(i)) for i in np.flatnonzero(test_predictions != data.test.labels)]
    + [("surprise", int(i)) for i in np.flatnonzero(surprise_predictions != data.surprise.labels)],
    "surprise": [("surprise", int(i)) for i in range(len(data.surprise))],
}
choice_column, number_column = st.columns([3, 2])
choice = choice_column.radio("Show me", list(PICTURE_CHOICES), horizontal=True, key="bunnies_choice")
group = groups[PICTURE_CHOICES[choice]]
if not group:
    st.info("It got every picture right, so there is no wrong one to show. Try a surprise picture.")
else:
    number = number_column.slider(f"Which one (of {len(group)})", 1, len(group), 1,
                                  key=f"bunnies_number_{PICTURE_CHOICES[choice]}") if len(group) > 1 else 1
    which, index = group[number - 1]
    scenes = data.surprise if which == "surprise" else data.test
    try:
        predicted, confidence, maps = maps_for(shown, data, result, which, index)
        show_maps(scenes.images[index], predicted, confidence, maps, int(scenes.labels[index]))
    except Exception as error:  # noqa: BLE001
        failed("draw the maps", error)

st.header("3. Where does the evidence come from — and is that true?")
st.markdown(lesson_text("bunnies", "evidence"))
try:
    report = evidence(shown, data, result)
    show_evidence(report, data)
except Exception as error:  # noqa: BLE001
    failed("measure the evidence", error)
    st.stop()

st.header("4. Show it more pictures")
st.markdown(lesson_text("bunnies", "more_pictures"))
more_left, more_right = st.columns([3, 1.4], vertical_alignment="bottom")
extra = more_left.select_slider("Extra pictures that break the pattern", options=EXTRA_OPTIONS, key="bunnies_extra",
                                on_change=keep, args=("bunnies_extra",))
if more_right.button("Show it more pictures and retrain", width="stretch"):
    st.session_state["bunnies_more"] = 1
remember({"bunnies_extra": int(extra), "bunnies_more": int(st.session_state["bunnies_more"])})
if st.session_state["bunnies_more"]:
    after_config = replace(shown, extra_pictures=int(extra))
    try:
        after_data, after_result, after_scores = trained(after_config)
        after_report = evidence(after_config, after_data, after_result)
        show_before_after((shown, data, result, scores, report),
                          (after_config, after_data, after_result, after_scores, after_report), int(extra))
    except Exception as error:  # noqa: BLE001
        failed("retrain with more pictures", error)

with st.expander("Under the hood"):
    st.markdown(lesson_text("bunnies", "under_the_hood"))
    st.markdown(
        f"Thresholds used on this page: a map leans on grass when grass gets more than {MAP_MARGIN:.0%} above its share "
        f"of the picture; the swap finds reliance above {RELIANCE_THRESHOLD:.0%} average change in confidence."
    )
    st.code(
        "from core.shortcut import ShortcutConfig, make_data, train_model, evaluate, evidence_report\n"
        f"config = {shown!r}\n"
        "data = make_data(config)\n"
        "model = train_model(config, data).model()\n"
        "print(evaluate(model, data).surprise_accuracy)\n"
        "report = evidence_report(model, data, seed=config.seed)",
        language="python",
    )
