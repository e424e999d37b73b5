"""Preparing a lesson (issue 9): every reachable setting computed once into the cache, found again after a restart
(a new server process reading the same folder), recomputed when an entry is damaged; the page then answers the
prepared link without training."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.diskcache import FolderCache, content_version
from core.lesson import Entry, Lesson
from core.lessons import lesson
from core.lessons.bunnies.entries import EXTRA_OPTIONS, GRASS_RATES, PICTURE_OPTIONS, reachable
from core.lessons.bunnies.experiment import BunniesSettings
from core.prepare import missing, prepare
from core.store import Cache


@dataclass(frozen=True)
class ToySettings:
    size: int = 3


def _toy(calls: list) -> Lesson:  # type: ignore[type-arg]
    """A lesson of 4 settings, each a training (a sum) then a result derived from it."""
    def chains(seed: int) -> list[list[Entry]]:
        def train(size: int):  # type: ignore[no-untyped-def]
            def make(on_progress, earlier):  # type: ignore[no-untyped-def]
                calls.append(("train", size))
                return {"total": sum(range(size + seed))}  # plain values: only core's classes go to disk
            return make

        return [[Entry("training", ("net", size, seed), train(size)),
                 Entry("results", ("double", size, seed), lambda on_progress, earlier: 2 * earlier[0]["total"])]
                for size in range(1, 5)]

    return Lesson(id="toy", title="Toy", idea="sums", page="pages/toy.py", icon="🧮", settings=ToySettings,
                  steps=("one",), run=lambda settings, on_progress: None, report=lambda result: {},
                  prepare=chains)


def test_prepare_fills_the_cache_once_and_a_restarted_server_finds_it(tmp_path: Path):
    """Test whether preparing computes every entry once, a second prepare computes nothing, and a new Cache on
    the same folder (a restarted server) has every result without computing."""
    calls: list = []  # type: ignore[type-arg]
    toy = _toy(calls)
    first = Cache(disk=FolderCache(tmp_path, 10_000_000), version="v1")
    assert missing(toy, 0, first) == (4, 4)
    done = prepare(toy, 0, first)
    assert (done.settings, done.made, done.found) == (4, 8, 0) and len(calls) == 4
    assert missing(toy, 0, first) == (0, 4)
    assert prepare(toy, 0, first).made == 0 and len(calls) == 4
    restarted = Cache(disk=FolderCache(tmp_path, 10_000_000), version="v1")
    assert restarted.store("toy", "results").get(("double", 4, 0)) == 12
    assert prepare(toy, 0, restarted).made == 0 and len(calls) == 4
    other_code = Cache(disk=FolderCache(tmp_path, 10_000_000), version="v2")  # the code changed: nothing trusted
    assert missing(toy, 0, other_code) == (4, 4)


def test_a_damaged_entry_is_recomputed_not_trusted(tmp_path: Path):
    """Test whether an entry truncated on disk reads as missing after a restart and prepare computes it again."""
    calls: list = []  # type: ignore[type-arg]
    toy = _toy(calls)
    folder = FolderCache(tmp_path, 10_000_000)
    prepare(toy, 0, Cache(disk=folder, version="v1"))
    store = Cache(disk=folder, version="v1").store("toy", "training")
    damaged = folder.path(store.persistent.name(("net", 2, 0)))  # type: ignore[union-attr]
    damaged.write_bytes(damaged.read_bytes()[:20])
    restarted = Cache(disk=FolderCache(tmp_path, 10_000_000), version="v1")
    assert restarted.store("toy", "training").get(("net", 2, 0)) is None
    assert prepare(toy, 0, restarted).made == 1 and calls[-1] == ("train", 2)


def test_a_lesson_without_prepare_says_so_in_one_line():
    """Test whether preparing a lesson that declares no reachable settings raises one plain ValueError."""
    toy = dataclasses.replace(_toy([]), prepare=None)
    with pytest.raises(ValueError, match="cannot be prepared yet"):
        prepare(toy, 0, Cache())


def test_the_flagship_can_reach_every_slider_position_with_and_without_extra_pictures():
    """Test whether the flagship's reachable settings are every grass rate (50–100 % in 5s) × picture count, with no
    extra pictures and with each choice, once each, the page's default first."""
    settings = reachable(3)
    assert len(settings) == len(GRASS_RATES) * len(PICTURE_OPTIONS) * (1 + len(EXTRA_OPTIONS)) == 176
    assert len(set(settings)) == 176 and all(item.seed == 3 for item in settings)
    assert settings[0] == BunniesSettings(seed=3)
    assert {item.grass_rate for item in settings} == {rate / 100 for rate in range(50, 101, 5)}
    assert {item.extra_pictures for item in settings} == {0, *EXTRA_OPTIONS}


def test_a_prepared_flagship_link_is_answered_from_disk_by_the_page(tmp_path: Path, monkeypatch):
    """Test whether, after `prepare` of the default setting into a folder, a fresh server (the page, through its
    own cache) shows that link's results without training: the training time on screen is the prepared one."""
    from tests.pages.apptest import open_app
    from pages.shared import layout

    folder = FolderCache(tmp_path, 200_000_000)
    flagship = lesson("bunnies")
    prepared = prepare(flagship, 0, Cache(disk=folder, version=content_version()), limit=1)
    assert prepared.made == 3
    trained = Cache(disk=folder, version=content_version()).store("bunnies", "training").get(BunniesSettings())
    monkeypatch.setenv("NETLENS_CACHE", "folder")
    monkeypatch.setenv("NETLENS_CACHE_DIR", str(tmp_path))
    layout._cache.clear()
    try:
        app = open_app("pages/1_Bunnies_and_grass.py", bunnies_trained="1")
        assert not app.exception
        captions = [element.value for element in app.caption]
        assert f"Trained in {trained.seconds:.1f} s on" in " ".join(captions)  # type: ignore[union-attr]
        assert layout.cache().store("bunnies", "training").job(BunniesSettings()) is None
    finally:
        layout._cache.clear()
