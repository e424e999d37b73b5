"""Lesson: Batch size — how many pictures the network looks at before each nudge."""

from __future__ import annotations


import streamlit as st

from core.batch_figures import cost_bars, learning_curves, per_nudge
from core.batch_size import (
    ALL,
    BATCH_SIZE_CHOICES,
    PASS_CHOICES,
    BatchConfig,
    BatchData,
    BatchProgress,
    Comparison,
    compare,
    make_data,
    train_one,
)
from core.lessons import lesson_text
from pages.shared.legacy import (
    Report,
    computed,
    failed,
    keep,
    prepare_widget,
    remember,
    setup_page,
    source_lines,
    stores,
    story,
)

DEFAULT = BatchConfig()
DEFAULT_MASK = sum(1 << BATCH_SIZE_CHOICES.index(size) for size in DEFAULT.batch_sizes)

settings = setup_page("Batch size", "🧺")
shared = stores()


def to_mask(sizes: list[int]) -> int:
    return sum(1 << index for index, size in enumerate(BATCH_SIZE_CHOICES) if size in sizes)


def from_mask(mask: int) -> list[int]:
    return [size for index, size in enumerate(BATCH_SIZE_CHOICES) if mask >> index & 1]


def keep_sizes() -> None:
    """on_change of the batch-size pills: remember the choice (as a number, for the address bar)."""
    st.session_state["_batch_sizes"] = to_mask(st.session_state["batch_picked"] or [])


def size_label(size: int) -> str:
    return f"all {DEFAULT.num_train}" if size == ALL else str(size)


def describe(config: BatchConfig) -> str:
    sizes = ", ".join(size_label(size) for size in sorted(config.batch_sizes, key=config.resolve))
    return (f"{sizes} pictures per nudge, {config.passes} pass{'es' if config.passes != 1 else ''} "
            f"({config.examples_seen:,} pictures seen each), seed {config.seed}")


def compared(config: BatchConfig) -> Comparison:
    """The comparison for `config`: from the shared store, or trained now behind a progress bar."""

    def compute(report: Report) -> Comparison:
        data: BatchData = shared.small_pictures.get_or_compute(config.data_key(), lambda: make_data(config))

        def on_progress(progress: BatchProgress) -> None:
            name = f"all {progress.batch_size} pictures" if progress.everything else \
                f"{progress.batch_size} picture{'s' if progress.batch_size != 1 else ''}"
            report(progress.fraction, f"Learning with {name} per nudge ({progress.run_index + 1} of "
                                      f"{progress.runs})… {progress.seen:,} of {progress.examples_seen:,} pictures seen")

        return compare(config, data, on_progress)

    return computed(shared.results, ("batch_size", config), f"Drawing {config.num_train + config.num_test:,} pictures…",
                    compute, "Someone else is training these very networks right now — waiting for their result.")


def takeaway(comparison: Comparison) -> str:
    """A few plain sentences about what these very curves show."""
    runs = comparison.runs
    small, large, best = runs[0], runs[-1], comparison.best()
    lines = []
    if len(runs) > 1:
        lines.append(f"- **{per_nudge(small).capitalize()}:** {small.nudges:,} nudges; the zig-zag threw away "
                     f"{100 * small.setbacks:.0f} points of progress along the way — each nudge follows "
                     f"{'a single picture' if small.batch_size == 1 else f'only {small.batch_size} pictures'}.")
        lines.append(f"- **{per_nudge(large).capitalize()}:** only {large.nudges:,} nudge{'s' if large.nudges != 1 else ''} "
                     f"for the same {large.examples_seen:,} pictures seen; smooth, but it reached "
                     f"{large.final_accuracy:.0%}.")
    lines.append(f"- **Best here:** {per_nudge(best)}, {best.final_accuracy:.0%} right on new pictures.")
    slow = max(runs, key=lambda run: run.seconds)
    if len(runs) > 1:
        lines.append(f"- **Slowest:** {per_nudge(slow)} ({slow.seconds:.2f} s) — a computer handles a whole batch "
                     "almost as fast as one picture, so many small nudges cost the most time.")
    return "\n".join(lines)


def nudge_lines() -> str:
    """The lines of `train_one` that make the nudges: the code that just ran, straight from its source."""
    return source_lines(train_one, "for _ in range(config.passes)", "nudges += 1", skip=("time.perf_counter", "busy"))


# ---------------------------------------------------------------------------------------------------- page
st.title("Batch size")
story("batch_size", settings.presenter)

prepare_widget("batch_sizes", DEFAULT_MASK, 1, 2 ** len(BATCH_SIZE_CHOICES) - 1)
prepare_widget("batch_passes", DEFAULT.passes, 1, max(PASS_CHOICES))
prepare_widget("batch_trained", 0, 0, 1)
if st.session_state["batch_passes"] not in PASS_CHOICES:
    st.session_state["batch_passes"] = st.session_state["_batch_passes"] = DEFAULT.passes
st.session_state["batch_picked"] = from_mask(st.session_state["_batch_sizes"])

controls = st.columns([3, 2, 1.3], vertical_alignment="bottom")
picked = controls[0].pills("Pictures per nudge to compare", BATCH_SIZE_CHOICES, selection_mode="multi",
                           format_func=size_label, key="batch_picked", on_change=keep_sizes)
passes = controls[1].select_slider(f"Times it looks through all {DEFAULT.num_train} pictures", options=PASS_CHOICES,
                                   key="batch_passes", on_change=keep, args=("batch_passes",))
train_clicked = controls[2].button("Train", type="primary", width="stretch", disabled=not picked)

picked = sorted(picked or [], key=DEFAULT.resolve)
config = BatchConfig(batch_sizes=tuple(picked), passes=int(passes), seed=settings.seed) if picked else None
if train_clicked and config is not None:
    st.session_state["batch_shown"] = config
elif "batch_shown" not in st.session_state and st.session_state["batch_trained"] and config is not None:
    st.session_state["batch_shown"] = config  # a shared link: show what it describes without a press
shown: BatchConfig | None = st.session_state.get("batch_shown")
remember({"batch_sizes": to_mask(picked) or DEFAULT_MASK, "batch_passes": int(passes),
          "batch_trained": int(shown is not None and shown == config)})

if config is None:
    st.warning("Pick at least one number of pictures per nudge.")
if shown is None:
    st.info(f"Every network will see {int(passes) * DEFAULT.num_train:,} pictures. Press **Train** — it takes a "
            "few seconds.")
    st.stop()
if shown != config:
    st.info(f"You changed the settings. Press **Train** to compare them; below: {describe(shown)}.")

try:
    comparison = compared(shown)
except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
    failed("train the networks", error)
    st.stop()

st.plotly_chart(learning_curves(comparison.runs), key="batch_curves")

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
    st.markdown(takeaway(comparison))
bars_column.plotly_chart(cost_bars(comparison.runs), key="batch_costs")
st.markdown(lesson_text("batch_size", "takeaway"))

with st.expander("Under the hood"):
    st.markdown(lesson_text("batch_size", "under_the_hood"))
    st.markdown("The lines that made the nudges (from `core/batch_size.py`, `train_one`):")
    st.code(nudge_lines(), language="python")
    st.markdown("The whole comparison on this page, from Python:")
    st.code(
        "from core.batch_size import BatchConfig, make_data, compare\n"
        f"config = {shown!r}\n"
        "comparison = compare(config, make_data(config))\n"
        "for run in comparison.runs:\n"
        "    print(run.label, run.nudges_per_pass, run.seconds, run.final_accuracy)",
        language="python",
    )
    st.caption(f"The whole comparison took {comparison.seconds:.1f} s on this computer, curves included.")
