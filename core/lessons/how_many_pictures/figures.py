"""Plotly figure for the "how many pictures?" lesson: the learning curves with their spread over seeds."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from core.figures import FONT, PALETTE
from core.lessons.how_many_pictures.experiment import CURVE_NAMES, CURVES, Point, band
from core.overlay import overlay

COLOURS: dict[str, str] = {"coarse": PALETTE[4], "fine": PALETTE[5], "transfer": PALETTE[2]}
DASHES: dict[str, str] = {"coarse": "solid", "fine": "solid", "transfer": "dash"}


def _fill(colour: str, alpha: float = 0.18) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def learning_curves(points: Sequence[Point], sizes: Sequence[int], seeds: int, target: float,
                    curves: Sequence[str] = CURVES, height: int = 430) -> go.Figure:
    """Right answers on each task's test pictures (%) against pictures of each class (log axis): per curve its
    mean over the seeds finished so far (line and dots) and the band from the worst to the best seed."""
    figure = go.Figure()
    for curve in curves:
        curve_band = band(points, curve)
        colour = COLOURS[curve]
        if not curve_band.sizes:  # no point yet: an empty trace keeps the legend complete from the start
            figure.add_trace(go.Scatter(x=[], y=[], mode="lines+markers", name=CURVE_NAMES[curve],
                                        line=dict(color=colour, dash=DASHES[curve], width=3)))
            continue
        x = list(curve_band.sizes)
        if len(x) > 1:
            figure.add_trace(go.Scatter(
                x=x + x[::-1], y=[100 * v for v in curve_band.high] + [100 * v for v in curve_band.low[::-1]],
                mode="lines", fill="toself", fillcolor=_fill(colour), line=dict(width=0), hoverinfo="skip",
                showlegend=False,
                name=f"{CURVE_NAMES[curve]}: spread"))
        figure.add_trace(go.Scatter(
            x=x, y=[100 * v for v in curve_band.mean], mode="lines+markers", name=CURVE_NAMES[curve],
            line=dict(color=colour, dash=DASHES[curve], width=3), marker=dict(size=9),
            customdata=np.column_stack([[100 * v for v in curve_band.low], [100 * v for v in curve_band.high],
                                        curve_band.counts]),
            hovertemplate=(f"{CURVE_NAMES[curve]}<br>%{{x:,}} pictures of each: %{{y:.0f}}% right"
                           "<br>seeds from %{customdata[0]:.0f}% to %{customdata[1]:.0f}% (%{customdata[2]} of "
                           f"{seeds})<extra></extra>"),
        ))
    figure.add_hline(y=100 * target, line_dash="dot", line_color="#555",
                     annotation_text=f"target {target:.0%}", annotation_position="top left")
    figure.add_hline(y=50, line_dash="dot", line_color="#aaa", annotation_text="guessing",
                     annotation_position="top right")
    low, high = math.log10(min(sizes)) - 0.08, math.log10(max(sizes)) + 0.08
    figure.update_xaxes(type="log", range=[low, high], tickvals=list(sizes), ticktext=[f"{s:,}" for s in sizes],
                        title_text="pictures of each class it learned from (log scale)", showgrid=True,
                        gridcolor="#eee")
    figure.update_yaxes(range=[40, 101], ticksuffix="%", title_text="right on new pictures", showgrid=True,
                        gridcolor="#eee")
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), font=FONT, plot_bgcolor="white",
                         legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0.0))
    return figure


def map_tiles(images: np.ndarray, maps: np.ndarray, scale: float, zoom: int = 4) -> list[np.ndarray]:
    """Each (H, W) map over its picture, enlarged, at one shared full-strength `scale`."""
    return [overlay(image, attribution, scale=scale, zoom=zoom) for image, attribution in zip(images, maps)]


def outline(image: np.ndarray, mask: np.ndarray, zoom: int = 4) -> np.ndarray:
    """(H, W, 3) picture enlarged with the pixels of `mask` (H, W) outlined in black and white: 'here'."""
    from core.overlay import enlarge

    big = enlarge(image, zoom).copy()
    grown = np.kron(mask.astype(np.uint8), np.ones((zoom, zoom), dtype=np.uint8)).astype(bool)
    edge = grown & ~(np.roll(grown, 1, 0) & np.roll(grown, -1, 0) & np.roll(grown, 1, 1) & np.roll(grown, -1, 1))
    big[edge] = (255, 255, 255)
    thick = edge | np.roll(edge, 1, 0) | np.roll(edge, 1, 1)
    big[thick & ~edge] = (0, 0, 0)
    return big
