"""Lesson: Splitting the data — an exam made of the practice questions rewards memorising."""

from __future__ import annotations

import pages.shared.layout  # noqa: F401, I001 - first of all: it imports the whole syllabus in one go (two first
# visits importing two lessons' packages at once deadlocked on Python's import locks, issue 9)
import streamlit as st

from core.lessons.splits import LESSON
from core.lessons.splits.experiment import (
    GENERALISED,
    PRACTICE_CHOICES,
    Piles,
    SplitRun,
    SplitSettings,
    count_knobs,
    make_piles,
    practice_answers,
    takeaways,
    train,
    wrong_share,
)
from core.lessons.splits.figures import accuracy_curves, pile_strip
from pages.shared.layout import computed, failed, setup_page, store, story, url_flag

DEFAULT = SplitSettings()

settings = setup_page("splits")


def piles_for(chosen: SplitSettings) -> Piles:
    """The three piles for `chosen`, drawn once per server and shared by every session."""
    pictures = chosen.num_practice + chosen.num_validation + chosen.num_test
    return computed(store(LESSON.id, "pictures"), chosen.data_key(), f"Drawing {pictures:,} pictures…",
                    lambda on_progress: make_piles(chosen))


def trained(chosen: SplitSettings, piles: Piles) -> SplitRun:
    """The training for `chosen`: from the lesson's shared store, or trained now (in the server's training
    queue) behind a progress bar."""
    return computed(store(LESSON.id, "training"), chosen, f"Practising on {chosen.num_practice:,} pictures…",
                    lambda on_progress: train(chosen, piles, on_progress),
                    "Someone else is training this very network right now — waiting for their result.")


# ---------------------------------------------------------------------------------------------------- page
st.title(LESSON.title)
story(LESSON.id, settings.presenter)

controls = st.columns([2.6, 2.4, 1.1], vertical_alignment="bottom")
pictures = controls[0].select_slider("Pictures to practise on", options=PRACTICE_CHOICES, value=DEFAULT.num_practice,
                                     key="splits_pictures", bind="query-params",
                                     help="The practice pile: the only pictures the network learns from.")
shuffle = controls[1].toggle("Shuffle the answers (labels)", value=DEFAULT.shuffle_answers, key="splits_shuffle",
                             bind="query-params",
                             help="Give the practice pictures their names in a shuffled order: about half are "
                                  "wrong, so there is nothing to learn — only to memorise.")
train_clicked = controls[2].button("Train", type="primary", width="stretch")

chosen = SplitSettings(num_practice=int(pictures), shuffle_answers=bool(shuffle), seed=settings.seed)
if train_clicked or (st.query_params.get("splits_trained") == "1" and "splits_live" not in st.session_state):
    st.session_state["splits_live"] = True  # from now on every change trains at once (about a second)
live = bool(st.session_state.get("splits_live"))
url_flag("splits_trained", live)

try:
    piles = piles_for(chosen)
except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
    failed("draw the pictures", error)
    st.stop()

figure_column, piles_column = st.columns([3, 2], gap="medium")
with piles_column:
    answers = practice_answers(chosen, piles.practice_labels)
    wrong = f" — {wrong_share(answers, piles.practice_labels):.0%} now wrong (red)" if chosen.shuffle_answers else ""
    st.markdown(f"**Practice pile** · {chosen.num_practice:,} pictures with their answers{wrong}")
    st.image(pile_strip(piles.practice_images, "practice", columns=6, rows=2, answers=answers,
                        truth=piles.practice_labels), width="stretch")
    st.markdown(f"**Mock exam** (validation) · {chosen.num_validation:,} other pictures")
    st.image(pile_strip(piles.validation_images, "validation", columns=8), width="stretch")
    st.markdown(f"**Final exam** (test) · {chosen.num_test:,} more, opened once")
    st.image(pile_strip(piles.test_images, "test", columns=8), width="stretch")

with figure_column:
    try:
        run = trained(chosen, piles) if live else None
    except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
        failed("train the network", error)
        st.stop()
    if run is None:
        st.info(f"Three piles; no picture is in more than one. The network ({count_knobs(chosen):,} knobs) "
                f"practises only on the {chosen.num_practice:,} practice pictures. Press **Train** — it takes a "
                "second or two; after that, every change trains at once.")
        st.stop()
    st.plotly_chart(accuracy_curves(run), key="splits_curves")

metric_columns = st.columns(3)
metric_columns[0].metric("Right on the practice pile", f"{run.final_practice:.0%}",
                         help=f"After all {chosen.nudges} nudges, against the answers it was taught.")
metric_columns[1].metric("Right on the final exam", f"{run.final_test:.0%}",
                         delta=f"{-round(100 * run.gap)} points", delta_color="off" if run.gap <= GENERALISED else "normal",
                         help="After all the practice. Drawn for this lesson only: in real life the final exam is not "
                              "looked at during training.")
stopped = f"after {run.stopped_at} nudges" if run.best else "before any practice"
metric_columns[2].metric("Exam score to report", f"{run.exam_score:.0%}",
                         help=f"The final exam, opened once, at the moment the mock exam was best ({stopped}).")
st.markdown("\n".join(f"- {line}" for line in takeaways(run)))
st.caption("The final-exam curve (dotted) is drawn only for this lesson. In real life you would not look at it "
           "while training: you choose when to stop on the mock exam and open the final exam once (★).")
st.markdown(LESSON.text("takeaway"))

with st.expander("Under the hood"):
    st.markdown(LESSON.text("under_the_hood"))
    code = LESSON.excerpts()
    st.markdown("How the practice pictures are dealt out: a fresh shuffle every pass, full batches only — a "
                "remainder waits for the next pass (from `core/fit.py`, `Batches`):")
    st.code(code["batches"], language="python")
    st.markdown("The lines that make each nudge (from `core/fit.py`, `fit`):")
    st.code(code["nudge"], language="python")
    st.markdown("How the three piles are scored as it practises (from `core/lessons/splits/experiment.py`, `train`):")
    st.code(code["scoring"], language="python")
    st.markdown("The rule that chose when to stop:")
    st.code(code["stop"], language="python")
    st.markdown("This very training, from Python:")
    st.code(LESSON.snippet(chosen), language="python")
    st.caption(f"The nudges took {run.seconds:.2f} s on this computer ({chosen.passes:.1f} times through the "
               f"practice pile, {chosen.pictures_per_nudge} pictures per nudge).")
