"""What the bunnies page keeps in the server's stores, under which keys — shared with `netlens prepare`, so a
lesson prepared from the command line is answered from the cache by the page.

Kinds (core.store.KINDS): "pictures" (drawn per data key, never on disk), "training" (the network, per training
settings), "results" (its scores and its evidence report). `reachable(seed)` lists every setting the page's
controls can reach at one seed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Hashable

from core.lesson import Entry
from core.lessons.bunnies.experiment import BunniesData, BunniesSettings, evaluate, evidence_report, make_data, \
    train_model

# The page's controls: grass slider 50–100 % in steps of 5, pictures, and the "more pictures" step's choices.
GRASS_RATES: tuple[float, ...] = tuple(rate / 100 for rate in range(50, 101, 5))
PICTURE_OPTIONS: tuple[int, ...] = (500, 1000, 2000, 4000)
EXTRA_OPTIONS: tuple[int, ...] = (250, 500, 1000)


def scores_key(network: Hashable) -> tuple:
    return ("scores", network)


def evidence_key(network: Hashable, methods: tuple[str, ...]) -> tuple:
    return ("evidence", network, methods)


def reachable(seed: int) -> list[BunniesSettings]:
    """Every network the page can show at `seed`: each grass rate × picture count, without extra pictures and
    with each choice of extra pictures (what "show it more pictures" trains). The default screen's first."""
    plain = [BunniesSettings(grass_rate=rate, num_train=count, seed=seed)
             for rate in sorted(GRASS_RATES, key=lambda rate: rate != 1.0) for count in
             sorted(PICTURE_OPTIONS, key=lambda count: count != 2000)]
    return plain + [replace(settings, extra_pictures=extra) for settings in plain for extra in EXTRA_OPTIONS]


def entries(settings: BunniesSettings, data: Callable[[], BunniesData] | None = None) -> list[Entry]:
    """The page's stored results for `settings` (its training, scores and evidence), in the order they depend on
    each other. `data()` gives the pictures (default: drawn once, on first use)."""
    drawn: list[BunniesData] = []

    def pictures() -> BunniesData:
        if not drawn:
            drawn.append(data() if data is not None else make_data(settings))
        return drawn[0]

    network = settings.training_key()
    return [
        Entry("training", network, lambda on_progress, earlier: train_model(settings, pictures(), on_progress)),
        Entry("results", scores_key(network), lambda on_progress, earlier: evaluate(earlier[0].model(), pictures())),
        Entry("results", evidence_key(network, settings.methods),
              lambda on_progress, earlier: evidence_report(earlier[0].model(), pictures(), settings.seed,
                                                           settings.methods, on_progress)),
    ]


def prepare(seed: int) -> list[list[Entry]]:
    """For `netlens prepare bunnies`: every reachable setting's stored results."""
    return [entries(settings) for settings in reachable(seed)]
