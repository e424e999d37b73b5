"""Plotly figures for the house-price lesson."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.figures import PALETTE, _layout


def predicted_vs_actual(predicted: np.ndarray, actual: np.ndarray) -> go.Figure:
    """Each sale as a dot: the formula's price against the real one; on the diagonal the formula is exact."""
    low, high = float(min(actual.min(), 0)), float(actual.max() * 1.1)
    figure = go.Figure()
    figure.add_scatter(x=[low, high], y=[low, high], mode="lines", name="formula exactly right",
                       line=dict(color="#999", dash="dot"))
    figure.add_scatter(x=actual, y=np.clip(predicted, low - high, 2 * high), mode="markers", name="a sold house",
                       marker=dict(color=PALETTE[4], size=7, opacity=0.7))
    _layout(figure, "The formula's price against the real price", height=360)
    figure.update_xaxes(title="real price (thousand $)", range=[low, high])
    figure.update_yaxes(title="formula's price (thousand $)", range=[low, high])
    return figure


def error_curve(typical_errors: np.ndarray, best: float) -> go.Figure:
    """How wrong the formula is (typical error, k$) after each nudge, on a log scale."""
    shown = np.where(np.isfinite(typical_errors), typical_errors, np.nan)
    figure = go.Figure(go.Scatter(x=np.arange(len(shown)), y=shown, mode="lines+markers", name="typical error",
                                  line=dict(color=PALETTE[5], width=3), marker=dict(size=4)))
    figure.add_hline(y=best, line_dash="dot", line_color="#999", annotation_text="best possible",
                     annotation_position="bottom right")
    _layout(figure, "How wrong it is, nudge after nudge", height=360)
    figure.update_xaxes(title="nudges")
    figure.update_yaxes(title="typical error (thousand $)", type="log")
    return figure


def error_landscape(first_values: np.ndarray, second_values: np.ndarray, errors: np.ndarray,
                    path: np.ndarray, first_name: str, second_name: str) -> go.Figure:
    """Contours of the error over two knobs, with the path the nudges took (white line, last point ringed)."""
    figure = go.Figure(go.Contour(x=first_values, y=second_values, z=np.sqrt(errors), colorscale="Cividis",
                                  contours=dict(coloring="heatmap", showlabels=True),
                                  colorbar=dict(title="typical<br>error (k$)")))
    inside = path[np.all(np.isfinite(path), axis=1)]
    figure.add_scatter(x=inside[:, 0], y=inside[:, 1], mode="lines+markers", name="the nudges' path",
                       line=dict(color="white", width=2), marker=dict(size=4, color="white"))
    if len(inside):
        figure.add_scatter(x=inside[-1:, 0], y=inside[-1:, 1], mode="markers", name="now",
                           marker=dict(size=14, color="rgba(0,0,0,0)", line=dict(color="#D55E00", width=3)))
    _layout(figure, "The error landscape: white line = the nudges, ring = now", height=360)
    figure.update_layout(showlegend=False)
    figure.update_xaxes(title=first_name, range=[first_values[0], first_values[-1]])
    figure.update_yaxes(title=second_name, range=[second_values[0], second_values[-1]])
    return figure
