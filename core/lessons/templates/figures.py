"""Figures for the "programs as templates" lesson: the race, the detectors' weights, strips of pictures."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures import FONT, PALETTE
from core.overlay import AGAINST_COLOUR, FOR_COLOUR
from core.lessons.templates.experiment import Program, Search, detector_images

SEARCHER_COLOURS = {"random": PALETTE[7], "hill": PALETTE[0], "gradient": PALETTE[4]}
SEARCHER_DASHES = {"random": "dot", "hill": "dash", "gradient": "solid"}


def _rgb(colour: np.ndarray) -> str:
    return f"rgb({int(colour[0])},{int(colour[1])},{int(colour[2])})"


# The maps' colours (core.overlay): blue = lowers, light grey = nothing, orange = raises.
WEIGHT_SCALE = [[0.0, _rgb(AGAINST_COLOUR)], [0.5, "rgb(235,235,235)"], [1.0, _rgb(FOR_COLOUR)]]


def race_chart(searches: Sequence[Search], marker: int | None = None, height: int = 320) -> go.Figure:
    """Mistakes on the practice pictures (%) against programs tried, one line per searcher; a dotted line at
    50 % (guessing) and, if `marker` is given, a vertical line at that many programs tried."""
    if not searches:
        raise ValueError("no searches to draw")
    figure = go.Figure()
    for search in searches:
        figure.add_trace(go.Scatter(
            x=list(search.tried), y=[100 * value for value in search.error], mode="lines", name=search.name,
            line=dict(color=SEARCHER_COLOURS[search.searcher], width=3, dash=SEARCHER_DASHES[search.searcher]),
            hovertemplate=f"{search.name}<br>%{{x:,}} programs tried: %{{y:.1f}}% wrong<extra></extra>",
        ))
    budget = max(search.tried[-1] for search in searches)
    figure.add_hline(y=50, line_dash="dot", line_color="#999", annotation_text="guessing",
                     annotation_position="bottom right", annotation_font_color="#777")
    if marker is not None:
        figure.add_vline(x=marker, line_color="#555", line_width=1)
    figure.update_layout(
        height=height, margin=dict(l=10, r=10, t=40, b=10), font=FONT, plot_bgcolor="white",
        title=dict(text="<b>Mistakes on the practice pictures</b>", font=dict(size=16)),
        legend=dict(orientation="h", yanchor="top", y=0.99, xanchor="right", x=0.99, bgcolor="rgba(255,255,255,0.8)"),
    )
    figure.update_xaxes(title_text="programs tried (each one run on every practice picture)", range=[0, budget * 1.01],
                        showgrid=True, gridcolor="#eee", rangemode="tozero")
    ticks = [0, 10, 20, 30, 40, 50]
    figure.update_yaxes(title_text="practice pictures wrong", range=[-2, 72], tickvals=ticks,
                        ticktext=[f"{tick}%" for tick in ticks], showgrid=True, gridcolor="#eee")
    return figure


def weight_scale(programs: Sequence[Program]) -> float:
    """One colour scale for a run of snapshots: the 99th percentile of |weight| over all of them (never 0), so
    weights visibly grow as the search goes on."""
    values = np.concatenate([np.abs(program.hidden).ravel() for program in programs]) if programs else np.zeros(1)
    scale = float(np.percentile(values, 99))
    return scale if scale > 0 else 1.0


def detector_heatmaps(program: Program, scale: float | None = None, height: int = 250) -> go.Figure:
    """Each detector's weights as a picture (one panel per detector, same colour scale), titled with the answer it
    votes for and how much its total counts in the score; a colour bar says what the colours mean."""
    images = detector_images(program)
    scale = scale or weight_scale([program])
    titles = []
    for index, weight in enumerate(program.out):
        towards = "face" if weight > 0 else "not face"
        titles.append(f"<b>detector_{index + 1}</b><br>{towards} ×{abs(weight):.1f}")
    figure = make_subplots(rows=1, cols=len(images), subplot_titles=titles, horizontal_spacing=0.04)
    for index, image in enumerate(images, start=1):
        figure.add_trace(go.Heatmap(
            z=image, zmin=-scale, zmax=scale, colorscale=WEIGHT_SCALE, showscale=index == 1,
            colorbar=dict(title=dict(text="a dark pixel here", side="right"), tickvals=[-scale, 0, scale],
                          ticktext=["lowers it", "no effect", "raises it"], len=1.0, thickness=14),
            hovertemplate="dark[%{y}][%{x}]: weight %{z:.2f}<extra></extra>",
        ), row=1, col=index)
        figure.update_xaxes(showticklabels=False, constrain="domain", row=1, col=index)
        figure.update_yaxes(showticklabels=False, autorange="reversed", scaleanchor=f"x{index if index > 1 else ''}",
                            constrain="domain", row=1, col=index)
    figure.update_annotations(font_size=13)
    figure.update_layout(height=height, margin=dict(l=5, r=5, t=50, b=5), font=FONT, plot_bgcolor="white")
    return figure


def picture_strip(images: np.ndarray, zoom: int = 6, gap: int = 2) -> np.ndarray:
    """Darkness pictures (N, S, S) side by side as one (S·zoom, N·(S·zoom + gap) − gap) uint8 greyscale image."""
    if images.ndim != 3 or not len(images):
        raise ValueError(f"expected pictures shaped (N, S, S), got {images.shape}")
    tiles = [np.kron(1.0 - image, np.ones((zoom, zoom))) for image in images]  # darkness 1 → black
    height = tiles[0].shape[0]
    spacer = np.ones((height, gap))
    row = np.concatenate([part for tile in tiles for part in (tile, spacer)][:-1], axis=1)
    return np.clip(np.rint(row * 255), 0, 255).astype(np.uint8)
