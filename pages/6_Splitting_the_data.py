"""Lesson: Splitting the data — an exam made of the practice questions rewards memorising."""

from __future__ import annotations

import inspect

import streamlit as st

from core.lessons import lesson_text
from core.split_figures import accuracy_curves, pile_strip
from core.splits import (
    PRACTICE_CHOICES,
    Piles,
    SplitConfig,
    SplitRun,
    count_knobs,
    early_stop,
    make_piles,
    practice_answers,
    train,
)
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

DEFAULT = SplitConfig()
MEMORISED = 0.15  # a gap of 15 points or more between practice and final exam: it learnt by heart
GENERALISED = 0.06  # a gap of 6 points or less: what it learnt works on new pictures too

settings = setup_page("Splitting the data", "📚")
shared = stores()


def keep_shuffle() -> None:
    """on_change of the toggle: remember it as 0/1 (for the address bar)."""
    st.session_state["_splits_shuffle"] = int(st.session_state["splits_shuffle"])


def piles_for(config: SplitConfig) -> Piles:
    """The three piles for `config`, drawn once per server and shared by every session."""
    return shared.small_pictures.get_or_compute(config.data_key(), lambda: make_piles(config))  # type: ignore[return-value]


def trained(config: SplitConfig) -> SplitRun:
    """The training for `config`: from the shared store, or trained now behind a progress bar."""

    def compute(report: Report) -> SplitRun:
        piles = piles_for(config)
        return train(config, piles, lambda progress: report(
            progress.fraction, f"Practising on {config.num_practice:,} pictures… {progress.nudges} of "
                               f"{progress.total} nudges"))

    pictures = config.num_practice + config.num_validation + config.num_test
    return computed(shared.results, ("splits", config), f"Drawing {pictures:,} pictures…", compute,
                    "Someone else is training this very network right now — waiting for their result.")


def takeaway(run: SplitRun) -> str:
    """A few plain sentences about what these very curves show."""
    config = run.config
    practice, exam, gap = run.final_practice, run.final_test, round(100 * run.gap)
    pictures = f"{config.num_practice:,} practice pictures"
    lines = []
    if config.shuffle_answers:
        lines.append(f"- **Nothing to learn, only to memorise.** The answers were shuffled, so {run.wrong_answers:.0%} "
                     f"of the {pictures} carry the wrong name. ")
        if practice >= 0.99:
            lines[-1] += (f"It still gets {practice:.0%} of them “right” — learnt by heart — while the final exam "
                          f"scores {exam:.0%}, about what guessing gives.")
        else:
            lines[-1] += (f"Learning that many random answers by heart takes far longer: after {config.nudges} nudges "
                          f"it gets {practice:.0%} of them, and {exam:.0%} of the final exam (guessing gives 50%).")
    elif run.gap >= MEMORISED:
        lines.append(f"- **It memorised.** After {config.nudges} nudges it gets {practice:.0%} of its {pictures} "
                     f"right, but only {exam:.0%} of the final exam: a gap of **{gap} points**. Give it more pictures "
                     "to practise on (slider) and watch the gap close.")
    elif run.gap <= GENERALISED:
        lines.append(f"- **It learnt, not memorised.** With {pictures} — too many, and too varied, to learn by "
                     f"heart — practice ({practice:.0%}) and final exam ({exam:.0%}) differ by only {gap} "
                     f"point{'s' if gap != 1 else ''}.")
    else:
        lines.append(f"- **Partly memorised.** Practice {practice:.0%}, final exam {exam:.0%}: a gap of {gap} points. "
                     "More pictures to practise on close it further.")
    if run.best == 0:
        why = "there was nothing to learn" if config.shuffle_answers else "practice never beat the untrained network"
        lines.append(f"- **When to stop:** the mock exam was best *before any practice* ({run.mock_score:.0%}) — "
                     f"{why}. The final exam at that moment: {run.exam_score:.0%}.")
    else:
        lines.append(f"- **When to stop:** the mock exam was best after {run.stopped_at} nudges "
                     f"({run.mock_score:.0%}); stopping there, the final exam — opened once — says "
                     f"**{run.exam_score:.0%}**.")
    if run.mock_score - run.exam_score >= 0.03:
        lines.append(f"- The mock exam flatters ({run.mock_score:.0%} vs {run.exam_score:.0%}): we picked its best "
                     f"moment out of {len(run.nudges)}. Only an exam used once gives an honest score.")
    return "\n".join(lines)


def loop_lines() -> str:
    """The lines of `train` that make the nudges and score the piles: the code that just ran."""
    return source_lines(train, "while nudges < config.nudges", "break", skip=("time.perf_counter", "busy"))


def stop_lines() -> str:
    """The early-stopping rule, straight from its source."""
    try:
        return inspect.getsource(early_stop)
    except (OSError, TypeError):
        return "# (source not available)"


# ---------------------------------------------------------------------------------------------------- page
st.title("Splitting the data")
story("splits", settings.presenter)

prepare_widget("splits_pictures", DEFAULT.num_practice, min(PRACTICE_CHOICES), max(PRACTICE_CHOICES))
prepare_widget("splits_shuffle", 0, 0, 1)
prepare_widget("splits_trained", 0, 0, 1)
if st.session_state["splits_pictures"] not in PRACTICE_CHOICES:
    st.session_state["splits_pictures"] = st.session_state["_splits_pictures"] = DEFAULT.num_practice
st.session_state["splits_shuffle"] = bool(st.session_state["splits_shuffle"])  # a toggle wants a bool

controls = st.columns([2.6, 2.4, 1.1], vertical_alignment="bottom")
pictures = controls[0].select_slider("Pictures to practise on", options=PRACTICE_CHOICES, key="splits_pictures",
                                     on_change=keep, args=("splits_pictures",),
                                     help="The practice pile: the only pictures the network learns from.")
shuffle = controls[1].toggle("Shuffle the answers (labels)", key="splits_shuffle", on_change=keep_shuffle,
                             help="Give the practice pictures their names in a shuffled order: about half are "
                                  "wrong, so there is nothing to learn — only to memorise.")
train_clicked = controls[2].button("Train", type="primary", width="stretch")

config = SplitConfig(num_practice=int(pictures), shuffle_answers=bool(shuffle), seed=settings.seed)
if train_clicked or (st.session_state["splits_trained"] and "splits_live" not in st.session_state):
    st.session_state["splits_live"] = True  # from now on every change trains at once (about a second)
live = bool(st.session_state.get("splits_live"))
remember({"splits_pictures": int(pictures), "splits_shuffle": int(shuffle), "splits_trained": int(live)})

try:
    piles = piles_for(config)
except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
    failed("draw the pictures", error)
    st.stop()

figure_column, piles_column = st.columns([3, 2], gap="medium")
with piles_column:
    answers = practice_answers(config, piles.practice_labels)
    wrong = f" — {(answers != piles.practice_labels).mean():.0%} now wrong (red)" if config.shuffle_answers else ""
    st.markdown(f"**Practice pile** · {config.num_practice:,} pictures with their answers{wrong}")
    st.image(pile_strip(piles.practice_images, "practice", columns=6, rows=2, answers=answers,
                        truth=piles.practice_labels), width="stretch")
    st.markdown(f"**Mock exam** (validation) · {config.num_validation:,} other pictures")
    st.image(pile_strip(piles.validation_images, "validation", columns=8), width="stretch")
    st.markdown(f"**Final exam** (test) · {config.num_test:,} more, opened once")
    st.image(pile_strip(piles.test_images, "test", columns=8), width="stretch")

with figure_column:
    try:
        run = trained(config) if live else None
    except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
        failed("train the network", error)
        st.stop()
    if run is None:
        st.info(f"Three piles; no picture is in more than one. The network ({count_knobs(config):,} knobs) "
                f"practises only on the {config.num_practice:,} practice pictures. Press **Train** — it takes a "
                "second or two; after that, every change trains at once.")
        st.stop()
    st.plotly_chart(accuracy_curves(run), key="splits_curves")

metric_columns = st.columns(3)
metric_columns[0].metric("Right on the practice pile", f"{run.final_practice:.0%}",
                         help=f"After all {config.nudges} nudges, against the answers it was taught.")
metric_columns[1].metric("Right on the final exam", f"{run.final_test:.0%}",
                         delta=f"{-round(100 * run.gap)} points", delta_color="off" if run.gap <= GENERALISED else "normal",
                         help="After all the practice. Drawn for this lesson only: in real life the final exam is not "
                              "looked at during training.")
stopped = f"after {run.stopped_at} nudges" if run.best else "before any practice"
metric_columns[2].metric("Exam score to report", f"{run.exam_score:.0%}",
                         help=f"The final exam, opened once, at the moment the mock exam was best ({stopped}).")
st.markdown(takeaway(run))
st.caption("The final-exam curve (dotted) is drawn only for this lesson. In real life you would not look at it "
           "while training: you choose when to stop on the mock exam and open the final exam once (★).")
st.markdown(lesson_text("splits", "takeaway"))

with st.expander("Under the hood"):
    st.markdown(lesson_text("splits", "under_the_hood"))
    st.markdown("The lines that made the nudges and scored the three piles (from `core/splits.py`, `train`):")
    st.code(loop_lines(), language="python")
    st.markdown("The rule that chose when to stop:")
    st.code(stop_lines(), language="python")
    st.markdown("This very training, from Python:")
    st.code(
        "from core.splits import SplitConfig, make_piles, train\n"
        f"config = {config!r}\n"
        "run = train(config, make_piles(config))\n"
        "print(run.final_practice, run.final_test, run.stopped_at, run.exam_score)",
        language="python",
    )
    st.caption(f"The nudges took {run.seconds:.2f} s on this computer ({config.passes:.1f} times through the "
               f"practice pile, {config.pictures_per_nudge} pictures per nudge).")
