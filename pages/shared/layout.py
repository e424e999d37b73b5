"""What every NetLens page has in common: page config, navigation, the shared sidebar, the result store."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import streamlit as st

from core.lessons import SYLLABUS
from core.runtime import configure_torch
from core.shortcut import ShortcutConfig
from core.store import ResultStore
from core.training import warm_up

PRESENTER_CSS = """
<style>
html, body, [class*="stMarkdown"] p, [class*="stMarkdown"] li { font-size: 1.25rem !important; }
h1 { font-size: 3rem !important; }
[data-testid="stMetricValue"] { font-size: 4rem !important; }
</style>
"""


@dataclass(frozen=True)
class Settings:
    seed: int
    presenter: bool


@st.cache_resource
def result_store() -> ResultStore:
    """One store per server: trained networks, maps and reports, shared by every session. Created with
    the server's first visit, which also warms up the CPU kernels in the background."""
    threading.Thread(target=warm_up, args=(ShortcutConfig().model_config,), daemon=True).start()
    return ResultStore(max_items=48)


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
    """Page config, torch threads, navigation and the shared sidebar (seed, presenter mode)."""
    st.set_page_config(page_title=f"{title} · NetLens", page_icon=icon, layout="wide")
    configure_torch()
    prepare_widget("netlens_seed", 0, 0, 999_999)
    prepare_widget("netlens_presenter", 0, 0, 1)
    st.session_state["netlens_presenter"] = bool(st.session_state["netlens_presenter"])  # a toggle wants a bool
    with st.sidebar:
        st.page_link("streamlit_app.py", label="NetLens home", icon=":material/home:")
        for lesson in SYLLABUS:
            if lesson.page is not None:
                st.page_link(lesson.page, label=lesson.title)
        st.divider()
        seed = st.number_input("Seed (the same seed gives everyone the same results)", 0, 999_999, step=1,
                               key="netlens_seed", on_change=keep, args=("netlens_seed",))
        presenter = st.toggle("Presenter mode (large type)", key="netlens_presenter", on_change=keep,
                              args=("netlens_presenter",))
    remember({"netlens_seed": int(seed)})
    remember({"netlens_presenter": int(presenter)}, in_url=False)
    if presenter:
        st.markdown(PRESENTER_CSS, unsafe_allow_html=True)
    return Settings(seed=int(seed), presenter=bool(presenter))
