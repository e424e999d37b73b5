"""Lesson: Programs as templates — a network is a program with blanks, and training searches for the best filling."""

from __future__ import annotations

import pages.shared.layout  # noqa: F401, I001 - first of all: it imports the whole syllabus in one go (two first
# visits importing two lessons' packages at once deadlocked on Python's import locks, issue 9)
import time

import numpy as np
import pandas  # noqa: F401 - whole, first: else an overlapping rerun's plotly finds it half-imported (PITFALLS)
import streamlit as st

from core.fit import ProgressCallback
from core.lessons.templates import LESSON, TemplatesSettings, excerpts, snippet
from core.lessons.templates.experiment import (
    BUDGET_CHOICES,
    SEARCHER_NAMES,
    SEARCHERS,
    FaceData,
    Race,
    make_data,
    program_text,
    race,
    takeaway_lines,
)
from core.lessons.templates.figures import detector_heatmaps, picture_strip, race_chart, weight_scale
from pages.shared.layout import computed, failed, setup_page, store, story

DEFAULT = TemplatesSettings()
REPLAY_PAUSE = 0.35  # seconds per frame of the replay
CODE_WIDTH = 56  # characters per line of the program shown: fits its column on a 1366-pixel-wide screen

page = setup_page("templates")


def pictures(settings: TemplatesSettings) -> FaceData:
    pictures_store = store("templates", "pictures")
    return pictures_store.get_or_compute(settings.data_key(), lambda: make_data(settings))  # type: ignore[return-value]


def raced(settings: TemplatesSettings, data: FaceData) -> Race:
    """The race for `settings`: from the shared store, or run now (in the server's training queue) behind a
    progress bar."""

    def compute(on_progress: ProgressCallback) -> Race:
        return race(settings, data, on_progress)

    return computed(store("templates", "training"), settings, "Starting the race…", compute,
                    busy_text="Someone else is running this very race: waiting for it.")


def examples(data: FaceData, face: bool, count: int = 8) -> np.ndarray:
    return data.train_images[data.train_labels == int(face)][:count]


def start_replay(last: int) -> None:
    """on_click of Replay: jump the slider to the end (where the replay stops) and ask for the animation."""
    st.session_state["templates_animate"] = True
    st.session_state["templates_tried"] = last


def show_program(result: Race, searcher: str, tried: int, code_area, weights_area, chart_area, frame: str) -> None:
    """Draw the program `searcher` held after `tried` programs into the three areas."""
    search = result.search(searcher)
    at, program = search.program_at(tried)
    index = at - 1  # the curves have one point per try
    chart_area.plotly_chart(race_chart(result.searches, marker=at), key=f"templates_race_{frame}")
    with code_area.container():
        st.code(program_text(program, terms=2, width=CODE_WIDTH), language="python")
        st.caption(f"The program {search.name.lower()} holds after {at:,} of {result.settings.budget:,} tries: "
                   f"{search.error[index]:.0%} of the practice pictures wrong. Only the 2 strongest of each "
                   f"detector's {program.size ** 2} pixels are written out; below, all of them, and what each detector votes "
                   "for (how much its total counts in the score).")
    weights_area.plotly_chart(detector_heatmaps(program, scale=weight_scale(search.snapshot_programs)),
                              key=f"templates_weights_{frame}")


# ---------------------------------------------------------------------------------------------------- page
st.title(LESSON.title)
if page.presenter:  # story folded away; the two kinds of picture side by side, so the race fits the screen
    story("templates", presenter=True)
    faces_column, others_column = st.columns(2)
else:
    story_column, pictures_column = st.columns([5, 2])
    with story_column:
        story("templates", presenter=False)
    faces_column = others_column = pictures_column

search_column, program_column = st.columns([9, 11], gap="medium")
with search_column:
    controls = st.columns([1, 1], vertical_alignment="bottom")
    budget = controls[0].select_slider("Programs each may try", options=BUDGET_CHOICES, value=DEFAULT.budget,
                                       key="templates_budget", bind="query-params")
    searcher = controls[1].selectbox("Show the program of", SEARCHERS, index=SEARCHERS.index("gradient"),
                                     format_func=SEARCHER_NAMES.get, key="templates_searcher", bind="query-params")
settings = TemplatesSettings(budget=int(budget), seed=page.seed)

try:
    data = pictures(settings)
except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
    failed("draw the pictures", error)
    st.stop()
strip_width = 300 if page.presenter else "stretch"
faces_column.image(picture_strip(examples(data, face=True, count=6)), caption="Faces", width=strip_width)
others_column.image(picture_strip(examples(data, face=False, count=6)), width=strip_width,
                    caption="Not faces: same parts, scrambled")

try:
    with search_column:
        result = raced(settings, data)
except Exception as error:  # noqa: BLE001
    failed("run the search", error)
    st.stop()

search = result.search(searcher)
points = list(search.snapshot_tried)
with program_column:
    replay_controls = st.columns([2.4, 1], vertical_alignment="bottom")
    tried = replay_controls[0].select_slider("…after this many tries (drag to replay)", options=points,
                                             value=points[-1], key="templates_tried", bind="query-params")
    replay_controls[1].button("▶ Replay", on_click=start_replay, args=(points[-1],), width="stretch",
                              help="Watch the program change as the search goes on")
chart_column = search_column
chart_area = search_column.empty()
code_area = program_column.empty()
weights_area = program_column.empty()
if st.session_state.pop("templates_animate", False):
    for frame, point in enumerate(points):
        show_program(result, searcher, point, code_area, weights_area, chart_area, f"replay_{frame}")
        time.sleep(REPLAY_PAUSE)
else:
    show_program(result, searcher, int(tried), code_area, weights_area, chart_area, "still")

with chart_column:
    st.dataframe(
        [
            {
                "search": each.name,
                "practice: wrong": f"{each.final_error:.0%}",
                "new pictures: right": f"{each.test_accuracy:.0%}",
            }
            for each in result.searches
        ],
        hide_index=True,
        width="stretch",
    )
st.markdown("\n".join(f"- {line}" for line in takeaway_lines(result)))
st.markdown(LESSON.text("takeaway"))

with st.expander("Under the hood"):
    st.markdown(LESSON.text("under_the_hood"))
    code = excerpts()
    st.markdown("The lines that made gradient descent's tries (from `core/lessons/templates/experiment.py`, "
                "`_gradient_descent`):")
    st.code(code["tries"], language="python")
    st.markdown("and the nudge that `fit` makes after each try but the last — the same for every lesson's "
                "training (from `core/fit.py`):")
    st.code(code["nudge"], language="python")
    st.markdown(f"The program shown above leaves out all but the 2 strongest pixels of each detector. The whole "
                f"program {search.name.lower()} found, every one of its {settings.num_weights} blanks written out, "
                "runs as plain Python and gives exactly the network's answers:")
    st.download_button("Download the whole program (is_it_a_face.py)",
                       program_text(search.program, terms=None, decimals=None, width=100),
                       file_name="is_it_a_face.py", mime="text/x-python")
    st.markdown("The whole race on this page, from Python:")
    st.code(snippet(settings), language="python")
    st.caption(f"The whole race took {result.seconds:.1f} s on this computer.")
