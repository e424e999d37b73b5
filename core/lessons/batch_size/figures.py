"""Plotly figures for the batch-size lesson: one learning curve per batch size side by side, and the cost."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures import FONT, PALETTE
from core.lessons.batch_size.experiment import Run, per_nudge

CURVE_HEIGHT = 330


def colour(index: int) -> str:
    return PALETTE[[4, 5, 2, 0, 3, 1, 7, 6][index % 8]]


def learning_curves(runs: Sequence[Run], height: int = CURVE_HEIGHT) -> go.Figure:
    """One panel per batch size, side by side, same axes: right answers on new pictures (%) against
    pictures seen. Small batches give jagged curves, the whole set a smooth but short one."""
    if not runs:
        raise ValueError("no runs to draw")
    titles = [f"<b>{per_nudge(run)}</b><br>{run.nudges_per_pass:,} nudge{'s' if run.nudges_per_pass != 1 else ''} "
              f"per pass" for run in runs]
    figure = make_subplots(rows=1, cols=len(runs), shared_yaxes=True, subplot_titles=titles,
                           horizontal_spacing=0.03 if len(runs) > 4 else 0.045)
    budget = max(run.examples_seen for run in runs)
    for index, run in enumerate(runs, start=1):
        few = len(run.seen) <= 12
        figure.add_trace(
            go.Scatter(
                x=list(run.seen), y=[100 * value for value in run.accuracy], mode="lines+markers" if few else "lines",
                line=dict(color=colour(index - 1), width=3 if few else 2), marker=dict(size=8),
                name=per_nudge(run), showlegend=False,
                hovertemplate="%{x:,} pictures seen: %{y:.0f}% right<extra></extra>",
            ),
            row=1, col=index,
        )
        figure.add_hline(y=50, line_dash="dot", line_color="#999", row=1, col=index)
        figure.update_xaxes(range=[0, budget * 1.03], nticks=3, tickformat="~s", row=1, col=index, showgrid=True,
                            gridcolor="#eee")
    figure.update_yaxes(range=[30, 100], showgrid=True, gridcolor="#eee", ticksuffix="%")
    figure.update_yaxes(title_text="right on new pictures", row=1, col=1)
    figure.add_annotation(text="pictures seen so far (the same budget for every panel) — dotted line: guessing",
                          xref="paper", yref="paper", x=0.5, y=-0.2, showarrow=False, font=dict(size=14, color="#444"))
    figure.update_annotations(font_size=14, selector=dict(yref="paper", y=1.0))
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=60, b=55), font=FONT, plot_bgcolor="white")
    return figure


def cost_bars(runs: Sequence[Run], height: int = 260) -> go.Figure:
    """Two small bar charts side by side: seconds spent nudging, and right answers on new pictures at the end."""
    if not runs:
        raise ValueError("no runs to draw")
    labels = [run.label for run in runs]
    colours = [colour(index) for index in range(len(runs))]
    figure = make_subplots(rows=1, cols=2, subplot_titles=("<b>Seconds spent nudging</b>", "<b>Right on new pictures</b>"),
                           horizontal_spacing=0.12)
    figure.add_bar(x=labels, y=[run.seconds for run in runs], marker_color=colours, showlegend=False,
                   text=[f"{run.seconds:.2f} s" for run in runs], textposition="outside", cliponaxis=False,
                   hovertemplate="%{x} per nudge: %{y:.2f} s<extra></extra>", row=1, col=1)
    figure.add_bar(x=labels, y=[100 * run.final_accuracy for run in runs], marker_color=colours, showlegend=False,
                   text=[f"{100 * run.final_accuracy:.0f}%" for run in runs], textposition="outside", cliponaxis=False,
                   hovertemplate="%{x} per nudge: %{y:.0f}% right<extra></extra>", row=1, col=2)
    figure.add_hline(y=50, line_dash="dot", line_color="#999", row=1, col=2)
    figure.update_xaxes(type="category", title_text="pictures per nudge")
    figure.update_yaxes(showgrid=True, gridcolor="#eee")
    figure.update_yaxes(range=[0, 105], ticksuffix="%", row=1, col=2)
    figure.update_annotations(font_size=15)
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), font=FONT, plot_bgcolor="white")
    return figure
