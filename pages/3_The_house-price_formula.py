"""Lesson: The house-price formula — start anywhere, measure the error, nudge the knobs.

The whole screen is in the link: the step size and the units are widgets bound to the address; where the nudges
started and how many were taken are kept there too (`house_prices_start`, `house_prices_nudges`), because the
sliders show the knobs *after* the nudges, from which the path cannot be redrawn."""

from __future__ import annotations

import pages.shared.layout  # noqa: F401, I001 - first of all: it imports the whole syllabus in one go (two first
# visits importing two lessons' packages at once deadlocked on Python's import locks, issue 9)
import math

import numpy as np
import streamlit as st

from core.lessons.house_prices import LESSON, HousePricesResult, HousePricesSettings, excerpts, snippet
from core.lessons.house_prices.experiment import (
    EXPLODED,
    KNOBS,
    MAX_NUDGES,
    best_formula,
    directions,
    landscape,
    predict,
)
from core.lessons.house_prices.figures import error_curve, error_landscape, predicted_vs_actual
from pages.shared.layout import setup_page, store, story

STEP_SIZES = (1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.02)
KEYS = ("house_prices_x", "house_prices_y", "house_prices_z")
RANGES = ((-50.0, 150.0), (-50.0, 150.0), (-100.0, 400.0))
START, NUDGES = "house_prices_start", "house_prices_nudges"  # in the link and (mirrored) in the session
DEFAULT = HousePricesSettings(nudges=0)

page = setup_page("house_prices")


# ------------------------------------------------------------------------------------- the link's non-widget part
def _parse_start(text: str | None) -> tuple[float, float, float] | None:
    """"X,Y,Z" within the sliders' ranges, or None for anything else (ignored, as Streamlit ignores bad values)."""
    try:
        values = tuple(float(part) for part in (text or "").split(","))
    except ValueError:
        return None
    if len(values) != 3 or not all(math.isfinite(v) and low <= v <= high for v, (low, high) in zip(values, RANGES)):
        return None
    return values  # type: ignore[return-value]


def _parse_nudges(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() and int(text) <= MAX_NUDGES else None


def _number(value: float) -> str:
    return f"{value:g}" if float(f"{value:g}") == value else repr(value)


def keep(start: tuple[float, float, float], nudges: int) -> None:
    """Where the nudges start and how many were taken: into this session and the address bar (defaults dropped)."""
    st.session_state[START], st.session_state[NUDGES] = start, nudges
    if start == DEFAULT.start:
        st.query_params.pop(START, None)
    else:
        st.query_params[START] = ",".join(_number(value) for value in start)
    if nudges == DEFAULT.nudges:
        st.query_params.pop(NUDGES, None)
    else:
        st.query_params[NUDGES] = str(nudges)


def linked() -> tuple[tuple[float, float, float], int]:
    """From the link, else from this session (a page switch empties the address), else the defaults."""
    start = _parse_start(st.query_params.get(START))
    nudges = _parse_nudges(st.query_params.get(NUDGES))
    return (start if start is not None else st.session_state.get(START, DEFAULT.start),
            nudges if nudges is not None else st.session_state.get(NUDGES, DEFAULT.nudges))


# ------------------------------------------------------------------------------------------- the buttons' callbacks
def step(count: int) -> None:
    """Nudge once / Run 50: more nudges from the same start."""
    start, nudges = linked()
    keep(start, min(MAX_NUDGES, nudges + count))


def moved_by_hand() -> None:
    """A knob moved by hand: the nudges start again from the knobs as they are now."""
    keep(tuple(float(st.session_state[key]) for key in KEYS), 0)  # type: ignore[arg-type]


def start_again() -> None:
    keep(DEFAULT.start, 0)


start, nudges = linked()
keep(start, nudges)

st.title(LESSON.title)
story("house_prices", page.presenter)

knob_column, figure_column = st.columns([2, 3])
with knob_column:
    slider_area = st.container()
    metric_area = st.empty()
    buttons = st.columns(3)
    buttons[0].button("Nudge once", on_click=step, args=(1,), type="primary", width="stretch")
    buttons[1].button("Run 50", on_click=step, args=(50,), width="stretch")
    buttons[2].button("Start again", on_click=start_again, width="stretch")
    rate = st.select_slider("Step size (learning rate)", options=STEP_SIZES, value=DEFAULT.learning_rate,
                            key="house_prices_rate", format_func=lambda rate: f"{rate:g}", bind="query-params")
    raw = st.toggle("Measure size in square feet (not thousands)", key="house_prices_raw", bind="query-params")

settings = HousePricesSettings(start=start, learning_rate=float(rate), raw_footage=bool(raw), nudges=nudges,
                               seed=page.seed)
result: HousePricesResult = store("house_prices", "results").get_or_compute(settings, lambda: LESSON.run(settings))
houses, current = result.houses, result.knobs

with slider_area:  # drawn above the buttons, but after the result: they show the knobs after the nudges
    for key, label, value, (low, high) in zip(KEYS, KNOBS, current, RANGES):
        st.session_state[key] = float(np.clip(np.round(value, 1), low, high))
        st.slider(f"{label}, thousand $", low, high, step=0.5, key=key, on_change=moved_by_hand)
metric_area.metric("How wrong it is: the typical error", f"${1000 * result.typical_error:,.0f}",
                   help="The square root of the mean squared error over all sales.")
with knob_column:
    if nudges:
        st.caption(f"{nudges:,} nudges taken from X = {start[0]:g}, Y = {start[1]:g}, Z = {start[2]:g}.")
    if result.exploded:
        st.error(EXPLODED)
    elif result.last_gradient is not None:
        st.caption(directions(result.last_gradient))

with figure_column:
    tabs = st.tabs(["Formula vs real prices", "Error after each nudge", "Error landscape"])
    tabs[0].plotly_chart(predicted_vs_actual(predict(current, houses), houses.price), key="house_prices_scatter")
    tabs[1].plotly_chart(error_curve(result.typical_errors, result.best_typical_error), key="house_prices_curve")
    first_values, second_values = np.linspace(*RANGES[0], 60), np.linspace(*RANGES[2], 60)
    surface = landscape(houses, current, 0, 2, first_values, second_values)
    tabs[2].plotly_chart(error_landscape(first_values, second_values, surface, result.path[:, [0, 2]],
                                         KNOBS[0], KNOBS[2]), key="house_prices_landscape")

st.markdown(LESSON.text("scaling"))
with st.expander("Reveal the best formula"):
    st.markdown(best_formula(result))
with st.expander("Under the hood"):
    st.markdown(LESSON.text("under_the_hood"))
    st.code(excerpts()["gradient"], language="python")
    st.markdown("This screen, from Python:")
    st.code(snippet(settings), language="python")
