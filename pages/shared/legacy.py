"""MIGRATION (issue 8): the old page helpers, for pages not yet moved to pages/shared/layout.py. Delete when empty."""

from __future__ import annotations

import inspect
import logging
import threading
from dataclasses import dataclass
from typing import Callable, Hashable, TypeVar

import streamlit as st

from core.explain import METHODS
from core.lessons import SYLLABUS, lesson_text
from core.overlay import LEGEND, UNSIGNED_LEGEND, colour_strip
from core.runtime import configure_torch
from core.store import ResultStore

LOG = logging.getLogger("netlens")
T = TypeVar("T")
Report = Callable[[float, str], None]  # (fraction done, text under the bar)
PAGE_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
</style>
"""
PRESENTER_CSS = """
<style>
html, body, [class*="stMarkdown"] p, [class*="stMarkdown"] li { font-size: 1.3rem !important; }
[data-testid="stWidgetLabel"] p, [data-testid="stCaptionContainer"] { font-size: 1.15rem !important; }
h1 { font-size: 3rem !important; }
[data-testid="stMetricValue"] { font-size: 4rem !important; }
[data-testid="stMetricLabel"] p { font-size: 1.2rem !important; }
</style>
"""


@dataclass(frozen=True)
class Settings:
    seed: int
    presenter: bool


@dataclass(frozen=True)
class Stores:
    """Results shared by every session of this server, in separate stores so that cheap, numerous items
    (maps of single pictures) never push out expensive ones (trained networks)."""

    pictures: ResultStore  # drawn picture sets of the bunny lesson: ~50 MB each
    small_pictures: ResultStore  # the learning lessons' picture sets (≤ 5 MB each): kept apart, so a student
    # dragging a slider through many sizes never pushes the bunny lesson's pictures out
    training: ResultStore  # trained networks: one training at a time on this 2-core CPU
    results: ResultStore  # scores and evidence reports
    maps: ResultStore  # maps of single pictures


def stores() -> Stores:
    from pages.shared.layout import cache

    shared = cache()
    return Stores(pictures=shared.store("legacy", "pictures"), small_pictures=shared.store("legacy_small", "pictures"),
                  training=shared.store("legacy", "training"), results=shared.store("legacy", "results"),
                  maps=shared.store("legacy", "maps"))


def computed(store: ResultStore, key: Hashable, first_text: str, compute: Callable[[Report], T],
             busy_text: str | None = None) -> T:
    """The stored result for `key`, or `compute(report)` run now behind a progress bar that it moves with
    `report(fraction, text)`, then stored for every session. Never inside a Streamlit cache function, so the bar
    never replays into another session (PITFALLS.md). `busy_text` is shown while another session computes it."""
    found = store.get(key)
    if found is not None:
        return found  # type: ignore[return-value]
    area = st.empty()
    with area.container():
        bar = st.progress(0.0, text=first_text)
        if busy_text and store.is_busy(key):
            st.info(busy_text)
        result = store.get_or_compute(key, lambda: compute(
            lambda fraction, text: bar.progress(min(max(fraction, 0.0), 1.0), text=text)))
    area.empty()
    return result


def failed(action: str, error: Exception) -> None:
    """One plain line for the user instead of a traceback; the details go to the server log."""
    LOG.exception("NetLens could not %s", action)
    st.error(f"Sorry — NetLens could not {action} ({type(error).__name__}). Try again; if it keeps happening, "
             "restart the dashboard.")


def _url_int(name: str, default: int, low: int, high: int) -> int:
    """An integer from the address bar, or `default` when it is missing or not a sensible number."""
    try:
        value = int(st.query_params.get(name, default))
    except ValueError:
        return default
    return value if low <= value <= high else default


def prepare_widget(key: str, default: int, low: int, high: int) -> None:
    """Give widget `key` its value before it is drawn: what this session chose last, else the address
    bar's `?name=` (name = key after its page prefix), else `default`. Streamlit forgets a widget's value
    when another page is shown, so the choice lives on under `_key` (kept by `keep` and `remember`)."""
    stored = f"_{key}"
    if stored not in st.session_state:
        st.session_state[stored] = _url_int(key.split("_", 1)[-1], default, low, high)
    st.session_state[key] = st.session_state[stored]


def keep(key: str) -> None:
    """on_change callback for a prepared widget: remember the value the user just chose."""
    st.session_state[f"_{key}"] = st.session_state[key]


def remember(values: dict[str, int], in_url: bool = True) -> None:
    """Keep widget values for this session and write them into the address bar (name = key after its
    page prefix), so the link reproduces this screen."""
    for key, value in values.items():
        st.session_state[f"_{key}"] = value
        if not in_url:
            continue
        name = key.split("_", 1)[-1]
        if st.query_params.get(name) != str(value):
            st.query_params[name] = str(value)


def setup_page(title: str, icon: str) -> Settings:
    from pages.shared import layout

    chosen = layout.setup_page(title=title, icon=icon)
    return Settings(seed=chosen.seed, presenter=chosen.presenter)


def story(lesson: str, presenter: bool) -> None:
    """The lesson's story (assets/lessons/<lesson>/story.md): on screen, or in presenter mode folded away — the
    presenter tells it — so that the controls and the main figure fit the projector."""
    text = lesson_text(lesson, "story")
    if presenter:
        with st.expander("The story (presenter mode: tell it in your own words)"):
            st.markdown(text)
    else:
        st.markdown(text)


def source_lines(function: Callable, first: str, last: str, skip: tuple[str, ...] = ()) -> str:
    """The lines of `function`'s source from the one containing `first` to the one containing `last`, without
    lines containing any of `skip`, dedented: the code that just ran, for an "under the hood" part."""
    try:
        source = inspect.getsource(function).splitlines()
        start = next(i for i, line in enumerate(source) if first in line)
        end = next(i for i, line in enumerate(source) if i >= start and last in line)
        lines = [line for line in source[start : end + 1] if not any(part in line for part in skip)]
        indent = len(lines[0]) - len(lines[0].lstrip())
        return "\n".join(line[indent:] for line in lines)
    except (OSError, StopIteration, TypeError, IndexError):
        return "# (source not available)"


def map_legend(methods: list[str]) -> None:
    """The colour scales of the maps on screen, with one line each saying what the colours mean."""
    signed = [METHODS[key].name for key in methods if METHODS[key].signed]
    unsigned = [METHODS[key].name for key in methods if not METHODS[key].signed]
    left, right = st.columns(2)
    if signed:
        left.image(colour_strip(), caption="away ← no effect → towards", width=320)
        left.markdown(f"{', '.join(signed)}: {LEGEND}")
    if unsigned:
        right.image(colour_strip(signed=False), caption="unimportant → important", width=320)
        right.markdown(f"{', '.join(unsigned)}: {UNSIGNED_LEGEND}")
