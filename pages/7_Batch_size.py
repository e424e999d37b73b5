"""Lesson: Batch size — how many pictures the network looks at before each nudge."""

from __future__ import annotations

import pages.shared.layout  # noqa: F401, I001 - first of all: it imports the whole syllabus in one go (two first
# visits importing two lessons' packages at once deadlocked on Python's import locks, issue 9)
import streamlit as st

from core.lessons.batch_size import LESSON
from core.lessons.batch_size.experiment import (
    ALL,
    BATCH_SIZE_CHOICES,
    PASS_CHOICES,
    BatchData,
    BatchSizeSettings,
    Comparison,
    compare,
    make_data,
    takeaways,
)
from core.lessons.batch_size.figures import cost_bars, learning_curves
from pages.shared.layout import computed, failed, setup_page, store, story, url_flag

DEFAULT = BatchSizeSettings()

settings = setup_page("batch_size")


def size_label(size: int) -> str:
    return f"all {DEFAULT.num_train}" if size == ALL else str(size)


def describe(chosen: BatchSizeSettings) -> str:
    sizes = ", ".join(size_label(size) for size in sorted(chosen.batch_sizes, key=chosen.resolve))
    return (f"{sizes} pictures per nudge, {chosen.passes} pass{'es' if chosen.passes != 1 else ''} "
            f"({chosen.examples_seen:,} pictures seen each), seed {chosen.seed}")


def compared(chosen: BatchSizeSettings) -> Comparison:
    """The comparison for `chosen`: from the lesson's shared store, or trained now (in the server's training
    queue) behind a progress bar."""
    data: BatchData = computed(store(LESSON.id, "pictures"), chosen.data_key(),
                               f"Drawing {chosen.num_train + chosen.num_test:,} pictures…",
                               lambda on_progress: make_data(chosen))
    return computed(store(LESSON.id, "training"), chosen, "Training the networks…",
                    lambda on_progress: compare(chosen, data, on_progress),
                    "Someone else is training these very networks right now — waiting for their result.")


# ---------------------------------------------------------------------------------------------------- page
st.title(LESSON.title)
story(LESSON.id, settings.presenter)

controls = st.columns([3, 2, 1.3], vertical_alignment="bottom")
picked = controls[0].pills("Pictures per nudge to compare", BATCH_SIZE_CHOICES, selection_mode="multi",
                           default=list(DEFAULT.batch_sizes), format_func=size_label, key="batch_size_sizes",
                           bind="query-params")
passes = controls[1].select_slider(f"Times it looks through all {DEFAULT.num_train} pictures", options=PASS_CHOICES,
                                   value=DEFAULT.passes, key="batch_size_passes", bind="query-params")
train_clicked = controls[2].button("Train", type="primary", width="stretch", disabled=not picked)

picked = sorted(picked or [], key=DEFAULT.resolve)
chosen = BatchSizeSettings(batch_sizes=tuple(picked), passes=int(passes), seed=settings.seed) if picked else None
if train_clicked and chosen is not None:
    st.session_state["batch_size_shown"] = chosen
elif ("batch_size_shown" not in st.session_state and st.query_params.get("batch_size_trained") == "1"
      and chosen is not None):
    st.session_state["batch_size_shown"] = chosen  # a shared link: show what it describes without a press
shown: BatchSizeSettings | None = st.session_state.get("batch_size_shown")
url_flag("batch_size_trained", shown is not None and shown == chosen)

if chosen is None:
    st.warning("Pick at least one number of pictures per nudge.")
if shown is None:
    st.info(f"Every network will see {int(passes) * DEFAULT.num_train:,} pictures. Press **Train** — it takes a "
            "few seconds.")
    st.stop()
if shown != chosen:
    st.info(f"You changed the settings. Press **Train** to compare them; below: {describe(shown)}.")

try:
    comparison = compared(shown)
except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
    failed("train the networks", error)
    st.stop()

st.plotly_chart(learning_curves(comparison.runs), key="batch_size_curves")

table_column, bars_column = st.columns([5, 4])
with table_column:
    st.dataframe(
        [
            {
                "pictures per nudge": run.label,
                "nudges per pass": run.nudges_per_pass,
                "pictures seen": run.examples_seen,
                "seconds": round(run.seconds, 2),
                "right at the end": f"{run.final_accuracy:.0%}",
            }
            for run in comparison.runs
        ],
        column_config={"seconds": st.column_config.NumberColumn(format="%.2f s")},
        hide_index=True,
        width="stretch",
    )
    st.markdown("\n".join(f"- {line}" for line in takeaways(comparison)))
bars_column.plotly_chart(cost_bars(comparison.runs), key="batch_size_costs")
st.markdown(LESSON.text("takeaway"))

with st.expander("Under the hood"):
    st.markdown(LESSON.text("under_the_hood"))
    code = LESSON.excerpts()
    st.markdown("How the pictures are dealt out, a fresh shuffle every pass, the last batch being what is left "
                "(from `core/fit.py`, `Batches`):")
    st.code(code["batches"], language="python")
    st.markdown("The lines that make each nudge (from `core/fit.py`, `fit`):")
    st.code(code["nudge"], language="python")
    st.markdown("The whole comparison on this page, from Python:")
    st.code(LESSON.snippet(shown), language="python")
    st.caption(f"The whole comparison took {comparison.seconds:.1f} s on this computer, curves included.")
