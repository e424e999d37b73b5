"""Lesson: The house-price formula — start anywhere, measure the error, nudge the knobs."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.house_figures import error_curve, error_landscape, predicted_vs_actual
from core.house_prices import (
    KNOBS,
    LIMIT,
    best_knobs,
    descend,
    landscape,
    make_houses,
    nudge,
    predict,
    typical_error,
)
from core.lessons import lesson_text
from pages.shared.legacy import setup_page, story

STEP_SIZES = (1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.02)
KEYS = ("house_x", "house_y", "house_z")
RANGES = ((-50.0, 150.0), (-50.0, 150.0), (-100.0, 400.0))

settings = setup_page("The house-price formula", "🏠")
houses = make_houses(seed=settings.seed)


def knobs_now() -> np.ndarray:
    return np.array([float(st.session_state[key]) for key in KEYS])


def set_knobs(knobs: np.ndarray) -> None:
    """Put knob values on the sliders (clipped to what a slider can show) and into the path."""
    for key, value, (low, high) in zip(KEYS, knobs, RANGES):
        st.session_state[key] = float(np.clip(np.round(value, 1), low, high))


def start_again() -> None:
    set_knobs(np.zeros(3))
    st.session_state["house_path"] = [np.zeros(3)]
    st.session_state["house_exploded"] = False


def moved_by_hand() -> None:
    st.session_state["house_path"] = st.session_state["house_path"] + [knobs_now()]


def step(count: int) -> None:
    """Callback of Nudge / Run: runs before the page redraws, so the sliders can take the new values."""
    raw = st.session_state["house_raw"]
    rate = st.session_state["house_rate"]
    path = st.session_state["house_path"]
    current = path[-1]
    if count == 1:
        result = nudge(current, houses, rate, raw)
        st.session_state["house_last_gradient"] = result.gradient
        trail = [result.after]
    else:
        trail = list(descend(current, houses, rate, count, raw)[0][1:])
    exploded = not np.all(np.abs(trail[-1]) < LIMIT)
    st.session_state["house_exploded"] = exploded
    st.session_state["house_path"] = path + trail
    set_knobs(trail[-1] if not exploded else current)


if "house_path" not in st.session_state:
    start_again()
st.session_state.setdefault("house_raw", False)
st.session_state.setdefault("house_rate", 0.02)

st.title("The house-price formula")
story("house_prices", settings.presenter)

knob_column, figure_column = st.columns([2, 3])
with knob_column:
    for key, label, (low, high) in zip(KEYS, KNOBS, RANGES):
        st.slider(f"{label}, thousand $", low, high, step=0.5, key=key, on_change=moved_by_hand)
    current = knobs_now()
    best = best_knobs(houses)
    st.metric("How wrong it is: the typical error", f"${1000 * typical_error(current, houses):,.0f}",
              help="The square root of the mean squared error over all sales.")
    buttons = st.columns(3)
    buttons[0].button("Nudge once", on_click=step, args=(1,), type="primary", width="stretch")
    buttons[1].button("Run 50", on_click=step, args=(50,), width="stretch")
    buttons[2].button("Start again", on_click=start_again, width="stretch")
    st.select_slider("Step size (learning rate)", options=STEP_SIZES, key="house_rate",
                     format_func=lambda rate: f"{rate:g}")
    st.toggle("Measure size in square feet (not thousands)", key="house_raw")
    if st.session_state["house_exploded"]:
        st.error("The nudges exploded: the knobs flew off to astronomical values. Try a smaller step size — "
                 "or measure size in thousands of square feet.")
    gradient = st.session_state.get("house_last_gradient")
    if gradient is not None:
        directions = [f"{name.split(' ')[0]} {'↓ down' if g > 0 else '↑ up'} (slope {abs(g):,.3g})"
                      for name, g in zip(KNOBS, gradient)]
        st.caption("Last nudge — which way each knob wanted to go and how hard: " + "; ".join(directions) + ".")

path = np.array(st.session_state["house_path"])
errors = np.array([typical_error(knobs, houses) if np.all(np.abs(knobs) < LIMIT) else np.inf for knobs in path])
with figure_column:
    tabs = st.tabs(["Formula vs real prices", "Error after each nudge", "Error landscape"])
    tabs[0].plotly_chart(predicted_vs_actual(predict(current, houses), houses.price), key="house_scatter")
    tabs[1].plotly_chart(error_curve(errors, typical_error(best, houses)), key="house_curve")
    first_values, second_values = np.linspace(*RANGES[0], 60), np.linspace(*RANGES[2], 60)
    surface = landscape(houses, current, 0, 2, first_values, second_values)
    tabs[2].plotly_chart(error_landscape(first_values, second_values, surface, path[:, [0, 2]],
                                         KNOBS[0], KNOBS[2]), key="house_landscape")

st.markdown(lesson_text("house_prices", "scaling"))
with st.expander("Reveal the best formula"):
    st.markdown(
        f"The smallest possible error comes from **X = {best[0]:.1f}, Y = {best[1]:.1f}, Z = {best[2]:.1f}** "
        f"(thousand $ per bedroom, per bathroom, per 1,000 sq ft): a typical error of "
        f"${1000 * typical_error(best, houses):,.0f}, because real prices are noisy. These sales were made up "
        "from X = 25, Y = 15, Z = 150 plus noise."
    )
with st.expander("Under the hood"):
    st.markdown(lesson_text("house_prices", "under_the_hood"))
    st.code("from core.house_prices import make_houses, nudge\n"
            f"houses = make_houses(seed={settings.seed})\n"
            f"step = nudge({[round(v, 1) for v in current]}, houses, learning_rate={st.session_state['house_rate']:g}, "
            f"raw_footage={st.session_state['house_raw']})\n"
            "print(step.gradient, step.after)", language="python")
