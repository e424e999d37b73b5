"""Lesson: Bunnies and grass — does the network recognise bunnies, or the lawn behind them?"""

from __future__ import annotations

import pages.shared.layout  # noqa: F401, I001 - first of all: it imports the whole syllabus in one go (two first
# visits importing two lessons' packages at once deadlocked on Python's import locks, issue 9)
from dataclasses import replace

import numpy as np
import streamlit as st

from core.explain import METHODS
from core.lessons import lesson as syllabus_lesson
from core.lessons import number as lesson_number
from core.lessons.bunnies import LESSON
from core.lessons.bunnies.experiment import (
    HEADLINE_METHOD,
    MAP_MARGINS,
    BunniesData,
    BunniesSettings,
    Evaluation,
    EvidenceReport,
    describe,
    evaluate,
    evidence_report,
    make_data,
    methods_story,
    picture_groups,
    picture_maps,
    thresholds,
    train_model,
    verdict,
)
from core.lessons.bunnies.entries import EXTRA_OPTIONS, PICTURE_OPTIONS, evidence_key, scores_key
from core.lessons.bunnies.figures import background_swap as swap_figure
from core.lessons.bunnies.figures import evidence_by_part, learning_curve
from core.overlay import enlarge, map_scale, overlay
from core.prepare import missing, prepare
from core.scenes import COARSE_CLASSES
from core.training import TrainResult
from pages.shared.layout import (
    Handoff,
    cache,
    computed,
    drop_hand_off,
    failed,
    handed_to,
    map_legend,
    setup_page,
    store,
    story,
    url_flag,
)

PICTURE_CHOICES = {
    "a picture it got right": "right",
    "a picture it got wrong": "wrong",
    "a surprise picture": "surprise",
}
STEPS = LESSON.steps
PREPARE_SECONDS = 9  # one reachable setting, trained and measured, on average on this 2-core machine (netlens prepare)

page = setup_page("bunnies")


def network_key(settings: BunniesSettings, handoff: Handoff | None = None) -> object:
    """What a network's scores, maps and evidence are stored under: its training settings (any choice of
    methods), or, for a network handed over by another lesson, the hand-off's own key."""
    return settings.training_key() if handoff is None else handoff.key


def trained(settings: BunniesSettings, handoff: Handoff | None = None) -> tuple[BunniesData, TrainResult, Evaluation]:
    """Pictures, trained network and scores for `settings`: from the shared stores, or made now behind a
    progress bar (training: in the server's one queue, with a live learning curve; never inside a cached
    function: see PITFALLS.md). The network does not depend on the methods, so it is stored without them.
    With a `handoff`, its network is used instead of training one."""
    total = settings.num_train + settings.extra_pictures
    data: BunniesData = computed(store("bunnies", "pictures"), settings.data_key(), f"Drawing {total:,} pictures…",
                                 lambda on_progress: make_data(settings, on_progress))

    def learn(on_progress):  # type: ignore[no-untyped-def]
        chart, history = st.empty(), []

        def report(progress):  # type: ignore[no-untyped-def]
            history.append(progress)
            on_progress(progress)
            if len(history) % 3 == 1 or progress.step == progress.total_steps:  # a figure costs ~30 ms to send
                chart.plotly_chart(learning_curve(history, settings.epochs), key=f"bunnies_live_curve_{progress.step}")

        return train_model(settings, data, report)

    key = network_key(settings, handoff)
    if handoff is not None:
        result: TrainResult = handoff.result  # type: ignore[assignment]
    else:
        result = computed(
            store("bunnies", "training"), key, "Learning…", learn,
            busy_text="Someone else is training this very network right now — waiting for their result.",
        )
    scores = store("bunnies", "results").get_or_compute(scores_key(key), lambda: evaluate(result.model(), data))
    return data, result, scores  # type: ignore[return-value]


def evidence(settings: BunniesSettings, data: BunniesData, result: TrainResult, handoff: Handoff | None = None
             ) -> EvidenceReport:
    """The evidence report for `settings`, with a progress bar while the methods run."""
    return computed(
        store("bunnies", "results"), evidence_key(network_key(settings, handoff), settings.methods),
        "Measuring where the evidence comes from…",
        lambda on_progress: evidence_report(result.model(), data, settings.seed, settings.methods, on_progress),
    )


def maps_for(settings: BunniesSettings, data: BunniesData, result: TrainResult, which: str, index: int,  # type: ignore[no-untyped-def]
             handoff: Handoff | None = None):
    scenes = data.surprise if which == "surprise" else data.test
    return store("bunnies", "maps").get_or_compute(
        (network_key(settings, handoff), settings.methods, which, index),
        lambda: picture_maps(result.model(), data, scenes.images[index], settings.seed, settings.methods),
    )


def show_maps(image: np.ndarray, predicted: int, confidence: float, maps: dict[str, np.ndarray], truth: int) -> None:
    verdict_word = "right" if predicted == truth else "wrong"
    st.markdown(
        f"It is a **{COARSE_CLASSES[truth]}**. The network said **{COARSE_CLASSES[predicted]}** "
        f"({confidence:.0%} sure) — {verdict_word}. The maps explain that answer."
    )
    columns = st.columns(len(maps) + 1)
    columns[0].image(enlarge(image, 3), caption="the picture", width="stretch")
    for column, (key, attribution) in zip(columns[1:], maps.items()):
        column.image(overlay(image, attribution, zoom=3, signed=METHODS[key].signed), caption=METHODS[key].name,
                     width="stretch")
    map_legend(list(maps))


def show_evidence(report: EvidenceReport, data: BunniesData) -> None:
    shares = {key: item.part_shares for key, item in report.methods.items()}
    names = {key: METHODS[key].name for key in report.methods}
    left, right = st.columns([3, 2])
    left.plotly_chart(evidence_by_part(shares, names, report.area_shares), key="bunnies_evidence_chart")
    right.plotly_chart(
        swap_figure(report.swap.original_confidence, report.swap.swapped_confidence, data.check.on_grass,
                    data.check.labels, data.check.classes),
        key="bunnies_swap_chart",
    )
    headline = report.methods[HEADLINE_METHOD]
    first, second = st.columns(2)
    first.metric(
        f"Evidence on the grass ({METHODS[HEADLINE_METHOD].name})",
        f"{headline.grass_share:.0%}",
        help="Share of the map's positive evidence that falls on grass, in the check pictures that have grass.",
    )
    first.caption(f"Grass covers {headline.grass_area:.0%} of those pictures; a map that gives it more than "
                  f"{headline.grass_area + MAP_MARGINS[HEADLINE_METHOD]:.0%} says the network leans on grass (the "
                  "margin that best matched the swap on 21 trained networks).")
    second.metric(
        "Swap the ground: confidence moves by",
        f"{100 * report.swap.reliance:.0f} points",
        help="Average change of the network's confidence in the right answer when the same animal is put on another ground.",
    )
    second.caption(f"{report.swap.flipped:.0%} of its answers flip when only the ground changes.")
    agrees = report.agrees(HEADLINE_METHOD)
    (st.success if agrees else st.warning)(verdict(report.relies_on_grass, agrees))
    st.markdown(methods_story({key: report.agrees(key) for key in report.methods}))


def show_before_after(before: tuple, after: tuple, extra: int) -> None:  # type: ignore[type-arg]
    """Side by side: surprise accuracy, grass evidence and the same surprise picture's map, on one scale."""
    pictures = []
    for settings, data, result, _scores, _report in (before, after):
        pictures.append(maps_for(settings, data, result, "surprise", 0))
    scale = map_scale(np.stack([maps[HEADLINE_METHOD] for _, _, maps in pictures]))
    columns = st.columns(2)
    titles = ("Before", f"After: + {extra:,} pictures")
    for index, (column, title, panel, picture) in enumerate(zip(columns, titles, (before, after), pictures)):
        settings, data, result, scores, report = panel
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


def teacher_panel() -> None:
    """Preparing the lesson for a class: every network the controls can reach at this seed, trained into the
    server's store (and its disk cache) before the students arrive."""
    # A switch, not an expander: counting what is ready looks up 528 cache entries, which every run of every
    # student's page would otherwise pay for.
    if st.toggle("For teachers: prepare this lesson for a class", key="bunnies_teacher"):
        todo, total = missing(LESSON, page.seed, cache())
        st.markdown(f"A class opening this lesson's links gets its results from the server's store at once — if they are "
                    f"ready. **{total - todo} of the {total}** networks the controls can reach at seed {page.seed} (every "
                    "grass rate × picture count, with and without each choice of extra pictures) are ready now, kept on "
                    "disk across restarts. The same from a terminal: `netlens prepare bunnies --seed "
                    f"{page.seed}`.")
        if st.button(f"Prepare this lesson for a class ({todo} networks to train, about "
                     f"{max(1, round(todo * PREPARE_SECONDS / 60))} min; keep this page open)", disabled=todo == 0,
                     key="bunnies_prepare"):
            st.session_state["bunnies_preparing"] = page.seed
        if todo and st.session_state.get("bunnies_preparing") == page.seed:
            try:
                prepared = computed(store("bunnies", "maps"), ("prepare", page.seed, todo), "Preparing the lesson…",
                                    lambda on_progress: prepare(LESSON, page.seed, cache(), on_progress))
                st.success(f"Prepared: {prepared.made} results computed in {prepared.seconds:.0f} s, "
                           f"{prepared.found} were ready already.")
            except Exception as error:  # noqa: BLE001
                failed("prepare the lesson", error)


# ---------------------------------------------------------------------------------------------------- page
st.title(LESSON.title)
story("bunnies", page.presenter)

# Every control is bound to the address bar (its key is the parameter), so a link restores this screen.
controls = st.columns([3, 2, 1.4], vertical_alignment="bottom")
grass = controls[0].slider("How often are bunnies photographed on grass?", 50, 100, 100, step=5, format="%d%%",
                           key="bunnies_grass", bind="query-params")
pictures = controls[1].select_slider("Pictures to learn from", options=PICTURE_OPTIONS, value=2000,
                                     key="bunnies_pictures", bind="query-params")
train_clicked = controls[2].button("Train the network", type="primary", width="stretch", key="bunnies_train")
controls[0].caption(f"Bunnies stand on grass in {grass}% of their photos, elephants in {100 - grass}% of theirs.")

settings = BunniesSettings(grass_rate=grass / 100, num_train=int(pictures), seed=page.seed)
# The results on screen belong to the settings of the last Train press (or of the shared link, whose
# `bunnies_trained=1` says "these settings were trained"), so moving a slider never starts a training by itself.
if train_clicked:
    drop_hand_off()  # back to this lesson's own network
handoff = handed_to("bunnies")  # a network another lesson sent here (lesson 10's tuner), this session only
if isinstance(handoff, str):
    st.warning(handoff)
    drop_hand_off()
    handoff = None
if handoff is not None:
    shown: BunniesSettings | None = handoff.settings  # type: ignore[assignment]
    st.session_state["bunnies_more"] = False
    url_flag("bunnies_trained", False)  # a link cannot carry a handed-over network
    url_flag("bunnies_more", False)
    st.info(f"These are the results and maps of **{handoff.label}**, handed over from lesson "
            f"{lesson_number(handoff.source)}, on this lesson's pictures ({describe(handoff.settings)}). Press **Train "
            "the network** to go back to this lesson's own network.")
    st.page_link(syllabus_lesson(handoff.source).page, label=f"Back to lesson {lesson_number(handoff.source)}, "
                                                    f"{syllabus_lesson(handoff.source).title}", icon=":material/arrow_back:")
else:
    if train_clicked or ("bunnies_shown" not in st.session_state and st.query_params.get("bunnies_trained") == "1"):
        st.session_state["bunnies_shown"] = settings
        st.session_state["bunnies_more"] = not train_clicked and st.query_params.get("bunnies_more") == "1"
    shown = st.session_state.get("bunnies_shown")
    url_flag("bunnies_trained", shown == settings)

teacher_panel()
if shown is None:
    st.info("Choose the settings and press **Train the network** — it takes a few seconds.")
    st.stop()
if shown != settings and handoff is None:
    url_flag("bunnies_more", False)
    st.info(f"You changed the settings. Press **Train the network** to train with them; below are the results "
            f"for {describe(shown)}.")

try:
    data, result, scores = trained(shown, handoff)
except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
    failed("train the network", error)
    st.stop()

st.header(f"1. {STEPS[0]}")
scores_column, chart_column = st.columns([1, 1])
with scores_column:
    first, second = st.columns(2)
    first.metric("Right on ordinary pictures", f"{scores.ordinary_accuracy:.0%}",
                 help=f"{len(data.test)} new pictures drawn the same way as the training pictures.")
    second.metric("Right on surprise pictures", f"{scores.surprise_accuracy:.0%}",
                  help=f"{len(data.surprise)} bunnies off the grass and elephants on it.")
    first.caption("new pictures, like the ones it learned from")
    second.caption("bunnies on sand or snow, elephants on a lawn")
    st.caption(f"Trained in {result.seconds:.1f} s on {describe(shown)}." if handoff is None else
               f"{handoff.label.capitalize()}: trained in {result.seconds:.1f} s by lesson {lesson_number(handoff.source)}.")
chart_column.plotly_chart(learning_curve(result.history, shown.epochs), key="bunnies_final_curve")

st.header(f"2. {STEPS[1]}")
st.markdown(LESSON.text("maps"))
groups = picture_groups(data, scores)
choice_column, number_column = st.columns([3, 2])
choice = choice_column.radio("Show me", list(PICTURE_CHOICES), horizontal=True, key="bunnies_choice",
                             bind="query-params")
group = groups[PICTURE_CHOICES[choice]]
if not group:
    st.info("It got every picture right, so there is no wrong one to show. Try a surprise picture.")
else:
    number = number_column.slider(f"Which one (of {len(group)})", 1, len(group), 1,
                                  key=f"bunnies_number_{PICTURE_CHOICES[choice]}",
                                  bind="query-params") if len(group) > 1 else 1
    which, index = group[number - 1]
    scenes = data.surprise if which == "surprise" else data.test
    try:
        predicted, confidence, maps = maps_for(shown, data, result, which, index, handoff)
        show_maps(scenes.images[index], predicted, confidence, maps, int(scenes.labels[index]))
    except Exception as error:  # noqa: BLE001
        failed("draw the maps", error)

st.header(f"3. {STEPS[2]}")
st.markdown(LESSON.text("evidence"))
try:
    report = evidence(shown, data, result, handoff)
    show_evidence(report, data)
except Exception as error:  # noqa: BLE001
    failed("measure the evidence", error)
    st.stop()

st.header(f"4. {STEPS[3]}")
st.markdown(LESSON.text("more_pictures"))
more_left, more_right = st.columns([3, 1.4], vertical_alignment="bottom")
extra = more_left.select_slider("Extra pictures that break the pattern", options=EXTRA_OPTIONS, value=500,
                                key="bunnies_extra", bind="query-params")
if more_right.button("Show it more pictures and retrain", width="stretch", key="bunnies_retrain",
                     disabled=handoff is not None):
    st.session_state["bunnies_more"] = True
more = bool(st.session_state.get("bunnies_more")) and handoff is None
if handoff is not None:
    st.caption(f"This step retrains this lesson's own network; {handoff.label} came from lesson "
               f"{lesson_number(handoff.source)}. Press **Train the network** at the top to go back to it.")
url_flag("bunnies_more", more and shown == settings)
if more:
    after_settings = replace(shown, extra_pictures=int(extra))
    try:
        after_data, after_result, after_scores = trained(after_settings)
        after_report = evidence(after_settings, after_data, after_result)
        show_before_after((shown, data, result, scores, report),
                          (after_settings, after_data, after_result, after_scores, after_report), int(extra))
    except Exception as error:  # noqa: BLE001
        failed("retrain with more pictures", error)

with st.expander("Under the hood"):
    st.markdown(LESSON.text("under_the_hood"))
    st.markdown(thresholds())
    st.code(LESSON.snippet(shown), language="python")
