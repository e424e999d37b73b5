"""Lesson: Programs as templates — a network is a program with blanks, and training searches for the best filling."""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from core.lessons import lesson_text
from core.template_figures import detector_heatmaps, picture_strip, race_chart, weight_scale
from core.templates import (
    BUDGET_CHOICES,
    SEARCHER_NAMES,
    SEARCHERS,
    FaceData,
    Race,
    TemplateConfig,
    make_data,
    program_text,
    race,
)
from core import templates
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

DEFAULT = TemplateConfig()
REPLAY_PAUSE = 0.35  # seconds per frame of the replay
CODE_WIDTH = 56  # characters per line of the program shown: fits its column on a 1366-pixel-wide screen

settings = setup_page("Programs as templates", "🧩")
shared = stores()


def raced(config: TemplateConfig) -> Race:
    """The race for `config`: from the shared store, or run now behind a progress bar."""

    def compute(report: Report) -> Race:
        def on_progress(searcher: str, tried: int) -> None:
            done = SEARCHERS.index(searcher) + tried / config.budget
            report(done / len(SEARCHERS), f"{SEARCHER_NAMES[searcher]}: {tried:,} of {config.budget:,} programs tried…")

        return race(config, pictures(config), on_progress)

    return computed(shared.results, ("templates", config), "Drawing the pictures…", compute)


def pictures(config: TemplateConfig) -> FaceData:
    return shared.small_pictures.get_or_compute(config.data_key(), lambda: make_data(config))  # type: ignore[return-value]


def examples(data: FaceData, face: bool, count: int = 8) -> np.ndarray:
    return data.train_images[data.train_labels == int(face)][:count]


def start_replay() -> None:
    """on_click of Replay: jump the slider to the end (where the replay stops) and ask for the animation."""
    st.session_state["templates_animate"] = True
    st.session_state.pop("templates_tried", None)


def takeaway(result: Race) -> str:
    """Plain sentences about this very race."""
    budget = result.config.budget
    gradient, hill, random_search = (result.search(name) for name in ("gradient", "hill", "random"))
    lines = []
    reached = gradient.tries_to_reach(0.0)
    if reached is not None:
        lines.append(f"- **Gradient descent** made no mistakes on the practice pictures after **{reached:,}** "
                     f"programs tried" + (f" (about {3 * reached:,} even counting its slope as two extra tries)."
                                          if 3 * reached <= budget else "."))
    else:
        lines.append(f"- **Gradient descent** still got {gradient.final_error:.0%} of the practice pictures wrong "
                     f"after {budget:,} programs.")
    for search in (hill, random_search):
        lines.append(f"- **{search.name}** got {search.final_error:.0%} wrong after all {budget:,}.")
    lines.append(f"- On {result.config.num_test:,} pictures **none of them ever saw**: gradient descent "
                 f"{gradient.test_accuracy:.0%} right, hill climbing {hill.test_accuracy:.0%}, random search "
                 f"{random_search.test_accuracy:.0%} (guessing gives 50 %).")
    return "\n".join(lines)


def nudge_lines() -> str:
    """The lines of the search that make gradient descent's tries: the code that just ran, from its source."""
    return source_lines(templates._search, 'if searcher == "gradient":', "optimizer.step()")


def show_program(result: Race, searcher: str, tried: int, code_area, weights_area, chart_area, frame: str) -> None:
    """Draw the program `searcher` held after `tried` programs into the three areas."""
    search = result.search(searcher)
    at, program = search.program_at(tried)
    index = at - 1  # the curves have one point per try
    chart_area.plotly_chart(race_chart(result.searches, marker=at), key=f"templates_race_{frame}")
    with code_area.container():
        st.code(program_text(program, terms=2, width=CODE_WIDTH), language="python")
        st.caption(f"The program {search.name.lower()} holds after {at:,} of {result.config.budget:,} tries: "
                   f"{search.error[index]:.0%} of the practice pictures wrong. Only the 2 strongest of each "
                   f"detector's {program.size ** 2} pixels are written out; below, all of them, and what each detector votes "
                   "for (how much its total counts in the score).")
    weights_area.plotly_chart(detector_heatmaps(program, scale=weight_scale(search.snapshot_programs)),
                              key=f"templates_weights_{frame}")


# ---------------------------------------------------------------------------------------------------- page
st.title("Programs as templates")
if settings.presenter:  # story folded away; the two kinds of picture side by side, so the race fits the screen
    story("templates", presenter=True)
    faces_column, others_column = st.columns(2)
else:
    story_column, pictures_column = st.columns([5, 2])
    with story_column:
        story("templates", presenter=False)
    faces_column = others_column = pictures_column

prepare_widget("templates_budget", DEFAULT.budget, min(BUDGET_CHOICES), max(BUDGET_CHOICES))
prepare_widget("templates_searcher", SEARCHERS.index("gradient"), 0, len(SEARCHERS) - 1)
if st.session_state["templates_budget"] not in BUDGET_CHOICES:
    st.session_state["templates_budget"] = st.session_state["_templates_budget"] = DEFAULT.budget
config = TemplateConfig(budget=int(st.session_state["templates_budget"]), seed=settings.seed)

try:
    data = pictures(config)
except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
    failed("draw the pictures", error)
    st.stop()
strip_width = 300 if settings.presenter else "stretch"
faces_column.image(picture_strip(examples(data, face=True, count=6)), caption="Faces", width=strip_width)
others_column.image(picture_strip(examples(data, face=False, count=6)), width=strip_width,
                    caption="Not faces: same parts, scrambled")

search_column, program_column = st.columns([9, 11], gap="medium")
with search_column:
    controls = st.columns([1, 1], vertical_alignment="bottom")
    budget = controls[0].select_slider("Programs each may try", options=BUDGET_CHOICES,
                                       key="templates_budget", on_change=keep, args=("templates_budget",))
    searcher_index = controls[1].selectbox(
        "Show the program of", range(len(SEARCHERS)),
        format_func=lambda index: SEARCHER_NAMES[SEARCHERS[index]], key="templates_searcher", on_change=keep,
        args=("templates_searcher",),
    )
remember({"templates_budget": int(budget), "templates_searcher": int(searcher_index)})
searcher = SEARCHERS[int(searcher_index)]

try:
    with search_column:
        result = raced(config)
except Exception as error:  # noqa: BLE001
    failed("run the search", error)
    st.stop()

search = result.search(searcher)
points = list(search.snapshot_tried)
if st.session_state.get("templates_tried") not in points:
    st.session_state["templates_tried"] = points[-1]
with program_column:
    replay_controls = st.columns([2.4, 1], vertical_alignment="bottom")
    tried = replay_controls[0].select_slider("…after this many tries (drag to replay)", options=points,
                                             key="templates_tried")
    replay_controls[1].button("▶ Replay", on_click=start_replay, width="stretch",
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
st.markdown(takeaway(result))
st.markdown(lesson_text("templates", "takeaway"))

with st.expander("Under the hood"):
    st.markdown(lesson_text("templates", "under_the_hood"))
    st.markdown("The lines that made gradient descent's tries (from `core/templates.py`, `_search`):")
    st.code(nudge_lines(), language="python")
    st.markdown(f"The program shown above leaves out all but the 2 strongest pixels of each detector. The whole "
                f"program {search.name.lower()} found, every one of its {config.num_weights} blanks written out, "
                "runs as plain Python and gives exactly the network's answers:")
    st.download_button("Download the whole program (is_it_a_face.py)",
                       program_text(search.program, terms=None, decimals=None, width=100),
                       file_name="is_it_a_face.py", mime="text/x-python")
    st.markdown("The whole race on this page, from Python:")
    st.code(
        "from core.templates import TemplateConfig, run_race, program_text\n"
        f"result = run_race(TemplateConfig(budget={config.budget}, seed={config.seed}))\n"
        "for search in result.searches:\n"
        "    print(search.name, search.final_error, search.test_accuracy)\n"
        "print(program_text(result.search('gradient').program))",
        language="python",
    )
    st.caption(f"The whole race took {result.seconds:.1f} s on this computer.")
