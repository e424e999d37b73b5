"""Is the lesson's headline figure true? A graded sweep that measures every method against the background swap.

Networks are trained at grass rates from 0.5 (no pattern) to 1.0 (grass behind every bunny), with several seeds.
For each network the swap measures how much it really leans on grass (`reliance`: the confidence change when
only the ground changes) and every method's maps give their grass share. A method tells the truth when its grass
shares rank the networks as the swap does: Spearman's rank correlation over the sweep. The same sweep calibrates
the map's verdict threshold ("leans on grass") against the swap's ("relies on grass").

The rates crowd towards 1.0 on purpose: below 0.8 every network measured relied on grass by less than 0.11 (its
seeds' noise), so ranking those networks ranks noise; between 0.9 and 1.0 reliance climbs from ~0.2 to 1.
`netlens truth` runs the whole sweep (21 networks, a few minutes); the tests run a smaller one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from core.fit import Progress, ProgressCallback
from core.lessons.bunnies.experiment import (
    ALL_METHODS,
    HEADLINE_METHOD,
    MAP_MARGINS,
    RELIANCE_THRESHOLD,
    BunniesSettings,
    evidence_report,
    make_data,
    train_model,
)
from core.trust import rank_correlation

SWEEP_RATES: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.97, 0.99, 1.0)
SWEEP_SEEDS: tuple[int, ...] = (0, 1, 2)
MARGINS: tuple[float, ...] = tuple(round(0.01 * step, 2) for step in range(-30, 31))  # candidate margins, ±0.30


@dataclass(frozen=True)
class SweepPoint:
    """One trained network of the sweep: what the swap measured and what each method's maps said."""

    grass_rate: float
    seed: int
    reliance: float  # the background swap's mean confidence change, 0..1
    grass_area: float  # mean share of the evidence pictures' pixels that are grass
    grass_share: dict[str, float]  # method → mean share of the positive evidence on grass

    @property
    def relies_on_grass(self) -> bool:
        return self.reliance > RELIANCE_THRESHOLD


def sweep_point(settings: BunniesSettings, methods: Sequence[str] = ALL_METHODS) -> SweepPoint:
    """Draw, train and measure one network of the sweep with the lesson's own functions."""
    data = make_data(settings)
    model = train_model(settings, data).model()
    report = evidence_report(model, data, settings.seed, methods)
    area = next(iter(report.methods.values())).grass_area
    return SweepPoint(settings.grass_rate, settings.seed, report.swap.reliance, area,
                      {key: item.grass_share for key, item in report.methods.items()})


def sweep(rates: Sequence[float] = SWEEP_RATES, seeds: Sequence[int] = SWEEP_SEEDS,
          base: BunniesSettings = BunniesSettings(), methods: Sequence[str] = ALL_METHODS,
          on_progress: ProgressCallback | None = None) -> list[SweepPoint]:
    """One network per grass rate and seed (the lesson's default settings otherwise), in that order."""
    jobs = [(rate, seed) for seed in seeds for rate in rates]
    points = []
    for index, (rate, seed) in enumerate(jobs):
        if on_progress is not None:
            on_progress(Progress(index, len(jobs), stage=f"Training and measuring: grass {rate:.0%}, seed {seed}",
                                 unit="networks"))
        points.append(sweep_point(replace(base, grass_rate=rate, seed=seed), methods))
    if on_progress is not None:
        on_progress(Progress(len(jobs), len(jobs), stage="Sweep done", unit="networks"))
    return points


def spearman(points: Sequence[SweepPoint], method: str) -> float:
    """Spearman's rank correlation between the method's grass shares and the swap's reliance over the sweep."""
    if len(points) < 3:
        raise ValueError(f"a rank correlation needs at least 3 networks, got {len(points)}")
    return rank_correlation(np.array([point.grass_share[method] for point in points]),
                            np.array([point.reliance for point in points]))


def agreement(points: Sequence[SweepPoint], method: str, margin: float | None = None) -> float:
    """Share of the networks on which the method's verdict (grass share above grass's area + `margin`, default the
    page's margin for that method) is the swap's verdict (reliance above RELIANCE_THRESHOLD)."""
    margin = MAP_MARGINS[method] if margin is None else margin
    same = [(point.grass_share[method] > point.grass_area + margin) == point.relies_on_grass for point in points]
    return float(np.mean(same))


def calibrate_margin(points: Sequence[SweepPoint], method: str, margins: Sequence[float] = MARGINS) -> float:
    """The map margin (from `margins`) at which the method's verdicts agree with the swap on the most networks;
    of several equally good margins, the middle one (furthest from both kinds of mistake)."""
    scores = [agreement(points, method, margin) for margin in margins]
    best = [margin for margin, score in zip(margins, scores) if score == max(scores)]
    return float(best[len(best) // 2])


def truth_table(points: Sequence[SweepPoint]) -> dict:
    """Per method: Spearman with reliance, agreement at the page's margin, the calibrated margin and its agreement;
    plus the sweep itself (JSON-ready)."""
    methods = list(points[0].grass_share)
    table = {}
    for method in methods:
        margin = calibrate_margin(points, method)
        table[method] = {
            "spearman_with_reliance": round(spearman(points, method), 4),
            "page_margin": MAP_MARGINS[method],
            "agreement_at_page_margin": round(agreement(points, method), 4),
            "calibrated_margin": margin,
            "agreement_at_calibrated_margin": round(agreement(points, method, margin), 4),
        }
    return {
        "headline_method": HEADLINE_METHOD,
        "reliance_threshold": RELIANCE_THRESHOLD,
        "rates": sorted({point.grass_rate for point in points}),
        "seeds": sorted({point.seed for point in points}),
        "methods": table,
        "networks": [
            {"grass_rate": point.grass_rate, "seed": point.seed, "reliance": round(point.reliance, 4),
             "grass_area": round(point.grass_area, 4),
             "grass_share": {key: round(value, 4) for key, value in point.grass_share.items()}}
            for point in points
        ],
    }


def table_text(table: dict) -> str:
    """The truth table in a few plain lines (what `netlens truth` prints without --json)."""
    lines = [f"{len(table['networks'])} networks: grass rates {', '.join(f'{rate:g}' for rate in table['rates'])} "
             f"× seeds {', '.join(map(str, table['seeds']))}",
             f"{'method':14s} {'Spearman':>9s} {'page margin':>12s} {'agrees there':>13s} "
             f"{'best margin':>12s} {'agrees there':>13s}"]
    for method, row in sorted(table["methods"].items(), key=lambda item: -item[1]["spearman_with_reliance"]):
        mark = "  ← the page's headline" if method == table["headline_method"] else ""
        lines.append(f"{method:14s} {row['spearman_with_reliance']:9.2f} {row['page_margin']:+12.2f} "
                     f"{row['agreement_at_page_margin']:13.0%} "
                     f"{row['calibrated_margin']:+12.2f} {row['agreement_at_calibrated_margin']:13.0%}{mark}")
    return "\n".join(lines)
