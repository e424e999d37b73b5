"""What every NetLens page has in common: page config, navigation, the shared sidebar, the shared stores."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable, Hashable, TypeVar

# Imported once here, before any figure: Plotly and st.dataframe import pandas lazily, and two sessions drawing
# their first figures at once on a fresh server raced on that import ("partially initialized module", PITFALLS.md).
import pandas  # noqa: F401
import streamlit as st

from core.explain import METHODS
from core.fit import Progress, ProgressCallback
from core.lesson import lesson_text
from core.lessons import SYLLABUS, lesson
from core.overlay import LEGEND, UNSIGNED_LEGEND, colour_strip
from core.runtime import configure_torch
from core.store import Cache, QueueFull, ResultStore, TrainingQueue, code_version
from core.training import warm_up

LOG = logging.getLogger("netlens")
T = TypeVar("T")
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


@st.cache_resource(max_entries=1)
def _cache(code_version: str) -> Cache:
    from core.models import ModelConfig

    threading.Thread(target=warm_up, args=(ModelConfig(),), daemon=True).start()
    return Cache(TrainingQueue(slots=1))


def cache() -> Cache:
    """The server's shared stores, per lesson and kind, and its one training queue. Created with its first
    visit, which also warms up the CPU kernels in the background; a code update starts fresh stores."""
    return _cache(code_version())


def store(lesson: str, kind: str) -> ResultStore:
    """The shared store of one lesson's results of one kind ("pictures", "training", "results", "maps");
    "training" stores compute in the server's one training queue."""
    return cache().store(lesson, kind)


def computed(store: ResultStore, key: Hashable, first_text: str, compute: Callable[[ProgressCallback], T],
             busy_text: str | None = None) -> T:
    """The stored result for `key`, or `compute(on_progress)` run now behind a progress bar that each
    `Progress` report moves, then stored for every session. In a "training" store it first waits for its
    turn in the training queue, showing its place. Never inside a Streamlit cache function, so the bar never
    replays into another session (PITFALLS.md). `busy_text` is shown while another session computes it."""
    found = store.get(key)
    if found is not None:
        return found  # type: ignore[return-value]
    area = st.empty()
    with area.container():
        bar = st.progress(0.0, text=first_text)
        note = st.empty()
        if busy_text and store.is_busy(key):
            note.info(busy_text)

        def on_wait(place: int) -> None:
            ahead = "you are next" if place == 1 else f"{place - 1} ahead of you"
            note.info(f"The server trains one network at a time for everyone: waiting for its turn ({ahead}).")

        def on_progress(progress: Progress) -> None:
            bar.progress(min(max(progress.fraction, 0.0), 1.0), text=progress.text)

        try:
            result = store.get_or_compute(key, lambda: (note.empty(), compute(on_progress))[1], on_wait=on_wait)
        except QueueFull:
            area.empty()
            st.warning("The server is very busy right now: too many trainings are waiting. Please try again in a "
                       "minute.")
            st.stop()
        except BaseException:
            area.empty()  # no progress bar or queue place left behind on an error or an interrupted run
            raise
    area.empty()
    return result


def failed(action: str, error: Exception) -> None:
    """One plain line for the user instead of a traceback; the details go to the server log."""
    LOG.exception("NetLens could not %s", action)
    st.error(f"Sorry — NetLens could not {action} ({type(error).__name__}). Try again; if it keeps happening, "
             "restart the dashboard.")


def url_flag(key: str, value: bool) -> None:
    """Keep a flag that is not a widget (e.g. "trained": results are on screen) in the address bar as `key=1`."""
    if value and st.query_params.get(key) != "1":
        st.query_params[key] = "1"
    elif not value and key in st.query_params:
        del st.query_params[key]


def _seed_widget() -> int:
    """The sidebar's seed, bound to `?seed=` and carried from page to page (a bound widget alone would fall back
    to its default on a page whose address has no `seed`)."""
    kept = st.session_state.get("_netlens_seed", 0)
    if "seed" not in st.query_params and kept != 0:
        st.session_state["seed"] = kept
    seed = st.number_input("Seed (the same seed gives everyone the same results)", 0, 999_999, step=1, key="seed",
                           bind="query-params")
    st.session_state["_netlens_seed"] = int(seed)
    return int(seed)


def _keep_presenter() -> None:
    st.session_state["_netlens_presenter"] = bool(st.session_state["presenter"])


def _presenter_widget() -> bool:
    """The sidebar's presenter-mode switch, kept for the whole session (not in the link: a student opening the
    teacher's link gets the normal view). The choice lives under a key of its own and is given back to the switch
    on every run: a widget's own state does not survive a page switch."""
    st.session_state["presenter"] = st.session_state.get("_netlens_presenter", False)
    return bool(st.toggle("Presenter mode (large type)", key="presenter", on_change=_keep_presenter))


def setup_page(lesson_id: str | None = None) -> Settings:
    """Page config, torch threads, navigation and the shared sidebar (seed, presenter mode) for the lesson
    `lesson_id` (None: the home page)."""
    title, icon = "Home", "🔍"
    if lesson_id is not None:
        entry = lesson(lesson_id)
        title, icon = entry.title, entry.icon
    st.set_page_config(page_title=f"{title} · NetLens", page_icon=icon, layout="wide")
    configure_torch()
    with st.sidebar:
        st.page_link("streamlit_app.py", label="NetLens home", icon=":material/home:")
        for entry in SYLLABUS:
            if entry.page:
                st.page_link(entry.page, label=entry.title)
        st.divider()
        seed = _seed_widget()
        presenter = _presenter_widget()
    st.markdown(PAGE_CSS + (PRESENTER_CSS if presenter else ""), unsafe_allow_html=True)
    return Settings(seed=seed, presenter=bool(presenter))


def story(lesson: str, presenter: bool) -> None:
    """The lesson's story (assets/lessons/<lesson>/story.md): on screen, or in presenter mode folded away — the
    presenter tells it — so that the controls and the main figure fit the projector."""
    text = lesson_text(lesson, "story")
    if presenter:
        with st.expander("The story (presenter mode: tell it in your own words)"):
            st.markdown(text)
    else:
        st.markdown(text)


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
