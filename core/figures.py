"""Plotly figures for the lessons: learning curves, evidence per part, the background swap."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from core.scenes import PARTS
from core.training import Progress

# Okabe–Ito palette: distinguishable with the common forms of colour blindness.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442", "#000000")
FONT = dict(size=15)


def _layout(figure: go.Figure, title: str, height: int = 320) -> go.Figure:
    figure.update_layout(
        title=dict(text=title, font=dict(size=17)),
        height=height,
        margin=dict(l=10, r=10, t=50, b=10),
        font=FONT,
        legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0.0),
        plot_bgcolor="white",
    )
    figure.update_xaxes(showgrid=True, gridcolor="#eee")
    figure.update_yaxes(showgrid=True, gridcolor="#eee")
    return figure


def learning_curve(history: Sequence[Progress], total_passes: float | None = None) -> go.Figure:
    """Accuracy on the training pictures as training goes on (x: passes through the pictures)."""
    passes = [report.epoch for report in history]
    accuracy = [100 * report.accuracy for report in history]
    figure = go.Figure(go.Scatter(x=passes, y=accuracy, mode="lines+markers", name="right answers while learning",
                                  line=dict(color=PALETTE[4], width=3)))
    figure.add_hline(y=50, line_dash="dot", line_color="#999", annotation_text="guessing", annotation_position="bottom right")
    _layout(figure, "How often it is right while it learns")
    figure.update_yaxes(title="right answers (%)", range=[0, 102])
    figure.update_xaxes(title="times it has seen every picture", range=[0, total_passes] if total_passes else None)
    return figure


def evidence_by_part(
    shares: dict[str, Sequence[float]], names: dict[str, str], area: Sequence[float] | None = None
) -> go.Figure:
    """Grouped bars: for each part of the scene, the share of the evidence each method puts there (%),
    with the share of the picture the part covers as a reference."""
    figure = go.Figure()
    if area is not None:
        figure.add_bar(x=list(PARTS), y=[100 * value for value in area], name="share of the picture",
                       marker=dict(color="rgba(0,0,0,0)", line=dict(color="#444", width=2)))
    for index, (key, values) in enumerate(shares.items()):
        figure.add_bar(x=list(PARTS), y=[100 * value for value in values], name=names.get(key, key),
                       marker_color=PALETTE[index % len(PALETTE)])
    _layout(figure, "Where the evidence comes from", height=400)
    figure.update_yaxes(title="share of the evidence (%)")
    figure.update_layout(barmode="group", margin=dict(b=90))
    return figure


def background_swap(
    original: np.ndarray, swapped: np.ndarray, on_grass: np.ndarray, labels: np.ndarray, classes: Sequence[str]
) -> go.Figure:
    """Confidence in the right answer before and after swapping the ground, for each animal, on grass
    and off it. (N,) arrays; `labels` index `classes`."""
    groups = []
    for label, animal in enumerate(classes):
        animals = animal[:-1] + "ies" if animal.endswith("y") else animal + "s"
        groups.append((f"{animals}: grass → other ground", (labels == label) & on_grass))
        groups.append((f"{animals}: other ground → grass", (labels == label) & ~on_grass))
    groups = [(name, rows) for name, rows in groups if rows.any()]
    figure = go.Figure()
    for name, values, colour in (("original ground", original, PALETTE[2]), ("swapped ground", swapped, PALETTE[5])):
        figure.add_bar(y=[label for label, _ in groups], x=[100 * float(values[rows].mean()) for _, rows in groups],
                       name=name, marker_color=colour, orientation="h")
    _layout(figure, "Same animal, different ground", height=400)
    figure.update_xaxes(title="confidence in the right answer (%)", range=[0, 100])
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(barmode="group", margin=dict(b=90))
    return figure


def top_predictions(labels: Sequence[str], probabilities: Sequence[float], highlight: int | None = None) -> go.Figure:
    """Horizontal confidence bars, best at the top; the bar at position `highlight` stands out."""
    colours = [PALETTE[5] if index == highlight else PALETTE[4] for index in range(len(labels))]
    figure = go.Figure(go.Bar(x=[100 * p for p in probabilities], y=list(labels), orientation="h",
                              marker_color=colours, text=[f"{100 * p:.0f}%" for p in probabilities],
                              textposition="outside", cliponaxis=False))
    _layout(figure, "What the network thinks it is", height=300)
    figure.update_xaxes(title="confidence (%)", range=[0, 110])
    figure.update_yaxes(autorange="reversed")
    return figure


def deletion_curves(fractions: np.ndarray, by_map: np.ndarray, at_random: np.ndarray, method: str) -> go.Figure:
    """Confidence as more of the picture is removed: in the map's order and in random order."""
    figure = go.Figure()
    figure.add_scatter(x=100 * fractions, y=100 * by_map, mode="lines+markers", name=f"most important first ({method})",
                       line=dict(color=PALETTE[5], width=3))
    figure.add_scatter(x=100 * fractions, y=100 * at_random, mode="lines", name="random order",
                       line=dict(color="#777", width=2, dash="dash"))
    _layout(figure, "Remove what the map points at", height=340)
    figure.update_xaxes(title="share of the picture greyed out (%)", range=[0, 100])
    figure.update_yaxes(title="confidence (%)", range=[0, 100])
    return figure


def randomisation_similarity(layers: Sequence[str], similarity: np.ndarray) -> go.Figure:
    """How much the map still resembles the original as more of the network is scrambled."""
    figure = go.Figure(go.Scatter(x=list(range(1, len(layers) + 1)), y=list(similarity), mode="lines+markers",
                                  line=dict(color=PALETTE[4], width=3), text=list(layers),
                                  hovertemplate="%{text}<br>similarity %{y:.2f}<extra></extra>"))
    figure.add_hrect(y0=0.5, y1=1.05, fillcolor="#D55E00", opacity=0.08, line_width=0,
                     annotation_text="still the same map: suspicious", annotation_position="top left")
    _layout(figure, "Scramble the network, redraw the map", height=340)
    figure.update_xaxes(title="layers scrambled (from the output backwards)", dtick=1)
    figure.update_yaxes(title="similarity to the original map", range=[-0.2, 1.05])
    return figure
